// Prometheus text exposition of /metrics (SPEC §8), built at scrape time by summing every
// worker's shards and counters: the request path never touches a Prometheus object. Control
// thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <prometheus/metric_family.h>

#include "analysis/outcome_shard.hpp"
#include "config/config.hpp"
#include "proxy/stats_layout.hpp"
#include "proxy/worker_stats.hpp"

namespace vane::rollout {
class Controller;
}

namespace vane::control {

class HealthMonitor;

struct MetricsSources {
  const config::Config* config = nullptr;
  const proxy::StatsLayout* layout = nullptr;
  std::vector<const analysis::OutcomeShard*> shards;
  std::vector<const proxy::WorkerStats*> workers;
  std::vector<const proxy::Worker*> worker_threads;  ///< for open connections
  const rollout::Controller* controller = nullptr;
  const HealthMonitor* health = nullptr;  ///< for vane_upstream_endpoint_healthy
  /// RUN objects of a rollout's current attempt, newest first (vane_analysis_run_metric_phase).
  std::function<boost::json::array(uint32_t rollout)> analysis_runs;
  uint64_t reloads_succeeded = 0;
  uint64_t reloads_failed = 0;
  /// Families other modules add (analysis runs and measurements).
  std::function<void(std::vector<prometheus::MetricFamily>&)> extra;
};

std::string render_metrics(const MetricsSources& sources);

}  // namespace vane::control
