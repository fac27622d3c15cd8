// The traffic a canary rollout's state calls for (SPEC §3, §4): canary weight, header routes and
// mirror routes, derived from the state and the steps already done. Pure; control thread.
#pragma once

#include <cstdint>
#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::rollout {

struct TrafficPlan {
  uint32_t weight_centi = 0;  ///< canary weight in hundredths of a percent (0..10000)
  std::vector<config::HeaderRouteStep> header_routes;  ///< in the order they were set
  std::vector<config::MirrorRouteStep> mirror_routes;
  bool routes_suspended = false;  ///< the canary has no healthy endpoint: header and mirror
                                  ///< routes are listed but do not apply (SPEC §3)

  friend bool operator==(const TrafficPlan&, const TrafficPlan&) = default;
};

/// What `state` sends where. No canary, or aborted: weight 0 and no routes. After the last step
/// the canary is stable (no canary). A setWeight step waiting for a healthy canary keeps the
/// canary at weight 0.
TrafficPlan plan_traffic(const config::Rollout& spec, const RolloutState& state,
                         bool canary_healthy);

}  // namespace vane::rollout
