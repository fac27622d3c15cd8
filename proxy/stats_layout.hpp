// Which outcome-shard series a request is recorded in, fixed for one config: one series per
// (route, target) for Prometheus, and one per (rollout, upstream, target) for analysis windows and
// measuredWeights (windowed only for the upstreams a rollout can use). Built on the control
// thread, read by workers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/target.hpp"
#include "config/config.hpp"

namespace vane::proxy {

class StatsLayout {
 public:
  /// `used[r][u]`: rollout r may send traffic to upstream u (its stable, desired or canary).
  StatsLayout(const config::Config& config, const std::vector<std::vector<bool>>& used);

  uint32_t route_series(uint32_t route, analysis::Target target) const {
    return route * analysis::kTargetCount + static_cast<uint32_t>(target);
  }
  uint32_t rollout_series(uint32_t rollout, uint32_t upstream, analysis::Target target) const {
    return rollout_base_ + (rollout * upstreams_ + upstream) * analysis::kTargetCount +
           static_cast<uint32_t>(target);
  }

  size_t series_count() const { return windowed_.size(); }
  const std::vector<bool>& windowed() const { return windowed_; }
  uint32_t routes() const { return routes_; }
  uint32_t upstreams() const { return upstreams_; }
  uint32_t rollouts() const { return rollouts_; }

  /// Same series for the same names: a reload may keep recording into the same shards.
  friend bool operator==(const StatsLayout&, const StatsLayout&) = default;

 private:
  uint32_t routes_;
  uint32_t upstreams_;
  uint32_t rollouts_;
  uint32_t rollout_base_;
  std::vector<bool> windowed_;
  std::vector<std::string> names_;  ///< routes, upstreams, rollouts: what the indices mean
};

}  // namespace vane::proxy
