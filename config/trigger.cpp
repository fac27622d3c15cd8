#include "config/trigger.hpp"

#include <array>

namespace vane::config {
namespace {

constexpr std::array<std::string_view, kTriggerCount> kNames{
    "on-rollout-updated",          "on-rollout-step-completed",   "on-rollout-paused",
    "on-rollout-resumed",          "on-rollout-promoted",         "on-rollout-aborted",
    "on-rollout-completed",        "on-rollout-retried",          "on-analysis-run-running",
    "on-analysis-run-successful",  "on-analysis-run-failed",      "on-analysis-run-error",
    "on-analysis-run-inconclusive", "on-config-reloaded",         "on-config-rejected",
    "on-leader-elected",
};
static_assert(static_cast<std::size_t>(Trigger::LeaderElected) + 1 == kTriggerCount,
              "kTriggerCount counts Trigger up to its last enumerator");

}  // namespace

std::string_view to_string(Trigger trigger) { return kNames[static_cast<std::size_t>(trigger)]; }

std::optional<Trigger> trigger_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Trigger>(i);
  }
  return std::nullopt;
}

}  // namespace vane::config
