// What one transition of a rollout state machine reads (spec, event, time, environment) and the
// copy of the state and the effects it writes; shared by the canary and blue-green tables.
// Private to rollout/; control thread, pure.
#pragma once

#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"

namespace vane::rollout {

struct Context {
  const config::Rollout& spec;
  const std::vector<config::Step>& steps;  ///< the canary's steps (none for blue-green)
  const Event& event;
  WallTime now;
  const Environment& env;
  RolloutState& s;
  std::vector<Effect>& effects;
  Verdict verdict = Verdict::Ok;
};

}  // namespace vane::rollout
