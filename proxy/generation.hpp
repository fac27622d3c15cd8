// One configuration as a worker runs it: the ConfigSnapshot, its upstream pools, and where outcomes are
// recorded. A reload hands every worker a new generation; requests already running finish on the
// one they started with, which is freed when its last user is done. Worker thread only, except
// the shard and stats, which the control thread reads.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "analysis/outcome_shard.hpp"
#include "proxy/net/deadline.hpp"
#include "proxy/config_snapshot.hpp"
#include "proxy/stats_layout.hpp"
#include "proxy/upstream_pool.hpp"
#include "proxy/worker_stats.hpp"

namespace vane::proxy {

/// What the control thread builds for each worker on start and on every reload.
struct GenerationParts {
  std::shared_ptr<const ConfigSnapshot> snapshot;
  std::shared_ptr<const StatsLayout> layout;
  std::shared_ptr<analysis::OutcomeShard> shard;  ///< this worker's; read by the control thread
  std::shared_ptr<WorkerStats> stats;             ///< likewise
};

class Generation {
 public:
  Generation(GenerationParts spec, uint32_t worker_count);

  const ConfigSnapshot& snapshot() const { return *spec_.snapshot; }
  const config::Config& config() const { return *spec_.snapshot->config; }
  UpstreamPool& pool(uint32_t upstream) { return pools_[upstream]; }
  WorkerStats& stats() { return *spec_.stats; }

  /// Records one answered request (status 0: no answer).
  void record(uint32_t route, int32_t rollout, uint32_t upstream, analysis::Target target,
              int status, Clock::duration took);

  // Users: exchanges and mirror copies that hold pointers into this generation.
  void pin() { ++users_; }
  void unpin() { --users_; }
  bool in_use() const { return users_ > 0; }
  /// Closes idle pooled connections (before the worker's io_context goes away).
  void clear_idle();

 private:
  GenerationParts spec_;
  std::vector<UpstreamPool> pools_;
  uint64_t users_ = 0;
};

/// Keeps a generation alive for one request or mirror copy; when an old generation's last pin
/// goes, `on_release` lets the worker free it.
class GenerationPin {
 public:
  using Release = void (*)(void* owner);

  GenerationPin(Generation& generation, Release on_release, void* owner)
      : generation_(&generation), on_release_(on_release), owner_(owner) {
    generation_->pin();
  }
  GenerationPin(const GenerationPin&) = delete;
  GenerationPin& operator=(const GenerationPin&) = delete;
  ~GenerationPin() {
    generation_->unpin();
    if (!generation_->in_use()) on_release_(owner_);
  }
  Generation& operator*() const { return *generation_; }
  Generation* operator->() const { return generation_; }

 private:
  Generation* generation_;
  Release on_release_;
  void* owner_;
};

}  // namespace vane::proxy
