// The blue-green rollout state machine: ONE table of (state, event) -> handler (SPEC §4) with a
// row for every pair (checked by the compiler), the sibling of the canary's in
// rollout/state_machine.cpp.
//
//                DesiredChanged(new): the new version is the preview at once
//  +---------+ --------------------------> +---------+  preview healthy  +-------------+
//  | Healthy |                             | Preview | ----------------> | PreAnalysis |
//  +---------+                             +---------+                   +-------------+
//    ^     ^                     no prePromotionAnalysis |                  | Successful
//    |     |                                             v                  v
//    |     |             promotion wait (autoPromotionSeconds, or promote); +--------+
//    |     |             an Inconclusive run; `vane pause`  --------------> | Paused |
//    |     |                                                                +--------+
//    |     |          Tick: countdown over (0: no wait), promote                |
//    |     |                                                                    v
//    |     |              preview healthy: ONE switch of all active traffic +-----------+
//    |     |            +-------------------------------------------------- | Switching |
//    |     |            v                                                   +-----------+
//    |     |   +--------------+  Successful, promote, or no postPromotionAnalysis
//    |     +-- | PostAnalysis | --> Healthy (the old version kept warm for scaleDownDelaySeconds)
//    |         +--------------+
//    |                | Failed/Error, abort: the active traffic switches back
//    |                v
//    |          +---------+  Degraded, aborted: the preview route still reaches the new
//    +- undo -- | Aborted |  version; Retry, DesiredChanged(another) -> Preview
//               +---------+
//
// Undo (desired = the old version again) and PromoteFull (switch, skip every gate, complete) lead
// to Healthy from every state with a preview; Abort and a Failed/Error run lead to Aborted.
// Paused covers the promotion wait, an Inconclusive pre- or post-promotion run, and `vane pause`.
// Preview and Switching wait for a healthy preview endpoint and turn Degraded (not aborted) past
// progressDeadlineSeconds, or abort with progressDeadlineAbort. Promote while not paused moves
// past the current gate (Switching: switches to the preview even unhealthy). Promote,
// PromoteFull, Abort and Pause need a rollout in progress that is not aborted, Retry needs
// Aborted: other rows answer Conflict (HTTP 409) and change nothing. Tick also ends the old
// version's warm period (scale_down_at) in every state.
#include <array>
#include <cstddef>

#include "rollout/blue_green_steps.hpp"
#include "rollout/canary_steps.hpp"

