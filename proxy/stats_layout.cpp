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
  windowed_.assign(rollout_base_ + rollouts_ * upstreams_ * analysis::kTargetCount, false);
  for (uint32_t r = 0; r < rollouts_ && r < used.size(); ++r) {
    for (uint32_t u = 0; u < upstreams_ && u < used[r].size(); ++u) {
      if (!used[r][u]) continue;
      for (int t = 0; t < analysis::kTargetCount; ++t) {
        windowed_[rollout_series(r, u, static_cast<analysis::Target>(t))] = true;
      }
    }
  }
}

}  // namespace vane::proxy
