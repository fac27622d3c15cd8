// The traffic a rollout's state calls for (SPEC §3, §4): canary weight, header routes and mirror
// routes derived from the canary steps already done; for blue-green, where the preview route and
// the active traffic go. Pure; control thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::rollout {

/// One template of the running experiment (SPEC §14): `weight_centi` of the route's traffic goes
/// to `upstream`, measured in experiment slot `slot`.
struct ExperimentShare {
  uint8_t slot = 0;
  std::string upstream;
  uint32_t weight_centi = 0;

  friend bool operator==(const ExperimentShare&, const ExperimentShare&) = default;
};

struct TrafficPlan {
  uint32_t weight_centi = 0;  ///< canary weight in hundredths of a percent (0..10000)
  std::vector<config::HeaderRouteStep> header_routes;  ///< in the order they were set
  std::vector<config::MirrorRouteStep> mirror_routes;
  bool routes_suspended = false;  ///< the canary has no healthy endpoint: header and mirror
                                  ///< routes are listed but do not apply (SPEC §3)
  bool preview = false;  ///< blue-green: previewRoute requests go to the canary (the preview)
  std::vector<ExperimentShare> experiment;  ///< the running experiment's templates (canary weight
                                            ///< first, then these, then stable)

  friend bool operator==(const TrafficPlan&, const TrafficPlan&) = default;
};

/// What `state` sends where. No canary, or aborted: weight 0 and no routes. After the last step
/// the canary is stable (no canary). A setWeight step waiting for a healthy canary keeps the
/// canary at weight 0. An experiment step adds its templates' shares while it is the current step
/// (SPEC §14), whatever the canary's health. Blue-green: the preview route reaches the canary whenever there is one
/// (aborted too, for debugging); the active traffic is all on it (weight 100) once switched,
/// healthy or not, else all on the stable.
TrafficPlan plan_traffic(const config::Rollout& spec, const RolloutState& state,
                         bool canary_healthy);

}  // namespace vane::rollout
