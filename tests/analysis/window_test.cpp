// Reading windows over several workers' shards: the latency plan, sums and merges, the builtin
// metrics of SPEC §5 and their NaN cases, and the cumulative sums for Prometheus.
#include "analysis/window.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace vane::analysis {
namespace {

constexpr int64_t kT0 = 1'700'000'000;

/// Every plan covers [first_second, now] exactly once with slots that fit the window and that
/// their ring still holds; it loses nothing up to 34 s, < 5 s up to 125 s, < 30 s up to 600 s.
TEST(PlanLatency, CoversTheNewestSecondsOnceAndOnlyInsideTheWindow) {
  for (int64_t now = kT0; now < kT0 + 60; ++now) {
    for (int64_t w = 1; w <= kMaxWindowSeconds; ++w) {
      const LatencyPlan plan = plan_latency(now, w);
      ASSERT_GE(plan.first_second, now - w + 1);
      int64_t cur = now;  // the newest second still to be covered
      for (const LatencySlotRef& slot : plan.slots) {
        const RingSpec ring = kLatencyRings[slot.ring];
        const int64_t start = slot.period * ring.period_seconds;
        const int64_t end = std::min(now, start + ring.period_seconds - 1);
        ASSERT_EQ(end, cur) << "now=" << now << " w=" << w;
        ASSERT_LE(floor_div(now, ring.period_seconds) - slot.period, retained_periods(ring));
        cur = start - 1;
      }
      ASSERT_EQ(cur + 1, plan.first_second);
      const int64_t lost = plan.first_second - (now - w + 1);
      if (w <= 34) {
        ASSERT_EQ(lost, 0) << "now=" << now << " w=" << w;
      } else if (w <= 125) {
        ASSERT_LT(lost, 5) << "now=" << now << " w=" << w;
      } else {
        ASSERT_LT(lost, 30) << "now=" << now << " w=" << w;
      }
      ASSERT_LE(plan.slots.size(), 45u);
    }
  }
}

TEST(PlanLatency, UsesCoarseSlotsWhenTheyFit) {
  // 1'700'000'010 is a 30 s boundary: a 30 s window ending 29 s later is one coarse slot.
  const int64_t start = 1'700'000'010;
  ASSERT_EQ(start % 30, 0);
  const LatencyPlan plan = plan_latency(start + 29, 30);
  ASSERT_EQ(plan.slots.size(), 1u);
  EXPECT_EQ(plan.slots[0], (LatencySlotRef{2, start / 30}));
  EXPECT_EQ(plan.first_second, start);
  // A window past the maximum is clamped like the counts.
  EXPECT_EQ(plan_latency(start, 100'000).first_second,
            plan_latency(start, kMaxWindowSeconds).first_second);
}

TEST(SumWindow, MergesWorkersShards) {
  OutcomeShard a(2), b(2), c(2);
  LatencyHistogram expected;
  std::mt19937_64 rng(3);
  uint64_t failures = 0;
  for (int i = 0; i < 3'000; ++i) {
    OutcomeShard& shard = i % 3 == 0 ? a : i % 3 == 1 ? b : c;
    const uint64_t micros = 100 + rng() % 900'000;
    const int status = i % 11 == 0 ? 502 : 200;
    const int64_t now = kT0 + i / 100;  // 30 s of traffic
    shard.record(1, status, status == 502, micros, now);
    expected.record(micros);
    failures += status == 502 ? 1u : 0u;
  }
  a.record(0, 200, false, 5, kT0 + 29);  // another series: not in the sums of series 1
  const OutcomeShard* shards[] = {&a, nullptr, &b, &c};
  const WindowStats stats = sum_window(shards, 1, kT0 + 29, 30);
  EXPECT_EQ(stats.counts.requests, 3'000u);
  EXPECT_EQ(stats.counts.failures, failures);
  EXPECT_EQ(stats.counts.by_class[5], failures);
  EXPECT_EQ(stats.counts.by_class[2], 3'000u - failures);
  EXPECT_EQ(stats.latency, expected);
  EXPECT_EQ(stats.latency_seconds, 30);
  // The several-series form adds series 0's one request.
  const uint32_t both[] = {0, 1};
  EXPECT_EQ(sum_window(shards, both, kT0 + 29, 30).counts.requests, 3'001u);
  EXPECT_EQ(sum_window_counts(shards, both, kT0 + 29, 30),
            sum_window(shards, both, kT0 + 29, 30).counts);
  // Ten seconds: the last thousand requests only.
  EXPECT_EQ(sum_window(shards, 1, kT0 + 29, 10).counts.requests, 1'000u);
}

TEST(SumWindow, BuiltinMetrics) {
  OutcomeShard a(1), b(1);
  // 100 requests in the last 10 s over two workers: 90 at 10 ms, 10 failed at 1 s.
  for (int i = 0; i < 100; ++i) {
    const int64_t now = kT0 + i / 10;
    if (i % 10 == 9) {
      b.record(0, 503, false, 1'000'000, now);
    } else {
      (i % 2 == 0 ? a : b).record(0, 200, false, 10'000, now);
    }
  }
  const OutcomeShard* shards[] = {&a, &b};
  const WindowStats stats = sum_window(shards, 0, kT0 + 9, 20);
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::SuccessRate, stats), 0.9);
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::ErrorRate, stats), 0.1);
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::RequestRate, stats), 100.0 / 20);
  EXPECT_NEAR(builtin_value(BuiltinMetric::LatencyP50, stats), 0.010, 0.010 * 0.01);
  EXPECT_NEAR(builtin_value(BuiltinMetric::LatencyP90, stats), 0.010, 0.010 * 0.01);
  EXPECT_NEAR(builtin_value(BuiltinMetric::LatencyP95, stats), 1.0, 0.01);
  EXPECT_NEAR(builtin_value(BuiltinMetric::LatencyP99, stats), 1.0, 0.01);
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::LatencyMean, stats), (90 * 0.010 + 10 * 1.0) / 100);
}

