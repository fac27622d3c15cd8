// Server: what the admin API reads — rollout status, measured weights, the dashboard's series,
// metrics, reload.
#include <algorithm>
#include <unordered_set>

#include "analysis/window.hpp"
#include "control/metrics.hpp"
#include "control/server.hpp"

namespace vane::control {
namespace {

constexpr int64_t kMeasuredWindowSeconds = 60;
/// How many past seconds each sample reads again: requests land a moment after the second they
/// read the clock in, and a cluster's replicas publish theirs up to a publishInterval late.
constexpr int64_t kSeriesRereadSeconds = 5;

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
  sources.experiment_runs = [this](uint32_t rollout) {
    return runner_->experiment_runs(rollout, controller_->state(rollout).step_index);
  };
  sources.events = &events_;
  sources.series = [this](uint32_t rollout) { return series_json(rollout); };
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

std::vector<uint32_t> Server::side_series(uint32_t rollout, analysis::Target target) const {
  std::vector<uint32_t> out;
  for (const uint32_t u : layout_->rollout_upstreams(rollout)) {
    out.push_back(layout_->rollout_series(rollout, u, target));
  }
  return out;
}

std::optional<MeasuredWeights> Server::measured_weights(uint32_t rollout) const {
  const auto all = analysis_shards();
  const int64_t now = steady_seconds();
  const auto s = analysis::sum_window_counts(all, side_series(rollout, analysis::Target::Stable), now,
                                             kMeasuredWindowSeconds).requests;
  const auto c = analysis::sum_window_counts(all, side_series(rollout, analysis::Target::Canary), now,
                                             kMeasuredWindowSeconds).requests;
  if (s + c == 0) return std::nullopt;
  const double total = static_cast<double>(s + c);
  return MeasuredWeights{100.0 * static_cast<double>(s) / total,
                         100.0 * static_cast<double>(c) / total};
}

void Server::sample_series() {
  const int64_t now = steady_seconds();
  if (now == series_second_ || !layout_) return;
  series_second_ = now;
  const auto wall_now = std::chrono::floor<std::chrono::seconds>(rollout::WallClock::now());
  const auto all = analysis_shards();
  const auto& rollouts = controller_->config().rollouts;
  std::unordered_set<std::string_view> names;
  for (const auto& r : rollouts) names.insert(r.name);
  std::erase_if(series_, [&](const auto& entry) { return !names.contains(entry.first); });
  for (uint32_t r = 0; r < rollouts.size() && r < layout_->rollouts(); ++r) {
    SeriesRing& ring = series_[rollouts[r].name];
    const auto stable = side_series(r, analysis::Target::Stable);
    const auto canary = side_series(r, analysis::Target::Canary);
    for (int64_t second = now - kSeriesRereadSeconds; second < now; ++second) {
      SeriesPoint point;
      point.second = second;
      point.time = wall_now - std::chrono::seconds(now - second);
      point.stable = measure_second(all, stable, second);
      point.canary = measure_second(all, canary, second);
      ring.put(point);
    }
  }
}

boost::json::object Server::series_json(uint32_t rollout) const {
  const auto it = series_.find(controller_->config().rollouts.at(rollout).name);
  if (it == series_.end()) return control::series_json({});
  const auto points = it->second.points(steady_seconds());
  return control::series_json(points);
}

}  // namespace vane::control
