// Reading the workers' outcome shards: the sums over a time window (analysis' builtin provider,
// STATUS measuredWeights) and since the start (Prometheus). Control thread; never on a worker.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "analysis/latency_histogram.hpp"
#include "analysis/outcome_shard.hpp"

namespace vane::analysis {

/// The outcomes of the window (now - seconds, now] of one or more series, summed over shards.
struct WindowStats {
  int64_t seconds = 0;  ///< the window read: the one asked for, clamped to 1..kMaxWindowSeconds
  OutcomeCounts counts;  ///< every request of the window, exact to the second
  /// The latencies of the newest `latency_seconds` of the window (all of it up to 34 s; a little
  /// less beyond: the oldest latency slot that sticks out of the window is left out, < 5 s of a
  /// window up to 2 min, < 30 s of one up to 10 min). Never data older than the window.
  LatencyHistogram latency;
  int64_t latency_seconds = 0;
};

/// Sums `series` over `shards` (null entries skipped) for the window ending at `now_seconds`
/// (inclusive). Torn across cells while workers write, never within one.
WindowStats sum_window(std::span<const OutcomeShard* const> shards, uint32_t series,
                       int64_t now_seconds, int64_t window_seconds);
WindowStats sum_window(std::span<const OutcomeShard* const> shards,
                       std::span<const uint32_t> series, int64_t now_seconds,
                       int64_t window_seconds);

/// The counts only (no histogram: cheap), e.g. measuredWeights over the last 60 s.
OutcomeCounts sum_window_counts(std::span<const OutcomeShard* const> shards,
                                std::span<const uint32_t> series, int64_t now_seconds,
                                int64_t window_seconds);

/// Since the shards were built, for Prometheus' counters and histogram.
CumulativeStats sum_cumulative(std::span<const OutcomeShard* const> shards, uint32_t series);

/// One latency slot to read: period `period` of ring `ring` (kLatencyRings).
struct LatencySlotRef {
  size_t ring = 0;
  int64_t period = 0;
  friend bool operator==(const LatencySlotRef&, const LatencySlotRef&) = default;
};

/// Which latency slots cover the window (now - window, now]: newest to oldest, no overlap, the
/// coarsest that fit; `first_second` is the oldest second covered.
struct LatencyPlan {
  std::vector<LatencySlotRef> slots;
  int64_t first_second = 0;
};
LatencyPlan plan_latency(int64_t now_seconds, int64_t window_seconds);

// ---- the builtin metrics of SPEC §5: ratios and latencies are NaN when the window holds no
// request; request-rate is then 0 (not a ratio over requests). minRequests is the caller's.

enum class BuiltinMetric {
  SuccessRate,  ///< non-failures / requests
  ErrorRate,    ///< failures / requests
  RequestRate,  ///< requests per second of the window
  LatencyP50,   ///< seconds, like every latency below
  LatencyP90,
  LatencyP95,
  LatencyP99,
  LatencyMean,  ///< exact (sum / requests), not from the histogram
};

/// "success-rate", "error-rate", "request-rate", "latency-p50|p90|p95|p99|mean".
std::optional<BuiltinMetric> parse_builtin_metric(std::string_view name);
/// Whether the metric needs the latency histogram (sum_window) or only counts.
bool needs_histogram(BuiltinMetric metric);
double builtin_value(BuiltinMetric metric, const WindowStats& stats);

double success_rate(const OutcomeCounts& counts);
double error_rate(const OutcomeCounts& counts);
double request_rate(const WindowStats& stats);
/// The q-quantile of the window's latencies in SECONDS.
double latency_quantile_seconds(const WindowStats& stats, double q);
double latency_mean_seconds(const OutcomeCounts& counts);

}  // namespace vane::analysis
