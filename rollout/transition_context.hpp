// What one transition of a rollout state machine reads (spec, event, time, environment) and the
// copy of the state and the effects it writes; shared by the canary and blue-green tables.
// Private to rollout/; control thread, pure.
#pragma once

#include <array>
#include <cstddef>
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

using Handler = void (*)(Context&);

/// A row of a transition table: in situation `state`, `event` runs `handler`.
template <class State>
struct Row {
  State state;
  Event::Kind event;
  Handler handler;
};

/// A command that is not valid in this situation (409).
inline void conflict(Context& c) { c.verdict = Verdict::Conflict; }
inline void ignore(Context&) {}

/// The handler of `table` for `state` and `event`; `ignore` when the table has no such row.
template <class State, std::size_t N>
Handler find_handler(const std::array<Row<State>, N>& table, State state, Event::Kind event) {
  for (const auto& row : table) {
    if (row.state == state && row.event == event) return row.handler;
  }
  return ignore;
}

}  // namespace vane::rollout
