// The blue-green rollout (SPEC §4): the actions its table rows are built from (preview, the
// pre-promotion gate, the promotion wait, the switch, post-promotion, completion, abort), and
// the table's entry points. Private to rollout/; control thread, pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"
#include "rollout/transition_context.hpp"

namespace vane::rollout::blue_green {

/// Applies `event` for the blue-green rollout `spec` (rollout/blue_green_table.cpp).
Transition transition(const config::Rollout& spec, const RolloutState& state, const Event& event,
                      WallTime now, const Environment& env);

/// StartAnalysis for the pre- or post-promotion run a restored state was waiting for.
std::vector<Effect> resume_effects(const RolloutState& state);

/// The version the attempt started from: the old stable (also once switched, until completion).
const std::string& base_version(const RolloutState& s);
/// The active traffic is on the new version (postPromotion, not aborted).
bool switched(const RolloutState& s);

/// A new attempt (new desired upstream or retry): the desired upstream is the preview at once;
/// then the pre-promotion gate.
void start_attempt(Context& c);

/// The pre-promotion gate: waits for a healthy preview (with the progress deadline), then starts
/// the prePromotionAnalysis, or goes on to the promotion wait when there is none.
void check_preview(Context& c);

/// Past the pre-promotion gate: waits (Paused) for autoPromotionSeconds or `promote`; promotes
/// at once with autoPromotionSeconds 0.
void enter_promotion(Context& c);

/// Promotion: switches the active traffic once the preview is healthy (else waits, Progressing);
/// `force` switches anyway (an operator's promote while waiting, or --full).
void promote_now(Context& c, bool force);

/// The new version becomes stable for good (SPEC §4 "Healthy once it succeeds"); the old one
/// stays warm for scaleDownDelaySeconds. From any gate (promote --full switches first).
void complete(Context& c);

/// aborted, Degraded, every run terminated, the active traffic back on the old version; the
/// preview route still reaches the aborted one (SPEC §4).
void abort_with(Context& c, const std::string& reason);

/// The desired upstream is the old version again: Healthy at once on it ("undo").
void undo(Context& c);

/// Leaves a manual pause without moving past the current gate.
void resume(Context& c);

/// Moves past the current gate: the pre-promotion gate, the promotion wait, or the
/// post-promotion analysis (promote on an ended run, or while Progressing).
void skip_gate(Context& c);

/// "preview v2", "postPromotionAnalysis of v2", …: where the rollout stands, for messages.
std::string describe_gate(const Context& c);

}  // namespace vane::rollout::blue_green
