// The actions of the blue-green state machine (see rollout/blue_green_table.cpp for the table).
#include "rollout/blue_green_steps.hpp"

#include <chrono>

#include "rollout/canary_steps.hpp"

namespace vane::rollout::blue_green {
namespace {

using canary::clear_pause;
using canary::clear_wait;
using canary::emit_start;
using canary::terminate_all;

const config::BlueGreenStrategy& strategy(const Context& c) { return *c.spec.blue_green; }

void set(Context& c, Phase phase, std::string message) {
  c.s.phase = phase;
  c.s.message = std::move(message);
}

/// scaleDownDelaySeconds of the strategy, else of the rollout (default 30).
std::chrono::seconds scale_down_delay(const Context& c) {
  return std::chrono::seconds{
      strategy(c).scale_down_delay_seconds.value_or(c.spec.scale_down_delay_seconds)};
}

/// Nothing of the attempt in progress survives: no pause, no wait, no run.
void reset_attempt(RolloutState& s) {
  clear_pause(s);
  clear_wait(s);
  s.step_analysis = AnalysisStatus::None;
  s.background_analysis = AnalysisStatus::None;
}

/// The old version takes the active traffic again (after the switch, before completion).
void switch_back(RolloutState& s) {
  if (!switched(s) || s.previous_stable.empty()) return;
  s.stable = s.previous_stable;
  s.previous_stable.clear();
  s.scale_down_at.reset();
}

/// Waits for a healthy endpoint of the preview; the progress deadline runs from the first wait
/// (SPEC §4, as a canary setWeight step waits).
void wait_for_preview(Context& c, const std::string& what) {
  RolloutState& s = c.s;
  if (!s.waiting_since) s.waiting_since = c.now;
  const auto deadline = std::chrono::seconds{c.spec.progress_deadline_seconds};
  if (!s.deadline_exceeded && c.now - *s.waiting_since >= deadline) {
    s.deadline_exceeded = true;
    const std::string reason = "progress deadline exceeded: " + what + " waited " +
                               std::to_string(deadline.count()) + "s for a healthy endpoint of " +
                               s.canary;
    if (c.spec.progress_deadline_abort) return abort_with(c, reason);
    return set(c, Phase::Degraded, reason + "; it resumes once the preview is healthy");
  }
  if (s.deadline_exceeded) return;  // still Degraded, message kept
  set(c, Phase::Progressing, what + ": waiting for a healthy endpoint of " + s.canary);
}

std::string post_running(const Context& c) {
  return "switched to " + c.s.stable + "; postPromotionAnalysis running (" + c.s.previous_stable +
         " kept warm to switch back)";
}

}  // namespace

const std::string& base_version(const RolloutState& s) {
  return switched(s) ? s.previous_stable : s.stable;
}

bool switched(const RolloutState& s) { return s.gate == Gate::PostPromotion && !s.aborted; }

void start_attempt(Context& c) {
  reset_attempt(c.s);
  c.s.gate = Gate::Preview;
  check_preview(c);
}

void check_preview(Context& c) {
  RolloutState& s = c.s;
  if (!c.env.canary_healthy) return wait_for_preview(c, "preview " + s.canary);
  clear_wait(s);
  if (!strategy(c).pre_promotion_analysis) return enter_promotion(c);
  s.step_analysis = AnalysisStatus::Running;
  emit_start(c, AnalysisKind::PrePromotion);
  set(c, Phase::Progressing, "preview " + s.canary + ": prePromotionAnalysis running");
}

void enter_promotion(Context& c) {
  RolloutState& s = c.s;
  const auto& bg = strategy(c);
  clear_pause(s);
  clear_wait(s);
  s.step_analysis = AnalysisStatus::None;
  s.gate = Gate::Promotion;
  if (bg.auto_promotion_enabled && bg.auto_promotion_seconds == 0) return promote_now(c, false);
  s.pause_reason = PauseReason::BlueGreen;
  s.paused_since = c.now;
  if (bg.auto_promotion_enabled) {
    s.pause_until = c.now + std::chrono::seconds{bg.auto_promotion_seconds};
    return set(c, Phase::Paused, "paused: preview " + s.canary + " ready; auto-promotion at " +
                                     format_time(*s.pause_until));
  }
  set(c, Phase::Paused, "paused: preview " + s.canary + " ready; promote to switch to it");
}

void promote_now(Context& c, bool force) {
  RolloutState& s = c.s;
  clear_pause(s);
  s.gate = Gate::Promotion;
  if (!force && !c.env.canary_healthy) return wait_for_preview(c, "promotion of " + s.canary);
  clear_wait(s);
  s.previous_stable = s.stable;
  s.stable = s.canary;
  s.scale_down_at.reset();  // the old version stays warm until post-promotion is over
  s.gate = Gate::PostPromotion;
  s.step_analysis = AnalysisStatus::None;
  if (!strategy(c).post_promotion_analysis) return complete(c);
  s.step_analysis = AnalysisStatus::Running;
  emit_start(c, AnalysisKind::PostPromotion);
  set(c, Phase::Progressing, post_running(c));
}

void complete(Context& c) {
  terminate_all(c);
  RolloutState& s = c.s;
  if (!switched(s)) {  // promote --full before the switch
    s.previous_stable = s.stable;
    s.stable = s.canary;
  }
  s.canary.clear();
  s.gate = Gate::None;
  s.aborted = false;
  s.abort_reason.clear();
  reset_attempt(s);
  s.scale_down_at = c.now + scale_down_delay(c);
  set(c, Phase::Healthy, "rollout complete: " + s.stable + " is active; " + s.previous_stable +
                             " kept warm until " + format_time(*s.scale_down_at));
}

void abort_with(Context& c, const std::string& reason) {
  terminate_all(c);
  RolloutState& s = c.s;
  const bool back = switched(s);
  switch_back(s);
  s.aborted = true;
  s.abort_reason = reason;
  s.gate = Gate::None;
  reset_attempt(s);
  std::string message = "aborted: " + reason + "; ";
  message += back ? "switched back to " + s.stable : s.stable + " stays active";
  if (!strategy(c).preview_route.empty()) {
    message += "; route " + strategy(c).preview_route + " still reaches " + s.canary;
  }
  set(c, Phase::Degraded, std::move(message));
}

void undo(Context& c) {
  terminate_all(c);
  RolloutState& s = c.s;
  const std::string dropped = s.canary;
  switch_back(s);
  s.canary.clear();
  s.aborted = false;
  s.abort_reason.clear();
  s.gate = Gate::None;
  reset_attempt(s);
  set(c, Phase::Healthy, "undo: " + s.stable + " is desired again; preview " + dropped + " dropped");
}

void resume(Context& c) {
  RolloutState& s = c.s;
  clear_pause(s);
  switch (s.gate) {
    case Gate::Preview:
      if (s.step_analysis == AnalysisStatus::Running) {
        return set(c, Phase::Progressing, "preview " + s.canary + ": prePromotionAnalysis running");
      }
      if (s.step_analysis == AnalysisStatus::Successful) return enter_promotion(c);
      return check_preview(c);
    case Gate::Promotion:
      return promote_now(c, false);
    case Gate::PostPromotion:
      if (s.step_analysis == AnalysisStatus::Running) return set(c, Phase::Progressing, post_running(c));
      return complete(c);
    case Gate::None:
      return start_attempt(c);
  }
}

void skip_gate(Context& c) {
  RolloutState& s = c.s;
  switch (s.gate) {
    case Gate::Preview:
      if (s.step_analysis == AnalysisStatus::Running) {
        c.effects.push_back(
            Effect{Effect::Kind::TerminateAnalysis, AnalysisKind::PrePromotion, 0, false});
      }
      return enter_promotion(c);
    case Gate::Promotion:
      return promote_now(c, true);
    case Gate::PostPromotion:
      return complete(c);  // terminates the post-promotion run
    case Gate::None:
      return start_attempt(c);
  }
}

std::string describe_gate(const Context& c) {
  const RolloutState& s = c.s;
  switch (s.gate) {
    case Gate::Preview:
      return s.step_analysis == AnalysisStatus::None ? "preview " + s.canary
                                                     : "prePromotionAnalysis of " + s.canary;
    case Gate::Promotion:
      return "promotion of " + s.canary;
    case Gate::PostPromotion:
      return "postPromotionAnalysis of " + s.canary;
    case Gate::None:
      break;
  }
  return "preview " + s.canary;
}

}  // namespace vane::rollout::blue_green
