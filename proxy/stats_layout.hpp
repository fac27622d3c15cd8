// Which outcome-shard series a request is recorded in, fixed for one config: one series per
// (route, target) for Prometheus, and one per (rollout, upstream, target) for analysis windows and
// measuredWeights, only for the upstreams a rollout can use (so 1,000 rollouts over 2,000
// upstreams cost 1,000 × their 2–4 upstreams, not 1,000 × 2,000). Built on the control thread,
// read by workers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "analysis/target.hpp"
#include "config/config.hpp"

namespace vane::proxy {

class StatsLayout {
 public:
  /// A series id no shard holds: a shard ignores it (records nothing, reads nothing).
  static constexpr uint32_t kNoSeries = std::numeric_limits<uint32_t>::max();

  /// `used[r][u]`: rollout r may send traffic to upstream u (its stable, desired or canary).
  StatsLayout(const config::Config& config, const std::vector<std::vector<bool>>& used);

  uint32_t route_series(uint32_t route, analysis::Target target) const {
    return route * analysis::kTargetCount + static_cast<uint32_t>(target);
  }
  /// kNoSeries when rollout r does not use upstream u. A scan of r's few upstreams: no lock, no
  /// allocation (the request path calls it).
  uint32_t rollout_series(uint32_t rollout, uint32_t upstream, analysis::Target target) const {
    if (rollout >= rollouts_) return kNoSeries;
    for (uint32_t k = first_[rollout]; k < first_[rollout + 1]; ++k) {
      if (used_[k] == upstream) {
        return rollout_base_ + k * analysis::kTargetCount + static_cast<uint32_t>(target);
      }
    }
    return kNoSeries;
  }
  /// The upstreams rollout r may send to (those with series), in index order.
  std::span<const uint32_t> rollout_upstreams(uint32_t rollout) const {
    if (rollout >= rollouts_) return {};
    return std::span(used_).subspan(first_[rollout], first_[rollout + 1] - first_[rollout]);
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
  std::vector<uint32_t> first_;  ///< rollout r's upstreams are used_[first_[r] .. first_[r+1])
  std::vector<uint32_t> used_;
  std::vector<bool> windowed_;
  std::vector<std::string> names_;  ///< routes, upstreams, rollouts: what the indices mean
};

}  // namespace vane::proxy
