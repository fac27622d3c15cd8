// What happens to a rollout or to the config, by the names of Argo Rollouts' notification
// triggers (SPEC §11): events carry them, notifications and `vane events` filter by them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace vane::config {

enum class Trigger : uint8_t {
  RolloutUpdated,        ///< a new desired version: a rollout starts (or the canary is dropped)
  RolloutStepCompleted,  ///< a canary step is done
  RolloutPaused,
  RolloutResumed,
  RolloutPromoted,       ///< by `promote`
  RolloutAborted,
  RolloutCompleted,
  RolloutRetried,
  AnalysisRunRunning,
  AnalysisRunSuccessful,
  AnalysisRunFailed,
  AnalysisRunError,
  AnalysisRunInconclusive,
  ConfigReloaded,        ///< not tied to a rollout, like the two below
  ConfigRejected,
  LeaderElected,
};

inline constexpr std::size_t kTriggerCount = 16;

/// "on-rollout-aborted", …
std::string_view to_string(Trigger trigger);
std::optional<Trigger> trigger_from_string(std::string_view name);

}  // namespace vane::config
