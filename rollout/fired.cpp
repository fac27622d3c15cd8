#include "rollout/fired.hpp"

#include <string>
#include <vector>

namespace vane::rollout {
namespace {

using config::Trigger;
using K = Event::Kind;

std::string run_name(const config::Rollout& spec, AnalysisKind kind, uint32_t step,
                     uint32_t run) {
  switch (kind) {
    case AnalysisKind::Experiment: {
      const auto& steps = spec.canary ? spec.canary->steps : std::vector<config::Step>{};
      if (step >= steps.size() || run >= steps[step].experiment.analyses.size()) {
        return "experiment analysis of step " + std::to_string(step);
      }
      const config::ExperimentStep& e = steps[step].experiment;
      return "analysis " + e.analyses[run].name + " of experiment " + e.name;
    }
    case AnalysisKind::Step: return "analysis of step " + std::to_string(step);
    case AnalysisKind::Background: return "background analysis";
    case AnalysisKind::PrePromotion: return "prePromotionAnalysis";
    case AnalysisKind::PostPromotion: return "postPromotionAnalysis";
  }
  return "analysis";
}

Trigger result_trigger(Event::AnalysisPhase phase) {
  switch (phase) {
    case Event::AnalysisPhase::Successful: return Trigger::AnalysisRunSuccessful;
    case Event::AnalysisPhase::Failed: return Trigger::AnalysisRunFailed;
    case Event::AnalysisPhase::Error: return Trigger::AnalysisRunError;
    case Event::AnalysisPhase::Inconclusive: return Trigger::AnalysisRunInconclusive;
  }
  return Trigger::AnalysisRunError;
}

/// A step run's result for another step than the current one: the machine ignores it.
bool stale(const RolloutState& before, const Event& event) {
  return event.analysis == AnalysisKind::Step && event.step_index &&
         *event.step_index != before.step_index;
}

}  // namespace

std::vector<Fired> fired_by(const config::Rollout& spec, const RolloutState& before,
                            const Event& event, const Transition& after) {
  const RolloutState& s = after.state;
  std::vector<Fired> out;
  auto fire = [&out](Trigger trigger, std::string message) {
    out.push_back(Fired{trigger, std::move(message)});
  };

  if (event.kind == K::Promote) fire(Trigger::RolloutPromoted, "promoted");
  if (event.kind == K::PromoteFull) fire(Trigger::RolloutPromoted, "promoted fully: the steps left are skipped");
  if (event.kind == K::Retry) fire(Trigger::RolloutRetried, "retried");
  if (event.kind == K::AnalysisDone && !stale(before, event)) {
    const uint32_t step = event.step_index.value_or(before.step_index);
    std::string message =
        run_name(spec, event.analysis, step, event.run) + " " + std::string(to_string(event.analysis_phase));
    if (!event.message.empty()) message += ": " + event.message;
    fire(result_trigger(event.analysis_phase), std::move(message));
  }

  // A changed desired version starts a rollout (or, back to stable, drops the canary).
  const bool updated = event.kind == K::DesiredChanged && s.canary != before.canary;
  if (updated) {
    fire(Trigger::RolloutUpdated, s.canary.empty() ? s.message
                                                   : "rollout of " + s.canary + " started; " +
                                                         s.stable + " is stable");
  }
  if (before.phase == Phase::Paused && s.phase != Phase::Paused && !s.aborted) {
    fire(Trigger::RolloutResumed, "resumed");
  }
  // The canary became the stable version (a desired change back to stable is an update).
  const bool completed = !before.canary.empty() && s.canary.empty() && s.phase == Phase::Healthy &&
                         !s.aborted && event.kind != K::DesiredChanged;
  // Steps completed in this transition (a full promotion skips them: they are not completed;
  // a dropped canary completed none).
  if (event.kind != K::PromoteFull && !s.aborted && spec.canary && (!s.canary.empty() || completed)) {
    const uint32_t steps = static_cast<uint32_t>(spec.canary->steps.size());
    const bool same_attempt = !updated && !before.aborted;
    for (uint32_t i = same_attempt ? before.step_index : 0; i < s.step_index && i < steps; ++i) {
      fire(Trigger::RolloutStepCompleted,
           "step " + std::to_string(i) + " of " + std::to_string(steps) + " completed");
    }
  }
  for (const Effect& effect : after.effects) {
    if (effect.kind == Effect::Kind::StartAnalysis) {
      fire(Trigger::AnalysisRunRunning, run_name(spec, effect.analysis, effect.step_index, effect.run) + " started");
    }
  }
  if (s.phase == Phase::Paused && before.phase != Phase::Paused) fire(Trigger::RolloutPaused, s.message);
  if (s.aborted && !before.aborted) fire(Trigger::RolloutAborted, s.message);
  if (completed) fire(Trigger::RolloutCompleted, s.message);
  return out;
}

}  // namespace vane::rollout
