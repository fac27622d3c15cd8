#include "analysis/window.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <utility>

namespace vane::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMicrosPerSecond = 1e6;

int64_t clamp_window(int64_t window_seconds) {
  return std::clamp<int64_t>(window_seconds, 1, kMaxWindowSeconds);
}

/// The slot of `ring` whose period ends at `cur` (or, for the newest second, holds it), when it
/// lies inside the window and the ring still holds it.
std::optional<LatencySlotRef> fitting_slot(size_t ring, int64_t cur, int64_t lo, int64_t now) {
  const RingSpec spec = kLatencyRings[ring];
  const int64_t period = floor_div(cur, spec.period_seconds);
  const int64_t start = period * spec.period_seconds;
  const int64_t end = start + spec.period_seconds - 1;
  if (start < lo || (end != cur && cur != now)) return std::nullopt;
  if (floor_div(now, spec.period_seconds) - period > retained_periods(spec)) return std::nullopt;
  return LatencySlotRef{ring, period};
}

}  // namespace

LatencyPlan plan_latency(int64_t now_seconds, int64_t window_seconds) {
  LatencyPlan plan;
  const int64_t lo = now_seconds - clamp_window(window_seconds) + 1;
  int64_t cur = now_seconds;  // the newest second not covered yet
  while (cur >= lo) {
    std::optional<LatencySlotRef> slot;
    for (size_t ring = kLatencyRings.size(); ring-- > 0 && !slot;) {
      slot = fitting_slot(ring, cur, lo, now_seconds);
    }
    if (!slot) break;  // what is left is older than every ring holds at this resolution
    plan.slots.push_back(*slot);
    cur = slot->period * kLatencyRings[slot->ring].period_seconds - 1;
  }
  plan.first_second = cur + 1;
  return plan;
}

OutcomeCounts sum_window_counts(std::span<const OutcomeShard* const> shards,
                                std::span<const uint32_t> series, int64_t now_seconds,
                                int64_t window_seconds) {
  OutcomeCounts counts;
  const int64_t first = now_seconds - clamp_window(window_seconds) + 1;
  for (const OutcomeShard* shard : shards) {
    if (shard == nullptr) continue;
    for (uint32_t id : series) shard->add_seconds(id, first, now_seconds, counts);
  }
  return counts;
}

WindowStats sum_window(std::span<const OutcomeShard* const> shards,
                       std::span<const uint32_t> series, int64_t now_seconds,
                       int64_t window_seconds) {
  WindowStats stats;
  stats.seconds = clamp_window(window_seconds);
  stats.counts = sum_window_counts(shards, series, now_seconds, stats.seconds);
  const LatencyPlan plan = plan_latency(now_seconds, stats.seconds);
  for (const OutcomeShard* shard : shards) {
    if (shard == nullptr) continue;
    for (uint32_t id : series) {
      for (const LatencySlotRef& slot : plan.slots) {
        shard->add_latency(id, slot.ring, slot.period, stats.latency);
      }
    }
  }
  stats.latency_seconds = now_seconds - plan.first_second + 1;
  return stats;
}

WindowStats sum_window(std::span<const OutcomeShard* const> shards, uint32_t series,
                       int64_t now_seconds, int64_t window_seconds) {
  return sum_window(shards, std::span<const uint32_t>(&series, 1), now_seconds, window_seconds);
}

CumulativeStats sum_cumulative(std::span<const OutcomeShard* const> shards, uint32_t series) {
  CumulativeStats stats;
  for (const OutcomeShard* shard : shards) {
    if (shard != nullptr) shard->add_cumulative(series, stats);
  }
  return stats;
}

// ---- builtin metrics ------------------------------------------------------------------------

namespace {
constexpr std::array<std::pair<std::string_view, BuiltinMetric>, 8> kMetricNames{{
    {"success-rate", BuiltinMetric::SuccessRate},
    {"error-rate", BuiltinMetric::ErrorRate},
    {"request-rate", BuiltinMetric::RequestRate},
    {"latency-p50", BuiltinMetric::LatencyP50},
    {"latency-p90", BuiltinMetric::LatencyP90},
    {"latency-p95", BuiltinMetric::LatencyP95},
    {"latency-p99", BuiltinMetric::LatencyP99},
    {"latency-mean", BuiltinMetric::LatencyMean},
}};
}  // namespace

std::optional<BuiltinMetric> parse_builtin_metric(std::string_view name) {
  for (const auto& [text, metric] : kMetricNames) {
    if (text == name) return metric;
  }
  return std::nullopt;
}

bool needs_histogram(BuiltinMetric metric) {
  return metric == BuiltinMetric::LatencyP50 || metric == BuiltinMetric::LatencyP90 ||
         metric == BuiltinMetric::LatencyP95 || metric == BuiltinMetric::LatencyP99;
}

double builtin_value(BuiltinMetric metric, const WindowStats& stats) {
  switch (metric) {
    case BuiltinMetric::SuccessRate: return success_rate(stats.counts);
    case BuiltinMetric::ErrorRate: return error_rate(stats.counts);
    case BuiltinMetric::RequestRate: return request_rate(stats);
    case BuiltinMetric::LatencyP50: return latency_quantile_seconds(stats, 0.50);
    case BuiltinMetric::LatencyP90: return latency_quantile_seconds(stats, 0.90);
    case BuiltinMetric::LatencyP95: return latency_quantile_seconds(stats, 0.95);
    case BuiltinMetric::LatencyP99: return latency_quantile_seconds(stats, 0.99);
    case BuiltinMetric::LatencyMean: return latency_mean_seconds(stats.counts);
  }
  return kNaN;
}

double success_rate(const OutcomeCounts& counts) {
  if (counts.requests == 0) return kNaN;
  const uint64_t failures = std::min(counts.failures, counts.requests);
  return static_cast<double>(counts.requests - failures) / static_cast<double>(counts.requests);
}

double error_rate(const OutcomeCounts& counts) {
  if (counts.requests == 0) return kNaN;
  const uint64_t failures = std::min(counts.failures, counts.requests);
  return static_cast<double>(failures) / static_cast<double>(counts.requests);
}

double request_rate(const WindowStats& stats) {
  if (stats.seconds <= 0) return kNaN;
  return static_cast<double>(stats.counts.requests) / static_cast<double>(stats.seconds);
}

double latency_quantile_seconds(const WindowStats& stats, double q) {
  if (stats.counts.requests == 0) return kNaN;
  return stats.latency.quantile(q) / kMicrosPerSecond;
}

double latency_mean_seconds(const OutcomeCounts& counts) {
  if (counts.requests == 0) return kNaN;
  return static_cast<double>(counts.latency_sum_micros) / static_cast<double>(counts.requests) /
         kMicrosPerSecond;
}

}  // namespace vane::analysis
