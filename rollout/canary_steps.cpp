// The actions of the canary state machine (see rollout/state_machine.cpp for the table).
#include "rollout/canary_steps.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <string>

#include "config/duration.hpp"

namespace vane::rollout::canary {
namespace {

using Kind = config::Step::Kind;

std::string format_weight(uint32_t centi) {
  std::string text = std::to_string(centi / 100);
  const uint32_t fraction = centi % 100;
  if (fraction != 0) {
    text += '.';
    text += static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) text += static_cast<char>('0' + fraction % 10);
  }
  return text;
}

std::string analysis_running(const Context& c) {
  return "analysis step " + std::to_string(c.s.step_index) + " running";
}

void set(Context& c, Phase phase, std::string message) {
  c.s.phase = phase;
  c.s.message = std::move(message);
}

/// Starts this attempt's background run once the step index reaches startingStep.
void start_background_if_due(Context& c) {
  const auto& background = c.spec.canary->analysis;
  if (!background || c.s.background_analysis != AnalysisStatus::None) return;
  if (c.s.step_index < background->starting_step) return;
  c.s.background_analysis = AnalysisStatus::Running;
  emit_start(c, AnalysisKind::Background);
}

/// A setWeight step whose canary has no healthy endpoint: it waits, and the progress deadline
/// runs from the first time it waited (SPEC §4).
void wait_for_healthy(Context& c) {
  RolloutState& s = c.s;
  if (!s.waiting_since) s.waiting_since = c.now;
  const auto deadline = std::chrono::seconds{c.spec.progress_deadline_seconds};
  if (!s.deadline_exceeded && c.now - *s.waiting_since >= deadline) {
    s.deadline_exceeded = true;
    const std::string reason = "progress deadline exceeded: " + describe_current(c) +
                               " waited " + std::to_string(deadline.count()) +
                               "s for a healthy canary endpoint";
    if (c.spec.progress_deadline_abort) return abort_with(c, reason);
    return set(c, Phase::Degraded, reason + "; it resumes once the canary is healthy");
  }
  if (s.deadline_exceeded) return;  // still Degraded, message kept
  set(c, Phase::Progressing, describe_current(c) + ": waiting for a healthy canary endpoint");
}

void enter_pause(Context& c, const config::PauseStep& pause) {
  RolloutState& s = c.s;
  s.pause_reason = PauseReason::Step;
  s.paused_since = c.now;
  if (pause.duration) {
    s.pause_until = c.now + *pause.duration;
    const std::string until = format_time(*s.pause_until);
    set(c, Phase::Paused, "paused: " + describe_current(c) + " until " + until);
  } else {
    s.pause_until.reset();
    set(c, Phase::Paused, "paused: " + describe_current(c) + " until promoted");
  }
}

/// A gate step waits Progressing while it is polled; past its timeout (kept from the first time
/// it was entered, across restarts) it is Paused and still polled (SPEC §14).
void enter_gate(Context& c, const config::GateStep& gate) {
  RolloutState& s = c.s;
  if (!s.gate_step_deadline && gate.timeout_seconds) {
    s.gate_step_deadline = c.now + std::chrono::seconds{*gate.timeout_seconds};
  }
  const std::string where = " (step " + std::to_string(s.step_index) + ")";
  if (!s.gate_step_deadline || c.now < *s.gate_step_deadline) {
    return set(c, Phase::Progressing, "waiting on gate " + gate.name + where);
  }
  if (s.pause_reason == PauseReason::GateStep) return;  // already timed out
  s.pause_reason = PauseReason::GateStep;
  s.paused_since = c.now;
  s.pause_until.reset();
  set(c, Phase::Paused, "paused: gate " + gate.name + where + " timed out after " +
                            std::to_string(*gate.timeout_seconds) +
                            "s; still polled: a 2xx answer or promote opens it");
}

/// An experiment step (SPEC §14): its analyses start on entering it (its deadline too, kept
/// across restarts); it is done once its duration has passed and every analysis is Successful.
bool enter_experiment(Context& c, const config::ExperimentStep& e) {
  RolloutState& s = c.s;
  if (e.duration && !s.experiment_deadline) s.experiment_deadline = c.now + *e.duration;
  if (s.experiment_runs.size() != e.analyses.size()) {
    s.experiment_runs.assign(e.analyses.size(), AnalysisStatus::Running);
    for (uint32_t run = 0; run < e.analyses.size(); ++run) {
      c.effects.push_back(Effect{.kind = Effect::Kind::StartAnalysis,
                                 .analysis = AnalysisKind::Experiment,
                                 .step_index = s.step_index,
                                 .run = run});
    }
  }
  if (experiment_phase(s, c.now) == "Successful") return true;
  const bool running = std::any_of(s.experiment_runs.begin(), s.experiment_runs.end(),
                                   [](AnalysisStatus a) { return a == AnalysisStatus::Running; });
  std::string message = "experiment " + e.name + " (step " + std::to_string(s.step_index) +
                        ") running";
  if (!running && s.experiment_deadline) message += " until " + format_time(*s.experiment_deadline);
  set(c, Phase::Progressing, std::move(message));
  return false;
}

/// Enters the current step; true when it is done at once.
bool enter_step(Context& c, const config::Step& step) {
  switch (step.kind) {
    case Kind::SetWeight:
      if (c.env.canary_healthy) return true;
      wait_for_healthy(c);
      return false;
    case Kind::Pause:
      if (step.pause.duration && step.pause.duration->count() <= 0) return true;
      enter_pause(c, step.pause);
      return false;
    case Kind::Analysis:
      c.s.step_analysis = AnalysisStatus::Running;
      emit_start(c, AnalysisKind::Step);
      set(c, Phase::Progressing, analysis_running(c));
      return false;
    case Kind::Gate:
      enter_gate(c, step.gate);
      return false;
    case Kind::Experiment:
      return enter_experiment(c, step.experiment);
    case Kind::SetHeaderRoute:
    case Kind::SetMirrorRoute:
      return true;
  }
  return true;
}

}  // namespace