TEST(SumWindow, NaNWithoutRequests) {
  OutcomeShard shard(1);
  shard.record(0, 200, false, 100, kT0);
  const OutcomeShard* shards[] = {&shard};
  for (const WindowStats& stats : {sum_window(shards, 0, kT0 + 100, 30), sum_window({}, 0, kT0, 30),
                                   sum_window(shards, 7, kT0, 30)}) {
    EXPECT_EQ(stats.counts.requests, 0u);
    for (BuiltinMetric m : {BuiltinMetric::SuccessRate, BuiltinMetric::ErrorRate,
                            BuiltinMetric::LatencyP50, BuiltinMetric::LatencyP90,
                            BuiltinMetric::LatencyP95, BuiltinMetric::LatencyP99,
                            BuiltinMetric::LatencyMean}) {
      EXPECT_TRUE(std::isnan(builtin_value(m, stats))) << static_cast<int>(m);
    }
    EXPECT_EQ(builtin_value(BuiltinMetric::RequestRate, stats), 0.0);
  }
  // Requests whose latencies fell outside the latency slots: quantiles NaN, the rest defined.
  WindowStats edge;
  edge.seconds = 60;
  edge.counts.requests = 1;
  edge.counts.by_class[2] = 1;
  edge.counts.latency_sum_micros = 2'000;
  EXPECT_TRUE(std::isnan(builtin_value(BuiltinMetric::LatencyP99, edge)));
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::LatencyMean, edge), 0.002);
  EXPECT_DOUBLE_EQ(builtin_value(BuiltinMetric::SuccessRate, edge), 1.0);
}

TEST(SumWindow, ParsesTheSpecsMetricNames) {
  EXPECT_EQ(parse_builtin_metric("success-rate"), BuiltinMetric::SuccessRate);
  EXPECT_EQ(parse_builtin_metric("error-rate"), BuiltinMetric::ErrorRate);
  EXPECT_EQ(parse_builtin_metric("request-rate"), BuiltinMetric::RequestRate);
  EXPECT_EQ(parse_builtin_metric("latency-p50"), BuiltinMetric::LatencyP50);
  EXPECT_EQ(parse_builtin_metric("latency-p90"), BuiltinMetric::LatencyP90);
  EXPECT_EQ(parse_builtin_metric("latency-p95"), BuiltinMetric::LatencyP95);
  EXPECT_EQ(parse_builtin_metric("latency-p99"), BuiltinMetric::LatencyP99);
  EXPECT_EQ(parse_builtin_metric("latency-mean"), BuiltinMetric::LatencyMean);
  EXPECT_EQ(parse_builtin_metric("latency-p999"), std::nullopt);
  EXPECT_EQ(parse_builtin_metric(""), std::nullopt);
  EXPECT_TRUE(needs_histogram(BuiltinMetric::LatencyP99));
  EXPECT_FALSE(needs_histogram(BuiltinMetric::LatencyMean));
  EXPECT_FALSE(needs_histogram(BuiltinMetric::SuccessRate));
}

TEST(SumCumulative, AddsEveryShardSinceTheStart) {
  OutcomeShard a(1), b(1, {false});
  a.record(0, 200, false, 300, kT0);
  a.record(0, 404, false, 40'000'000, kT0 + 1'000);
  b.record(0, 0, true, 1'500, kT0 - 5);
  const OutcomeShard* shards[] = {&a, &b, nullptr};
  const CumulativeStats stats = sum_cumulative(shards, 0);
  EXPECT_EQ(stats.counts.requests, 3u);
  EXPECT_EQ(stats.counts.failures, 1u);
  EXPECT_EQ(stats.counts.by_class[0], 1u);
  EXPECT_EQ(stats.counts.by_class[2], 1u);
  EXPECT_EQ(stats.counts.by_class[4], 1u);
  EXPECT_EQ(stats.counts.latency_sum_micros, 40'001'800u);
  EXPECT_EQ(stats.buckets[2], 1u);   // 300 µs ≤ 0.5 ms
  EXPECT_EQ(stats.buckets[4], 1u);   // 1.5 ms ≤ 2.5 ms
  EXPECT_EQ(stats.buckets[17], 1u);  // 40 s: +Inf
  EXPECT_EQ(stats.cumulative_buckets()[16], 2u);
}

}  // namespace
}  // namespace vane::analysis
