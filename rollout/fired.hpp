// Which triggers a transition fired (SPEC §11), read from the state before and after it and the
// event that moved it: one function, so every transition of either strategy says what happened
// the same way. Private to rollout/; pure.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"

namespace vane::rollout {

/// In the order an operator reads them: what the event was (a promote, a retry, an analysis
/// result), then what followed from it (a new rollout, resumed, steps completed, analyses
/// started, paused, aborted, completed).
std::vector<Fired> fired_by(const config::Rollout& spec, const RolloutState& before,
                            const Event& event, const Transition& after);

}  // namespace vane::rollout
