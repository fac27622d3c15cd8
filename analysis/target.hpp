// Which side of a rollout served a request: the label `target` of SPEC §8 and the builtin
// provider's `target`. Any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace vane::analysis {

enum class Target : uint8_t { Stable, Canary, Mirror };
inline constexpr int kTargetCount = 3;

constexpr std::string_view to_string(Target target) {
  switch (target) {
    case Target::Stable: return "stable";
    case Target::Canary: return "canary";
    case Target::Mirror: return "mirror";
  }
  return "stable";
}

}  // namespace vane::analysis
