// Which side of a rollout served a request: the label `target` of SPEC §8 and the builtin
// provider's `target`. Any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace vane::analysis {

/// Experiment0.. are the slots of a rollout's experiment template names
/// (config::CanaryStrategy::experiment_names): target `experiment:NAME` (SPEC §14).
enum class Target : uint8_t { Stable, Canary, Mirror, Experiment0, Experiment1, Experiment2,
                              Experiment3 };
inline constexpr int kTargetCount = 7;
static_assert(kTargetCount == 3 + static_cast<int>(config::kMaxExperimentNames));

constexpr Target experiment_target(uint32_t slot) {
  return static_cast<Target>(static_cast<uint32_t>(Target::Experiment0) + slot);
}

/// The experiment slot of a target; -1 for stable, canary and mirror.
constexpr int experiment_slot(Target target) {
  return target >= Target::Experiment0
             ? static_cast<int>(target) - static_cast<int>(Target::Experiment0)
             : -1;
}

/// "stable", "canary", "mirror"; an experiment slot by number ("experiment#0"): where the
/// rollout is known, target_label() names it.
constexpr std::string_view to_string(Target target) {
  switch (target) {
    case Target::Stable: return "stable";
    case Target::Canary: return "canary";
    case Target::Mirror: return "mirror";
    case Target::Experiment0: return "experiment#0";
    case Target::Experiment1: return "experiment#1";
    case Target::Experiment2: return "experiment#2";
    case Target::Experiment3: return "experiment#3";
  }
  return "stable";
}

/// The label of `target` for `rollout` (null: none): "experiment:NAME" for an experiment slot
/// of that rollout, to_string() otherwise.
inline std::string target_label(Target target, const config::Rollout* rollout) {
  const int slot = experiment_slot(target);
  if (slot >= 0 && rollout && rollout->canary &&
      static_cast<size_t>(slot) < rollout->canary->experiment_names.size()) {
    return "experiment:" + rollout->canary->experiment_names[static_cast<size_t>(slot)];
  }
  return std::string(to_string(target));
}

}  // namespace vane::analysis