namespace vane::rollout::blue_green {
namespace {

using canary::run_reason;
using canary::terminate_all;

/// The situation a RolloutState is in, as the table sees it.
enum class State : uint8_t {
  Healthy,       ///< no preview: stable = desired
  Preview,       ///< waiting for a healthy preview endpoint (Degraded past the deadline)
  PreAnalysis,   ///< the prePromotionAnalysis runs
  Paused,        ///< promotion wait, Inconclusive run, or `vane pause`
  Switching,     ///< promotion due, waiting for a healthy preview (Degraded past the deadline)
  PostAnalysis,  ///< switched; the postPromotionAnalysis runs
  Aborted,       ///< Degraded and aborted: waits for retry or a new desired upstream
};
constexpr std::size_t kStateCount = 7;
static_assert(static_cast<std::size_t>(State::Aborted) + 1 == kStateCount,
              "kStateCount counts State up to its last enumerator");

State situation(const RolloutState& s) {
  if (s.canary.empty()) return State::Healthy;
  if (s.aborted) return State::Aborted;
  if (s.phase == Phase::Paused) return State::Paused;
  switch (s.gate) {
    case Gate::Promotion:
      return State::Switching;
    case Gate::PostPromotion:
      return State::PostAnalysis;
    case Gate::Preview:
    case Gate::None:
      break;
  }
  return s.step_analysis == AnalysisStatus::Running ? State::PreAnalysis : State::Preview;
}

// ---- handlers ----------------------------------------------------------------------------------

void on_tick_idle(Context& c) { canary::expire_scale_down(c); }

/// The preview may have become healthy; the progress deadline may have passed.
void on_tick_preview(Context& c) {
  canary::expire_scale_down(c);
  check_preview(c);
}

void on_tick_switching(Context& c) {
  canary::expire_scale_down(c);
  promote_now(c, false);
}

void on_tick_paused(Context& c) {
  canary::expire_scale_down(c);
  const RolloutState& s = c.s;
  if (s.pause_reason != PauseReason::BlueGreen || !s.pause_until || c.now < *s.pause_until) return;
  promote_now(c, false);  // autoPromotionSeconds passed
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
  if (desired == base_version(s)) {
    if (!s.canary.empty()) undo(c);
    return;
  }
  if (desired == s.canary) return;  // a reload naming the same desired keeps progress
  if (!s.canary.empty()) {
    terminate_all(c);
    if (switched(s)) {  // the new version was not proven: the old one is the stable again
      s.stable = s.previous_stable;
      s.previous_stable.clear();
    }
  }
  s.canary = desired;
  s.aborted = false;
  s.abort_reason.clear();
  start_attempt(c);
}

void on_promote_running(Context& c) { skip_gate(c); }

/// A promotion wait switches (once the preview is healthy); an Inconclusive run is moved past;
/// a manual pause resumes (past a run that ended Successful meanwhile).
void on_promote_paused(Context& c) {
  const RolloutState& s = c.s;
  if (s.pause_reason == PauseReason::BlueGreen) return promote_now(c, false);
  if (s.pause_reason == PauseReason::Inconclusive || s.step_analysis == AnalysisStatus::Successful) {
    return skip_gate(c);
  }
  resume(c);
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

void on_pause_running(Context& c) { canary::pause_by_user(c, describe_gate(c)); }

/// Already paused: a timed promotion wait now waits for promote; any other pause already does.
void on_pause_paused(Context& c) {
  RolloutState& s = c.s;
  if (s.pause_reason != PauseReason::BlueGreen || !s.pause_until) return;
  s.pause_until.reset();
  s.message = "paused by user at " + describe_gate(c) + "; promote to switch";
}

void on_analysis_done(Context& c) {
  RolloutState& s = c.s;
  const bool pre = c.event.analysis == AnalysisKind::PrePromotion && s.gate == Gate::Preview;
  const bool post = c.event.analysis == AnalysisKind::PostPromotion && s.gate == Gate::PostPromotion;
  if ((!pre && !post) || s.step_analysis != AnalysisStatus::Running) return;  // stale
  const std::string what = pre ? "prePromotionAnalysis" : "postPromotionAnalysis";
  switch (c.event.analysis_phase) {
    case Event::AnalysisPhase::Successful:
      if (s.phase == Phase::Paused) {  // a manual pause: promote moves past it
        s.step_analysis = AnalysisStatus::Successful;
        s.message += " (" + run_reason(c, what) + ")";
        return;
      }
      return pre ? enter_promotion(c) : complete(c);
    case Event::AnalysisPhase::Failed:
    case Event::AnalysisPhase::Error:
      return abort_with(c, c.event.message.empty() ? run_reason(c, what) : c.event.message);
    case Event::AnalysisPhase::Inconclusive:
      s.step_analysis = AnalysisStatus::Inconclusive;
      return canary::hold_inconclusive(c, run_reason(c, what));
  }
}

// ---- the table ---------------------------------------------------------------------------------

using K = Event::Kind;

// clang-format off
constexpr auto rows = std::to_array<Row<State>>({
  // state                event               handler
  {State::Healthy,      K::Tick,            on_tick_idle},
  {State::Healthy,      K::DesiredChanged,  on_desired},
  {State::Healthy,      K::Promote,         conflict},
  {State::Healthy,      K::PromoteFull,     conflict},
  {State::Healthy,      K::Abort,           conflict},
  {State::Healthy,      K::Retry,           conflict},
  {State::Healthy,      K::Pause,           conflict},
  {State::Healthy,      K::AnalysisDone,    ignore},
  {State::Healthy,      K::GateAnswered,    ignore},

  {State::Preview,      K::Tick,            on_tick_preview},
  {State::Preview,      K::DesiredChanged,  on_desired},
  {State::Preview,      K::Promote,         on_promote_running},
  {State::Preview,      K::PromoteFull,     on_promote_full},
  {State::Preview,      K::Abort,           on_abort},
  {State::Preview,      K::Retry,           conflict},
  {State::Preview,      K::Pause,           on_pause_running},
  {State::Preview,      K::AnalysisDone,    on_analysis_done},
  {State::Preview,      K::GateAnswered,    ignore},

  {State::PreAnalysis,  K::Tick,            on_tick_idle},
  {State::PreAnalysis,  K::DesiredChanged,  on_desired},
  {State::PreAnalysis,  K::Promote,         on_promote_running},
  {State::PreAnalysis,  K::PromoteFull,     on_promote_full},
  {State::PreAnalysis,  K::Abort,           on_abort},
  {State::PreAnalysis,  K::Retry,           conflict},
  {State::PreAnalysis,  K::Pause,           on_pause_running},
  {State::PreAnalysis,  K::AnalysisDone,    on_analysis_done},
  {State::PreAnalysis,  K::GateAnswered,    ignore},

  {State::Paused,       K::Tick,            on_tick_paused},
  {State::Paused,       K::DesiredChanged,  on_desired},
  {State::Paused,       K::Promote,         on_promote_paused},
  {State::Paused,       K::PromoteFull,     on_promote_full},
  {State::Paused,       K::Abort,           on_abort},
  {State::Paused,       K::Retry,           conflict},
  {State::Paused,       K::Pause,           on_pause_paused},
  {State::Paused,       K::AnalysisDone,    on_analysis_done},
  {State::Paused,       K::GateAnswered,    ignore},

  {State::Switching,    K::Tick,            on_tick_switching},
  {State::Switching,    K::DesiredChanged,  on_desired},
  {State::Switching,    K::Promote,         on_promote_running},
  {State::Switching,    K::PromoteFull,     on_promote_full},
  {State::Switching,    K::Abort,           on_abort},
  {State::Switching,    K::Retry,           conflict},
  {State::Switching,    K::Pause,           on_pause_running},
  {State::Switching,    K::AnalysisDone,    on_analysis_done},
  {State::Switching,    K::GateAnswered,    ignore},

  {State::PostAnalysis, K::Tick,            on_tick_idle},
  {State::PostAnalysis, K::DesiredChanged,  on_desired},
  {State::PostAnalysis, K::Promote,         on_promote_running},
  {State::PostAnalysis, K::PromoteFull,     on_promote_full},
  {State::PostAnalysis, K::Abort,           on_abort},
  {State::PostAnalysis, K::Retry,           conflict},
  {State::PostAnalysis, K::Pause,           on_pause_running},
  {State::PostAnalysis, K::AnalysisDone,    on_analysis_done},
  {State::PostAnalysis, K::GateAnswered,    ignore},

  {State::Aborted,      K::Tick,            on_tick_idle},
  {State::Aborted,      K::DesiredChanged,  on_desired},
  {State::Aborted,      K::Promote,         conflict},
  {State::Aborted,      K::PromoteFull,     conflict},
  {State::Aborted,      K::Abort,           conflict},
  {State::Aborted,      K::Retry,           on_retry},
  {State::Aborted,      K::Pause,           conflict},
  {State::Aborted,      K::AnalysisDone,    ignore},
  {State::Aborted,      K::GateAnswered,    ignore},
});
// clang-format on

/// Indexed [state][event]; does not compile unless every pair above has exactly one row.
constexpr auto table = make_table<kStateCount, rows>();

}  // namespace

Transition transition(const config::Rollout& spec, const RolloutState& state, const Event& event,
                      WallTime now, const Environment& env) {
  static const std::vector<config::Step> no_steps;
  Transition out{state, {}, Verdict::Ok, {}};
  Context c{spec, no_steps, event, now, env, out.state, out.effects};
  table.handler(situation(state), event.kind)(c);
  if (c.verdict == Verdict::Conflict) return Transition{state, {}, Verdict::Conflict, {}};
  return out;
}

std::vector<Effect> resume_effects(const RolloutState& state) {
  std::vector<Effect> effects;
  if (state.canary.empty() || state.aborted || state.step_analysis != AnalysisStatus::Running) {
    return effects;
  }
  if (state.gate == Gate::Preview) {
    effects.push_back(Effect{Effect::Kind::StartAnalysis, AnalysisKind::PrePromotion, 0, false});
  } else if (state.gate == Gate::PostPromotion) {
    effects.push_back(Effect{Effect::Kind::StartAnalysis, AnalysisKind::PostPromotion, 0, false});
  }
  return effects;
}

}  // namespace vane::rollout::blue_green
