// Server: what the admin API reads — rollout status, measured weights, metrics, reload.
#include <algorithm>

#include "analysis/window.hpp"
#include "control/metrics.hpp"
#include "control/server.hpp"

namespace vane::control {
namespace {

constexpr int64_t kMeasuredWindowSeconds = 60;

}  // namespace

int64_t steady_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Server::connect_admin_sources() {
  AdminApi::Sources sources;
  sources.controller = controller_.get();
  sources.measured = [this](uint32_t rollout) { return measured_weights(rollout); };
  sources.metrics = [this] { return metrics(); };
  sources.reload = [this] { return reload(); };
  sources.analysis_runs = [this](uint32_t rollout) { return runner_->runs(rollout); };
  sources.events = &events_;
  if (cluster_) sources.cluster = [this] { return cluster_json(); };
  api_.set_sources(std::move(sources));
}

std::vector<const analysis::OutcomeShard*> Server::analysis_shards() const {
  return measurements_ ? measurements_->shards(steady_seconds()) : shards();
}

std::vector<const analysis::OutcomeShard*> Server::shards() const {
  std::vector<const analysis::OutcomeShard*> out;
  for (const auto& generation : generations_) out.push_back(generation.shard.get());
  return out;
}

std::string Server::metrics() const {
  MetricsSources m;
  m.config = config_.get();
  m.layout = layout_.get();
  m.shards = shards();
  for (const auto& generation : generations_) m.workers.push_back(generation.stats.get());
  for (const auto& worker : workers_) m.worker_threads.push_back(worker.get());
  m.controller = controller_.get();
  m.health = health_.get();
  m.analysis_runs = [this](uint32_t rollout) { return runner_->runs(rollout); };
  m.reloads_succeeded = reloads_succeeded_;
  m.reloads_failed = reloads_failed_;
  m.extra = [this](std::vector<prometheus::MetricFamily>& out) {
    runner_->add_metrics(out);
    events_.add_metrics(out);
    notifications_.add_metrics(out);
    if (cluster_) add_cluster_metrics(out);
  };
  return render_metrics(m);
}

analysis::WindowStats Server::builtin_window(uint32_t rollout, const std::string& upstream,
                                             analysis::Target target, int64_t window_seconds,
                                             bool histogram) const {
  const config::Upstream* found = config_->find_upstream(upstream);
  if (!found || !layout_ || rollout >= layout_->rollouts()) return {};
  const auto index = static_cast<uint32_t>(found - config_->upstreams.data());
  const uint32_t series = layout_->rollout_series(rollout, index, target);
  const auto all = analysis_shards();
  if (histogram) return analysis::sum_window(all, series, steady_seconds(), window_seconds);
  analysis::WindowStats stats;
  stats.seconds = std::clamp<int64_t>(window_seconds, 1, analysis::kMaxWindowSeconds);
  stats.counts = analysis::sum_window_counts(all, std::span(&series, 1), steady_seconds(), window_seconds);
  return stats;
}

std::optional<MeasuredWeights> Server::measured_weights(uint32_t rollout) const {
  std::vector<uint32_t> stable;
  std::vector<uint32_t> canary;
  for (uint32_t u = 0; u < layout_->upstreams(); ++u) {
    stable.push_back(layout_->rollout_series(rollout, u, analysis::Target::Stable));
    canary.push_back(layout_->rollout_series(rollout, u, analysis::Target::Canary));
  }
  const auto all = analysis_shards();
  const int64_t now = steady_seconds();
  const auto s = analysis::sum_window_counts(all, stable, now, kMeasuredWindowSeconds).requests;
  const auto c = analysis::sum_window_counts(all, canary, now, kMeasuredWindowSeconds).requests;
  if (s + c == 0) return std::nullopt;
  const double total = static_cast<double>(s + c);
  return MeasuredWeights{100.0 * static_cast<double>(s) / total,
                         100.0 * static_cast<double>(c) / total};
}

}  // namespace vane::control
