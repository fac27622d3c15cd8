// The canary rollout state machine: ONE table of (state, event) -> handler (SPEC §4), with a row
// for every pair (an event that changes nothing there says `ignore`; the compiler checks).
//
//                  DesiredChanged(new)
//  +---------+ ---------------------------> +-------------+   pause step, Pause,   +--------+
//  | Healthy |                              | Progressing | ---------------------> | Paused |
//  +---------+ <--------------------------- +-------------+ <--------------------- +--------+
//     ^   last step done, PromoteFull,        |        ^      Promote, Tick: pause
//     |   undo (from every state with         |        |      step over
//     |   a canary)             Tick: deadline|        | Tick: canary healthy,
//     |                         passed        v        | Promote
//     |                                    +---------+
//     |                                    | Stalled |  Degraded, not aborted (Pause and an
//     |                                    +---------+  Inconclusive run lead to Paused)
//     |
//     |   Abort, a run Failed/Error, the deadline passed with progressDeadlineAbort
//     |   (from Progressing, Paused, Stalled)   ---->  +---------+
//     +-------------------- undo ----------------------| Aborted |  Degraded, aborted
//                                                      +---------+
//                        Retry, DesiredChanged(new): --> Progressing (steps from 0)
//
// "Progressing" means: a setWeight step waiting for a healthy canary, a step run awaited, or a
// gate step polled (GateAnswered: 2xx -> next step, 403 -> Aborted; past its timeout -> Paused,
// still polled).
// Steps that complete at once (setWeight with a healthy canary, route steps) are run through in
// the same transition; the rollout completes (-> Healthy) after the last step.
// DesiredChanged(another new upstream) from any state with a canary drops it and starts over.
// Promote, PromoteFull, Abort and Pause need a canary in progress that is not aborted, Retry
// needs Aborted: other rows answer Conflict (HTTP 409) and change nothing. Tick also ends the
// old stable's warm period (scale_down_at) in every state.
#include "rollout/state_machine.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "rollout/blue_green_steps.hpp"
#include "rollout/canary_steps.hpp"
#include "rollout/fired.hpp"