uint32_t step_count(const Context& c) { return static_cast<uint32_t>(c.steps.size()); }

const config::Step* current_step(const Context& c) {
  return c.s.step_index < c.steps.size() ? &c.steps[c.s.step_index] : nullptr;
}

bool at_step_of_kind(const Context& c, config::Step::Kind kind) {
  const config::Step* step = current_step(c);
  return step != nullptr && step->kind == kind;
}

std::string describe_step(const config::Step& step) {
  switch (step.kind) {
    case Kind::SetWeight:
      return "setWeight " + format_weight(step.weight_centi);
    case Kind::Pause:
      return step.pause.duration ? "pause " + config::format_duration(*step.pause.duration)
                                 : "pause";
    case Kind::Analysis:
      return "analysis";
    case Kind::SetHeaderRoute:
      return "setHeaderRoute " + step.header_route.name;
    case Kind::SetMirrorRoute:
      return "setMirrorRoute " + step.mirror_route.name;
    case Kind::Gate:
      return "gate " + step.gate.name;
    case Kind::Experiment:
      return "experiment " + step.experiment.name;
  }
  return "step";
}

std::string describe_current(const Context& c) {
  const config::Step* step = current_step(c);
  std::string text = "step " + std::to_string(c.s.step_index);
  return step ? text + " (" + describe_step(*step) + ")" : text;
}

void clear_pause(RolloutState& s) {
  s.pause_reason = PauseReason::None;
  s.paused_since.reset();
  s.pause_until.reset();
}

void clear_wait(RolloutState& s) {
  s.waiting_since.reset();
  s.deadline_exceeded = false;
}

/// Nothing of the attempt in progress survives: no pause, no wait, no analysis, no gate.
void reset_attempt(RolloutState& s) {
  clear_pause(s);
  clear_wait(s);
  s.gate_step_deadline.reset();
  s.experiment_deadline.reset();
  s.experiment_runs.clear();
  s.step_analysis = AnalysisStatus::None;
  s.background_analysis = AnalysisStatus::None;
}

void finish_step(Context& c) {
  clear_pause(c.s);
  clear_wait(c.s);
  c.s.gate_step_deadline.reset();
  const auto& runs = c.s.experiment_runs;
  if (std::find(runs.begin(), runs.end(), AnalysisStatus::Running) != runs.end()) {
    c.effects.push_back(Effect{.kind = Effect::Kind::TerminateAnalysis,
                               .analysis = AnalysisKind::Experiment,
                               .step_index = c.s.step_index});
  }
  c.s.experiment_deadline.reset();
  c.s.experiment_runs.clear();
  c.s.step_analysis = AnalysisStatus::None;
  ++c.s.step_index;
}

