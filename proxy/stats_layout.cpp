#include "proxy/stats_layout.hpp"

namespace vane::proxy {

StatsLayout::StatsLayout(const config::Config& config, const std::vector<std::vector<bool>>& used)
    : routes_(static_cast<uint32_t>(config.routes.size())),
      upstreams_(static_cast<uint32_t>(config.upstreams.size())),
      rollouts_(static_cast<uint32_t>(config.rollouts.size())),
      rollout_base_(routes_ * analysis::kTargetCount) {
  for (const auto& route : config.routes) names_.push_back(route.name);
  for (const auto& upstream : config.upstreams) names_.push_back(upstream.name);
  for (const auto& rollout : config.rollouts) names_.push_back(rollout.name);
  first_.reserve(rollouts_ + 1);
  for (uint32_t r = 0; r < rollouts_; ++r) {
    first_.push_back(static_cast<uint32_t>(used_.size()));
    for (uint32_t u = 0; r < used.size() && u < upstreams_ && u < used[r].size(); ++u) {
      if (used[r][u]) used_.push_back(u);
    }
  }
  first_.push_back(static_cast<uint32_t>(used_.size()));
  // Route series keep cumulative counters only; every rollout series keeps windows.
  windowed_.assign(rollout_base_ + used_.size() * analysis::kTargetCount, false);
  std::fill(windowed_.begin() + rollout_base_, windowed_.end(), true);
}

}  // namespace vane::proxy
