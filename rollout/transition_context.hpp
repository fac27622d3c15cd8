// What one transition of a rollout state machine reads (spec, event, time, environment) and the
// copy of the state and the effects it writes; the transition table both machines are built on.
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

/// A command that is not valid in this situation (409).
inline void conflict(Context& c) { c.verdict = Verdict::Conflict; }
inline void ignore(Context&) {}

/// A row of a transition table: in situation `state`, `event` runs `handler`.
template <class State>
struct Row {
  State state;
  Event::Kind event;
  Handler handler;
};

/// A transition table indexed [state][event]: one lookup, no search. Built by make_table().
template <class State, std::size_t StateCount>
struct Table {
  std::array<std::array<Handler, kEventKindCount>, StateCount> handlers{};

  constexpr Handler handler(State state, Event::Kind event) const {
    return handlers[static_cast<std::size_t>(state)][static_cast<std::size_t>(event)];
  }
};

/// How many of a table's rows are for (`state`, `event`).
template <class State>
struct PairRows {
  State state;
  Event::Kind event;
  std::size_t rows;
};

/// The first (state, event) pair, in enum order, that `rows` do not give exactly one row;
/// `rows == 1` when there is none.
template <std::size_t StateCount, class State, std::size_t N>
constexpr PairRows<State> first_fault(const std::array<Row<State>, N>& rows) {
  for (std::size_t s = 0; s < StateCount; ++s) {
    for (std::size_t e = 0; e < kEventKindCount; ++e) {
      PairRows<State> pair{static_cast<State>(s), static_cast<Event::Kind>(e), 0};
      for (const Row<State>& row : rows) {
        if (row.state == pair.state && row.event == pair.event) ++pair.rows;
      }
      if (pair.rows != 1) return pair;
    }
  }
  return PairRows<State>{State{}, Event::Kind{}, 1};
}

/// Compiles only when `Fault` is no fault; the compiler names `Fault` (state, event, row count)
/// in the error.
template <PairRows Fault>
constexpr bool one_row_per_pair() {
  static_assert(Fault.rows == 1,
                "a transition table needs exactly one row for every (State, Event::Kind) pair: "
                "the pair is Fault = {state, event, rows} (rows 0: no row, 2 or more: duplicated)");
  return true;
}

/// The table of `Rows` (a constexpr std::array<Row<State>, N>) for a State of `StateCount`
/// values. Compiles only when every (state, event) pair has exactly one row: a situation where
/// an event changes nothing says so with `ignore`, a command not valid there with `conflict`.
template <std::size_t StateCount, const auto& Rows>
consteval auto make_table() {
  using State = decltype(Rows[0].state);
  constexpr PairRows fault = first_fault<StateCount>(Rows);
  static_assert(one_row_per_pair<fault>());
  static_assert(fault.rows != 1 || Rows.size() == StateCount * kEventKindCount,
                "a transition table row names a state past StateCount (is StateCount right?)");
  Table<State, StateCount> table;
  for (const Row<State>& row : Rows) {
    table.handlers[static_cast<std::size_t>(row.state)][static_cast<std::size_t>(row.event)] =
        row.handler;
  }
  return table;
}

}  // namespace vane::rollout
