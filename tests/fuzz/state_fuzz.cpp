// libFuzzer target: the rollout state file reader (rollout/state_store.cpp, state_from_json:
// what StateStore::load parses from the bytes it reads; no file is touched). Properties:
//  - a rejected file gives a reason and no state; reading is deterministic;
//  - a state that reads re-serialises (state_to_json, what StateStore::save writes) and reads
//    back to the same state, and serialising that again gives the same bytes: what vane writes,
//    it can read after a restart;
//  - every time in a state read prints (format_time) as something parse_time reads back.
#include <cstdint>
#include <optional>
#include <string>

#include "rollout/state_store.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::rollout {
namespace {

using fuzz::check;

void check_time(const std::optional<WallTime>& time) {
  if (!time) return;
  const std::optional<WallTime> again = parse_time(format_time(*time));
  check(again.has_value(), "a time read prints as a time parse_time reads");
  check(*again == *time, "a time read prints and reads back to itself");
}

void check_round_trip(const RolloutState& state) {
  check(!state.stable.empty(), "a state read has a stable upstream");
  for (const auto* t : {&state.paused_since, &state.pause_until, &state.waiting_since,
                        &state.scale_down_at}) {
    check_time(*t);
  }
  const std::string json = state_to_json(state);
  std::string error;
  const std::optional<RolloutState> again = state_from_json(json, &error);
  check(again.has_value(), "a state read re-serialises to a file that reads");
  check(*again == state, "a state read re-serialises and reads back to the same state");
  check(state_to_json(*again) == json, "serialising is stable");
}

}  // namespace
}  // namespace vane::rollout

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::rollout;
  const std::string text(reinterpret_cast<const char*>(bytes), size);
  std::string error;
  const std::optional<RolloutState> state = state_from_json(text, &error);
  std::string error2;
  const std::optional<RolloutState> state2 = state_from_json(text, &error2);
  check(state.has_value() == state2.has_value() && error == error2, "reading is deterministic");
  check(state.has_value() == error.empty(), "a state, or a reason why not");
  if (state) check_round_trip(*state);
  return 0;
}