void run_steps(Context& c) {
  while (c.s.step_index < step_count(c)) {
    start_background_if_due(c);
    if (!enter_step(c, c.steps[c.s.step_index])) return;
    finish_step(c);
  }
  complete(c);
}

void start_attempt(Context& c) {
  RolloutState& s = c.s;
  s.step_index = 0;
  reset_attempt(s);
  run_steps(c);
}

void resume(Context& c) {
  clear_pause(c.s);
  if (at_step_of_kind(c, Kind::Analysis) && c.s.step_analysis == AnalysisStatus::Running) {
    return set(c, Phase::Progressing, analysis_running(c));
  }
  run_steps(c);
}

void hold_inconclusive(Context& c, const std::string& what) {
  RolloutState& s = c.s;
  if (s.phase != Phase::Paused || !s.paused_since) s.paused_since = c.now;
  s.pause_reason = PauseReason::Inconclusive;
  s.pause_until.reset();  // a timed pause step now waits for promote too
  clear_wait(s);
  set(c, Phase::Paused, "paused: " + what + "; promote to continue or abort");
}

void complete(Context& c) {
  terminate_all(c);
  RolloutState& s = c.s;
  s.previous_stable = s.stable;
  s.stable = s.canary;
  s.canary.clear();
  s.scale_down_at = c.now + std::chrono::seconds{c.spec.scale_down_delay_seconds};
  s.aborted = false;
  s.abort_reason.clear();
  reset_attempt(s);
  s.step_index = step_count(c);
  set(c, Phase::Healthy, "rollout complete: " + s.stable + " is stable; " + s.previous_stable +
                             " kept warm until " + format_time(*s.scale_down_at));
}

void abort_with(Context& c, const std::string& reason) {
  terminate_all(c);
  RolloutState& s = c.s;
  s.aborted = true;
  s.abort_reason = reason;
  s.step_index = 0;
  reset_attempt(s);
  set(c, Phase::Degraded, "aborted: " + reason);
}

void undo(Context& c) {
  terminate_all(c);
  RolloutState& s = c.s;
  const std::string dropped = s.canary;
  s.canary.clear();
  s.aborted = false;
  s.abort_reason.clear();
  reset_attempt(s);
  s.step_index = step_count(c);
  set(c, Phase::Healthy, "undo: " + s.stable + " is desired again; canary " + dropped + " dropped");
}

void expire_scale_down(Context& c) {
  if (!c.s.scale_down_at || c.now < *c.s.scale_down_at) return;
  c.s.scale_down_at.reset();
  c.s.previous_stable.clear();
}

void terminate_all(Context& c) {
  const Effect all{Effect::Kind::TerminateAnalysis, AnalysisKind::Step, 0, true};
  std::erase_if(c.effects, [](const Effect& e) { return e.kind == Effect::Kind::StartAnalysis; });
  if (std::find(c.effects.begin(), c.effects.end(), all) == c.effects.end()) {
    c.effects.push_back(all);
  }
}

void emit_start(Context& c, AnalysisKind kind) {
  const uint32_t index = kind == AnalysisKind::Step ? c.s.step_index : 0;
  c.effects.push_back(Effect{Effect::Kind::StartAnalysis, kind, index, false});
}

std::string run_reason(const Context& c, const std::string& what) {
  const std::string phase(to_string(c.event.analysis_phase));
  return c.event.message.empty() ? what + " " + phase : what + " " + phase + ": " + c.event.message;
}

void pause_by_user(Context& c, const std::string& where) {
  RolloutState& s = c.s;
  clear_wait(s);  // the progress deadline does not count during a pause
  s.pause_reason = PauseReason::Manual;
  s.paused_since = c.now;
  s.pause_until.reset();
  s.phase = Phase::Paused;
  s.message = "paused by user at " + where + "; promote to resume";
}

void emit_terminate_step(Context& c) {
  c.effects.push_back(Effect{Effect::Kind::TerminateAnalysis, AnalysisKind::Step, c.s.step_index,
                             false});
}

}  // namespace vane::rollout::canary
