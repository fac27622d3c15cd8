#include "proxy/generation.hpp"

#include <algorithm>

namespace vane::proxy {

Generation::Generation(GenerationParts spec, uint32_t worker_count) : spec_(std::move(spec)) {
  const auto& upstreams = config().upstreams;
  pools_.reserve(upstreams.size());
  for (size_t i = 0; i < upstreams.size(); ++i) {
    // Each worker may open its share of maxConnectionsPerEndpoint: no shared counter needed.
    const uint32_t limit = upstreams[i].max_connections_per_endpoint;
    pools_.emplace_back(spec_.snapshot->endpoints[i], (limit + worker_count - 1) / worker_count);
  }
}

void Generation::record(uint32_t route, int32_t rollout, uint32_t upstream,
                        analysis::Target target, int status, Clock::duration took) {
  const auto now = Clock::now().time_since_epoch();
  const int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  const auto micros = static_cast<uint64_t>(
      std::max<int64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count(), 0));
  const auto& layout = *spec_.layout;
  spec_.shard->record(layout.route_series(route, target), status, status == 0, micros, seconds);
  if (rollout >= 0) {
    spec_.shard->record(layout.rollout_series(static_cast<uint32_t>(rollout), upstream, target),
                        status, status == 0, micros, seconds);
  }
}

void Generation::clear_idle() {
  for (auto& pool : pools_) pool.clear_idle();
}

}  // namespace vane::proxy