namespace vane::rollout {
namespace {

using namespace canary;
using StepKind = config::Step::Kind;

/// The situation a RolloutState is in, as the table sees it.
enum class State : uint8_t {
  Healthy,      ///< no canary: stable = desired
  Progressing,  ///< a setWeight step waiting for a healthy canary, or a step run awaited
  Paused,       ///< a pause step, `vane pause`, or an Inconclusive run
  Stalled,      ///< Degraded, not aborted: progress deadline passed, waiting for a healthy canary
  Aborted,      ///< Degraded and aborted: waits for retry or a new desired upstream
};
constexpr std::size_t kStateCount = 5;
static_assert(static_cast<std::size_t>(State::Aborted) + 1 == kStateCount,
              "kStateCount counts State up to its last enumerator");

State situation(const RolloutState& s) {
  if (s.canary.empty()) return State::Healthy;
  if (s.aborted) return State::Aborted;
  if (s.phase == Phase::Paused) return State::Paused;
  if (s.phase == Phase::Degraded) return State::Stalled;
  return State::Progressing;
}

// ---- handlers ----------------------------------------------------------------------------------

void on_tick_idle(Context& c) { expire_scale_down(c); }

/// A setWeight step re-checks the canary's health and the progress deadline, a gate step its
/// timeout; a step run waits.
void on_tick_waiting(Context& c) {
  expire_scale_down(c);
  if (at_step_of_kind(c, StepKind::Analysis) && c.s.step_analysis == AnalysisStatus::Running) {
    return;
  }
  run_steps(c);
}

void on_tick_paused(Context& c) {
  expire_scale_down(c);
  const RolloutState& s = c.s;
  if (s.pause_reason != PauseReason::Step || !s.pause_until || c.now < *s.pause_until) return;
  finish_step(c);
  run_steps(c);
}

void on_desired(Context& c) {
  RolloutState& s = c.s;
  const std::string& desired = c.event.upstream.empty() ? c.spec.upstream : c.event.upstream;
  if (s.stable.empty()) {  // nothing was ever stable: a first start
    const std::string upstream = desired;
    s = initial_state(c.spec);
    s.stable = upstream;
    s.message = "first start: " + upstream + " is stable";
    return;
  }
  if (desired == s.stable) {
    if (!s.canary.empty()) undo(c);
    return;
  }
  if (desired == s.canary) return;  // a reload naming the same desired keeps progress
  if (!s.canary.empty()) terminate_all(c);
  s.canary = desired;
  s.aborted = false;
  s.abort_reason.clear();
  start_attempt(c);
}

/// Promote on a pause: restarts an Inconclusive background run; moves past a pause step, a
/// timed-out gate or a step run that ended while paused; otherwise resumes the current step.
void on_promote_paused(Context& c) {
  RolloutState& s = c.s;
  if (s.background_analysis == AnalysisStatus::Inconclusive) {
    s.background_analysis = AnalysisStatus::Running;
    emit_start(c, AnalysisKind::Background);
  }
  const bool step_run_over = s.step_analysis == AnalysisStatus::Successful ||
                             s.step_analysis == AnalysisStatus::Inconclusive;
  const bool gate_timed_out = s.pause_reason == PauseReason::GateStep;
  const bool experiment_inconclusive =
      std::find(s.experiment_runs.begin(), s.experiment_runs.end(),
                AnalysisStatus::Inconclusive) != s.experiment_runs.end();
  if (at_step_of_kind(c, StepKind::Pause) ||
      (at_step_of_kind(c, StepKind::Analysis) && step_run_over) || gate_timed_out ||
      (at_step_of_kind(c, StepKind::Experiment) && experiment_inconclusive)) {
    finish_step(c);
    return run_steps(c);
  }
  resume(c);
}

/// Promote while not paused skips the current step.
void on_promote_running(Context& c) {
  if (at_step_of_kind(c, StepKind::Analysis) && c.s.step_analysis == AnalysisStatus::Running) {
    emit_terminate_step(c);
  }
  finish_step(c);
  run_steps(c);
}

void on_promote_full(Context& c) { complete(c); }

void on_abort(Context& c) {
  abort_with(c, c.event.message.empty() ? "aborted by user" : c.event.message);
}

void on_retry(Context& c) {
  c.s.aborted = false;
  c.s.abort_reason.clear();
  start_attempt(c);
}

void on_pause_running(Context& c) { pause_by_user(c, describe_current(c)); }

/// Already paused: a timed pause step now waits for promote, a timed-out gate is no longer
/// polled; any other pause already waits for promote.
void on_pause_paused(Context& c) {
  RolloutState& s = c.s;
  if (s.pause_reason == PauseReason::GateStep) return pause_by_user(c, describe_current(c));
  if (s.pause_reason != PauseReason::Step || !s.pause_until) return;
  s.pause_until.reset();
  s.message = "paused by user at " + describe_current(c) + "; promote to resume";
}

void on_background_done(Context& c) {
  RolloutState& s = c.s;
  if (s.background_analysis != AnalysisStatus::Running) return;  // stale
  switch (c.event.analysis_phase) {
    case Event::AnalysisPhase::Successful:
      s.background_analysis = AnalysisStatus::Successful;
      return;
    case Event::AnalysisPhase::Failed:
    case Event::AnalysisPhase::Error:
      return abort_with(c, c.event.message.empty() ? run_reason(c, "background analysis")
                                                   : c.event.message);
    case Event::AnalysisPhase::Inconclusive:
      s.background_analysis = AnalysisStatus::Inconclusive;
      return hold_inconclusive(c, run_reason(c, "background analysis"));
  }
}

void on_step_done(Context& c) {
  RolloutState& s = c.s;
  const bool stale = !at_step_of_kind(c, StepKind::Analysis) ||
                     s.step_analysis != AnalysisStatus::Running ||
                     (c.event.step_index && *c.event.step_index != s.step_index);
  if (stale) return;
  const std::string what = "analysis step " + std::to_string(s.step_index);
  switch (c.event.analysis_phase) {
    case Event::AnalysisPhase::Successful:
      if (s.phase != Phase::Paused) {
        finish_step(c);
        return run_steps(c);
      }
      s.step_analysis = AnalysisStatus::Successful;  // promote moves past it
      s.message += " (" + run_reason(c, what) + ")";
      return;
    case Event::AnalysisPhase::Failed:
    case Event::AnalysisPhase::Error:
      return abort_with(c, c.event.message.empty() ? run_reason(c, what) : c.event.message);
    case Event::AnalysisPhase::Inconclusive:
      s.step_analysis = AnalysisStatus::Inconclusive;
      return hold_inconclusive(c, run_reason(c, what));
  }
}

/// One of the current experiment's analyses ended: Successful may complete the step (SPEC §14),
/// Failed or Error aborts, Inconclusive pauses.
void on_experiment_done(Context& c) {
  RolloutState& s = c.s;
  const config::ExperimentStep* e = running_experiment(c.spec, s);
  const uint32_t run = c.event.run;
  const bool stale = e == nullptr || run >= s.experiment_runs.size() ||
                     s.experiment_runs[run] != AnalysisStatus::Running ||
                     (c.event.step_index && *c.event.step_index != s.step_index);
  if (stale) return;
  const std::string what = "experiment " + e->name + " analysis " + e->analyses[run].name;
  switch (c.event.analysis_phase) {
    case Event::AnalysisPhase::Successful:
      s.experiment_runs[run] = AnalysisStatus::Successful;
      if (s.phase != Phase::Paused) return run_steps(c);
      s.message += " (" + run_reason(c, what) + ")";
      return;
    case Event::AnalysisPhase::Failed:
    case Event::AnalysisPhase::Error:
      return abort_with(c, run_reason(c, what));
    case Event::AnalysisPhase::Inconclusive:
      s.experiment_runs[run] = AnalysisStatus::Inconclusive;
      return hold_inconclusive(c, run_reason(c, what));
  }
}

void on_analysis_done(Context& c) {
  if (c.event.analysis == AnalysisKind::Step) return on_step_done(c);
  if (c.event.analysis == AnalysisKind::Experiment) return on_experiment_done(c);
  if (c.event.analysis == AnalysisKind::Background) return on_background_done(c);
  // PrePromotion / PostPromotion belong to blue-green: nothing to do for a canary.
}

/// The answer of the gate being polled: 2xx opens it (next step), 403 aborts with its body.
/// An answer for a gate no longer polled (another step, paused by hand, aborted) is stale.
void on_gate_answered(Context& c) {
  const auto polled = polled_gate(c.spec, c.s);
  if (!polled || (c.event.step_index && *c.event.step_index != *polled)) return;
  if (c.event.gate_verdict == Event::GateVerdict::Reject) {
    const std::string gate = "gate " + current_step(c)->gate.name + " rejected";
    return abort_with(c, c.event.message.empty() ? gate : gate + ": " + c.event.message);
  }
  finish_step(c);
  run_steps(c);
}

// ---- the table ---------------------------------------------------------------------------------

using K = Event::Kind;

// clang-format off
constexpr auto rows = std::to_array<Row<State>>({
  // state               event               handler
  {State::Healthy,     K::Tick,            on_tick_idle},
  {State::Healthy,     K::DesiredChanged,  on_desired},
  {State::Healthy,     K::Promote,         conflict},
  {State::Healthy,     K::PromoteFull,     conflict},
  {State::Healthy,     K::Abort,           conflict},
  {State::Healthy,     K::Retry,           conflict},
  {State::Healthy,     K::Pause,           conflict},
  {State::Healthy,     K::AnalysisDone,    ignore},
  {State::Healthy,     K::GateAnswered,    ignore},

  {State::Progressing, K::Tick,            on_tick_waiting},
  {State::Progressing, K::DesiredChanged,  on_desired},
  {State::Progressing, K::Promote,         on_promote_running},
  {State::Progressing, K::PromoteFull,     on_promote_full},
  {State::Progressing, K::Abort,           on_abort},
  {State::Progressing, K::Retry,           conflict},
  {State::Progressing, K::Pause,           on_pause_running},
  {State::Progressing, K::AnalysisDone,    on_analysis_done},
  {State::Progressing, K::GateAnswered,    on_gate_answered},

  {State::Paused,      K::Tick,            on_tick_paused},
  {State::Paused,      K::DesiredChanged,  on_desired},
  {State::Paused,      K::Promote,         on_promote_paused},
  {State::Paused,      K::PromoteFull,     on_promote_full},
  {State::Paused,      K::Abort,           on_abort},
  {State::Paused,      K::Retry,           conflict},
  {State::Paused,      K::Pause,           on_pause_paused},
  {State::Paused,      K::AnalysisDone,    on_analysis_done},
  {State::Paused,      K::GateAnswered,    on_gate_answered},

  {State::Stalled,     K::Tick,            on_tick_waiting},
  {State::Stalled,     K::DesiredChanged,  on_desired},
  {State::Stalled,     K::Promote,         on_promote_running},
  {State::Stalled,     K::PromoteFull,     on_promote_full},
  {State::Stalled,     K::Abort,           on_abort},
  {State::Stalled,     K::Retry,           conflict},
  {State::Stalled,     K::Pause,           on_pause_running},
  {State::Stalled,     K::AnalysisDone,    on_analysis_done},
  {State::Stalled,     K::GateAnswered,    on_gate_answered},

  {State::Aborted,     K::Tick,            on_tick_idle},
  {State::Aborted,     K::DesiredChanged,  on_desired},
  {State::Aborted,     K::Promote,         conflict},
  {State::Aborted,     K::PromoteFull,     conflict},
  {State::Aborted,     K::Abort,           conflict},
  {State::Aborted,     K::Retry,           on_retry},
  {State::Aborted,     K::Pause,           conflict},
  {State::Aborted,     K::AnalysisDone,    ignore},
  {State::Aborted,     K::GateAnswered,    ignore},
});
// clang-format on

/// Indexed [state][event]; does not compile unless every pair above has exactly one row.
constexpr auto table = make_table<kStateCount, rows>();

bool is_command(Event::Kind kind) {
  return kind == K::Promote || kind == K::PromoteFull || kind == K::Abort || kind == K::Retry ||
         kind == K::Pause;
}

const std::vector<config::Step>& steps_of(const config::Rollout& spec) {
  static const std::vector<config::Step> none;
  return spec.canary ? spec.canary->steps : none;
}

Transition canary_transition(const config::Rollout& spec, const RolloutState& state,
                             const Event& event, WallTime now, const Environment& env) {
  Transition out{state, {}, Verdict::Ok, {}};
  if (!spec.canary) {  // neither strategy: a config that did not validate; nothing moves
    if (is_command(event.kind)) out.verdict = Verdict::Conflict;
    return out;
  }
  Context c{spec, steps_of(spec), event, now, env, out.state, out.effects};
  table.handler(situation(state), event.kind)(c);
  if (c.verdict == Verdict::Conflict) return Transition{state, {}, Verdict::Conflict, {}};
  return out;
}

}  // namespace

std::string_view to_string(Event::AnalysisPhase phase) {
  static constexpr std::array<std::string_view, 4> kNames{"Successful", "Failed", "Error",
                                                          "Inconclusive"};
  return kNames[static_cast<std::size_t>(phase)];
}

Transition transition(const config::Rollout& spec, const RolloutState& state, const Event& event,
                      WallTime now, const Environment& env) {
  Transition out = spec.blue_green ? blue_green::transition(spec, state, event, now, env)
                                   : canary_transition(spec, state, event, now, env);
  if (out.verdict == Verdict::Ok) out.fired = fired_by(spec, state, event, out);
  return out;
}

std::vector<Effect> resume_effects(const config::Rollout& spec, const RolloutState& state) {
  if (spec.blue_green) return blue_green::resume_effects(state);
  std::vector<Effect> effects;
  if (!spec.canary || state.canary.empty() || state.aborted) return effects;
  if (state.background_analysis == AnalysisStatus::Running) {
    effects.push_back(Effect{Effect::Kind::StartAnalysis, AnalysisKind::Background, 0, false});
  }
  const auto& steps = spec.canary->steps;
  const bool at_analysis = state.step_index < steps.size() &&
                           steps[state.step_index].kind == StepKind::Analysis;
  if (at_analysis && state.step_analysis == AnalysisStatus::Running) {
    effects.push_back(Effect{Effect::Kind::StartAnalysis, AnalysisKind::Step, state.step_index,
                             false});
  }
  if (running_experiment(spec, state)) {  // its analyses start fresh; its deadline is kept
    for (uint32_t run = 0; run < state.experiment_runs.size(); ++run) {
      if (state.experiment_runs[run] != AnalysisStatus::Running) continue;
      effects.push_back(Effect{.kind = Effect::Kind::StartAnalysis,
                               .analysis = AnalysisKind::Experiment,
                               .step_index = state.step_index,
                               .run = run});
    }
  }
  return effects;
}

const config::ExperimentStep* running_experiment(const config::Rollout& spec,
                                                 const RolloutState& state) {
  if (!spec.canary || state.canary.empty() || state.aborted) return nullptr;
  const auto& steps = spec.canary->steps;
  if (state.step_index >= steps.size()) return nullptr;
  const config::Step& step = steps[state.step_index];
  return step.kind == StepKind::Experiment ? &step.experiment : nullptr;
}

std::string_view experiment_phase(const RolloutState& state, WallTime now) {
  const auto& runs = state.experiment_runs;
  if (std::find(runs.begin(), runs.end(), AnalysisStatus::Inconclusive) != runs.end()) {
    return "Inconclusive";
  }
  const bool all_successful = std::all_of(runs.begin(), runs.end(), [](AnalysisStatus a) {
    return a == AnalysisStatus::Successful;
  });
  const bool time_up = !state.experiment_deadline || now >= *state.experiment_deadline;
  return all_successful && time_up ? "Successful" : "Running";
}

std::optional<uint32_t> polled_gate(const config::Rollout& spec, const RolloutState& state) {
  if (!spec.canary || state.canary.empty() || state.aborted) return std::nullopt;
  const auto& steps = spec.canary->steps;
  if (state.step_index >= steps.size() || steps[state.step_index].kind != StepKind::Gate) {
    return std::nullopt;
  }
  const bool waiting = state.phase == Phase::Progressing ||
                       (state.phase == Phase::Paused && state.pause_reason == PauseReason::GateStep);
  return waiting ? std::optional<uint32_t>(state.step_index) : std::nullopt;
}

RolloutState adapt_strategy(const config::Rollout& spec, const RolloutState& state) {
  if (state.canary.empty() || state.aborted) return state;  // fits either strategy
  const bool foreign = spec.blue_green ? state.gate == Gate::None : state.gate != Gate::None;
  if (!foreign) return state;
  RolloutState fresh = initial_state(spec);
  fresh.stable = blue_green::base_version(state);
  fresh.message = "strategy changed: the rollout of " + state.canary + " starts over";
  return fresh;
}

RolloutState initial_state(const config::Rollout& spec) {
  RolloutState s;
  s.stable = spec.upstream;
  s.step_index = static_cast<uint32_t>(steps_of(spec).size());
  s.phase = Phase::Healthy;
  s.message = "first start: " + spec.upstream + " is stable";
  return s;
}

}  // namespace vane::rollout
