// OutcomeShard: cumulative counters by class and duration bucket, per-second slots rotated by the
// `now` the writer passes (a fake clock here), windows that drop old and stale data, series
// isolation, and one writer thread racing a reader thread.
#include "analysis/outcome_shard.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <thread>
#include <vector>

#include "analysis/window.hpp"

namespace vane::analysis {
namespace {

constexpr int64_t kT0 = 1'700'000'000;  // a plausible epoch second

OutcomeCounts seconds(const OutcomeShard& shard, uint32_t series, int64_t first, int64_t last) {
  OutcomeCounts counts;
  shard.add_seconds(series, first, last, counts);
  return counts;
}

WindowStats window(const OutcomeShard& shard, uint32_t series, int64_t now, int64_t w) {
  const OutcomeShard* shards[] = {&shard};
  return sum_window(shards, series, now, w);
}

TEST(OutcomeShard, CountsByClassAndFailures) {
  OutcomeShard shard(1);
  shard.record(0, 101, false, 10, kT0);
  shard.record(0, 200, false, 20, kT0);
  shard.record(0, 204, false, 30, kT0);
  shard.record(0, 302, false, 40, kT0);
  shard.record(0, 404, false, 50, kT0);
  shard.record(0, 503, false, 60, kT0);         // 5xx: a failure
  shard.record(0, 502, true, 70, kT0);          // an upstream error answered 502: one failure
  shard.record(0, 0, true, 80, kT0);            // no response at all
  shard.record(0, 200, true, 90, kT0);          // reset after the head was sent
  shard.record(0, 700, false, 100, kT0);        // out of range: class "none", not a failure
  CumulativeStats cumulative;
  shard.add_cumulative(0, cumulative);
  const std::array<uint64_t, kCodeClassCount> by_class{2, 1, 3, 1, 1, 2};
  EXPECT_EQ(cumulative.counts.by_class, by_class);
  EXPECT_EQ(cumulative.counts.requests, 10u);
  EXPECT_EQ(cumulative.counts.failures, 4u);
  EXPECT_EQ(cumulative.counts.latency_sum_micros, 550u);
  // The same in the second's slot.
  EXPECT_EQ(seconds(shard, 0, kT0, kT0), cumulative.counts);
  EXPECT_EQ(code_class_index(99), 0u);
  EXPECT_EQ(code_class_index(599), 5u);
  EXPECT_EQ(kCodeClassLabels[code_class_index(418)], "4xx");
}

TEST(OutcomeShard, DurationBucketsAreLeInclusive) {
  OutcomeShard shard(1, {false});
  const std::vector<uint64_t> latencies{0, 100, 101, 250, 999, 1'000, 1'001, 30'000'000,
                                        30'000'001, 500'000'000};
  for (uint64_t micros : latencies) shard.record(0, 200, false, micros, kT0);
  CumulativeStats stats;
  shard.add_cumulative(0, stats);
  std::array<uint64_t, kDurationBucketCount> expected{};
  expected[0] = 2;   // 0, 100 ≤ 100 µs
  expected[1] = 2;   // 101, 250 ≤ 250 µs
  expected[3] = 2;   // 999, 1000 ≤ 1 ms
  expected[4] = 1;   // 1001 ≤ 2.5 ms
  expected[16] = 1;  // 30 s ≤ 30 s
  expected[17] = 2;  // above 30 s: +Inf
  EXPECT_EQ(stats.buckets, expected);
  const auto le = stats.cumulative_buckets();
  EXPECT_EQ(le[0], 2u);
  EXPECT_EQ(le[3], 6u);
  EXPECT_EQ(le[16], 8u);
  EXPECT_EQ(le.back(), stats.counts.requests);
}

TEST(OutcomeShard, EachBoundOfEveryBucket) {
  // Against a plain linear scan, for each bound and its neighbours.
  for (size_t i = 0; i < kDurationBoundsMicros.size(); ++i) {
    for (uint64_t micros : {kDurationBoundsMicros[i] - 1, kDurationBoundsMicros[i],
                            kDurationBoundsMicros[i] + 1}) {
      OutcomeShard shard(1, {false});
      shard.record(0, 200, false, micros, kT0);
      CumulativeStats stats;
      shard.add_cumulative(0, stats);
      size_t expected = 0;
      while (expected < kDurationBoundsMicros.size() && micros > kDurationBoundsMicros[expected]) {
        ++expected;
      }
      EXPECT_EQ(stats.buckets[expected], 1u) << micros;
    }
  }
}

TEST(OutcomeShard, SlotsRotateWithTheWritersClock) {
  OutcomeShard shard(1);
  for (int i = 0; i < 3; ++i) shard.record(0, 200, false, 100, kT0);
  for (int i = 0; i < 2; ++i) shard.record(0, 500, false, 100, kT0 + 1);
  shard.record(0, 200, false, 100, kT0 + 5);
  EXPECT_EQ(seconds(shard, 0, kT0, kT0).requests, 3u);
  EXPECT_EQ(seconds(shard, 0, kT0 + 1, kT0 + 1).requests, 2u);
  EXPECT_EQ(seconds(shard, 0, kT0 + 1, kT0 + 1).failures, 2u);
  EXPECT_EQ(seconds(shard, 0, kT0 + 2, kT0 + 4).requests, 0u);
  EXPECT_EQ(seconds(shard, 0, kT0, kT0 + 5).requests, 6u);
  // A `now` that goes backwards counts in the current second.
  shard.record(0, 200, false, 100, kT0 + 3);
  EXPECT_EQ(seconds(shard, 0, kT0 + 5, kT0 + 5).requests, 2u);
  EXPECT_EQ(seconds(shard, 0, kT0 + 3, kT0 + 3).requests, 0u);
}

/// One request per second for 700 s; the request of second i takes (i + 1) ms.
class WindowsOverTime : public ::testing::Test {
 protected:
  static constexpr int64_t kSeconds = 700;
  static constexpr int64_t kNow = kT0 + kSeconds - 1;
  static uint64_t latency_of(int64_t second) {
    return static_cast<uint64_t>(second - kT0 + 1) * 1'000;
  }

  void SetUp() override {
    for (int64_t t = kT0; t <= kNow; ++t) {
      shard_.record(0, t % 10 == 0 ? 503 : 200, false, latency_of(t), t);
    }
  }
  OutcomeShard shard_{1};
};

TEST_F(WindowsOverTime, WindowsHoldExactlyTheirSeconds) {
  for (int64_t w : {1, 30, 60, 300, 600}) {
    const WindowStats stats = window(shard_, 0, kNow, w);
    EXPECT_EQ(stats.seconds, w);
    EXPECT_EQ(stats.counts.requests, static_cast<uint64_t>(w)) << w;
    uint64_t failures = 0, sum = 0;
    for (int64_t t = kNow - w + 1; t <= kNow; ++t) {
      failures += t % 10 == 0 ? 1u : 0u;
      sum += latency_of(t);
    }
    EXPECT_EQ(stats.counts.failures, failures) << w;
    EXPECT_EQ(stats.counts.latency_sum_micros, sum) << w;
    // Latencies: the newest latency_seconds of the window, none older than it.
    EXPECT_LE(stats.latency_seconds, w);
    EXPECT_GT(stats.latency_seconds, w * 9 / 10) << w;
    if (w <= 34) {
      EXPECT_EQ(stats.latency_seconds, w);
    }
    EXPECT_EQ(stats.latency.count(), static_cast<uint64_t>(stats.latency_seconds)) << w;
    const double oldest = static_cast<double>(latency_of(kNow - stats.latency_seconds + 1));
    EXPECT_NEAR(stats.latency.quantile(0), oldest, oldest * 0.01) << w;
    EXPECT_NEAR(stats.latency.quantile(1), static_cast<double>(latency_of(kNow)), 7'000) << w;
  }
}

TEST_F(WindowsOverTime, LongerWindowsAreClamped) {
  const WindowStats stats = window(shard_, 0, kNow, 3600);
  EXPECT_EQ(stats.seconds, kMaxWindowSeconds);
  EXPECT_EQ(stats.counts.requests, static_cast<uint64_t>(kMaxWindowSeconds));
}

TEST_F(WindowsOverTime, AWindowThatEndsLaterLosesItsOldestSeconds) {
  // Nothing recorded after kNow: 10 s later a 30 s window holds 20 requests.
  const WindowStats stats = window(shard_, 0, kNow + 10, 30);
  EXPECT_EQ(stats.counts.requests, 20u);
  EXPECT_EQ(stats.latency.count(), 20u);
  // 599 s later only kNow is left; its latency only if the plan reaches back all 600 s.
  const WindowStats late = window(shard_, 0, kNow + 599, 600);
  EXPECT_EQ(late.counts.requests, 1u);
  EXPECT_EQ(late.latency.count(), late.latency_seconds == 600 ? 1u : 0u);
  EXPECT_EQ(window(shard_, 0, kNow + 600, 600).counts.requests, 0u);
}

TEST(OutcomeShard, StaleSlotsAreIgnoredAfterALongGap) {
  OutcomeShard shard(1);
  for (int i = 0; i < 50; ++i) shard.record(0, 200, false, 100, kT0);
  // Reading at the seconds whose slots hold kT0 (same ring positions, other periods).
  const int64_t count_wrap = kT0 + static_cast<int64_t>(kCountRing.slots);
  EXPECT_EQ(window(shard, 0, count_wrap, 600).counts.requests, 0u);
  EXPECT_EQ(window(shard, 0, count_wrap, 1).counts.requests, 0u);
  const int64_t fine_wrap = kT0 + static_cast<int64_t>(kLatencyRings[0].slots);
  EXPECT_EQ(window(shard, 0, fine_wrap, 1).latency.count(), 0u);
  EXPECT_EQ(window(shard, 0, fine_wrap, 1).counts.requests, 0u);
  EXPECT_EQ(window(shard, 0, fine_wrap, 60).counts.requests, 50u);  // still in a 60 s window
  for (const RingSpec ring : kLatencyRings) {  // each ring's slot of kT0, read for a later period
    const int64_t wrap = kT0 + ring.period_seconds * static_cast<int64_t>(ring.slots);
    EXPECT_EQ(window(shard, 0, wrap, ring.period_seconds).latency.count(), 0u) << wrap;
  }
  // The writer comes back after an hour: only the new request counts.
  shard.record(0, 500, false, 100, kT0 + 3600);
  const WindowStats stats = window(shard, 0, kT0 + 3600, 600);
  EXPECT_EQ(stats.counts.requests, 1u);
  EXPECT_EQ(stats.counts.failures, 1u);
  EXPECT_EQ(stats.latency.count(), 1u);
  // It also comes back exactly one count ring later: that slot is cleared, not added to.
  const int64_t again = kT0 + 3600 + static_cast<int64_t>(kCountRing.slots);
  shard.record(0, 200, false, 100, again);
  EXPECT_EQ(window(shard, 0, again, 1).counts.requests, 1u);
}

TEST(OutcomeShard, SeriesAreIsolated) {
  OutcomeShard shard(3);
  for (int i = 0; i < 7; ++i) shard.record(0, 200, false, 100, kT0);
  for (int i = 0; i < 3; ++i) shard.record(2, 503, false, 5'000, kT0);
  shard.record(3, 200, false, 100, kT0);  // unknown series: ignored
  EXPECT_EQ(window(shard, 0, kT0, 1).counts.requests, 7u);
  EXPECT_EQ(window(shard, 0, kT0, 1).counts.failures, 0u);
  EXPECT_EQ(window(shard, 1, kT0, 1).counts.requests, 0u);
  EXPECT_EQ(window(shard, 2, kT0, 1).counts.failures, 3u);
  EXPECT_EQ(window(shard, 2, kT0, 1).latency.count(), 3u);
  EXPECT_EQ(window(shard, 3, kT0, 1).counts.requests, 0u);
  CumulativeStats none;
  shard.add_cumulative(3, none);
  EXPECT_EQ(none.counts.requests, 0u);
}

TEST(OutcomeShard, SeriesWithoutWindowsKeepCountersOnly) {
  OutcomeShard shard(2, {true, false});
  EXPECT_TRUE(shard.windowed(0));
  EXPECT_FALSE(shard.windowed(1));
  shard.record(1, 200, false, 100, kT0);
  CumulativeStats stats;
  shard.add_cumulative(1, stats);
  EXPECT_EQ(stats.counts.requests, 1u);
  EXPECT_EQ(window(shard, 1, kT0, 60).counts.requests, 0u);
  EXPECT_LT(shard.memory_bytes(), OutcomeShard(2).memory_bytes());
}

TEST(OutcomeShard, MemoryPerWindowedSeriesIsBounded) {
  EXPECT_LE(OutcomeShard::kWindowBytes, 512u * 1024);
  const OutcomeShard shard(4);
  EXPECT_GE(shard.memory_bytes(), 4 * OutcomeShard::kWindowBytes);
  EXPECT_LE(shard.memory_bytes(), 4 * (OutcomeShard::kWindowBytes + 1024));
}

/// This process's resident memory, from /proc/self/statm (pages).
uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// 2,000 windowed series map about 1 GB, but a series costs memory only where it was written:
// 1,000 rollouts' series must not be gigabytes before their first request (issue #19).
TEST(OutcomeShard, UntouchedSeriesCostNoMemory) {
  constexpr size_t kSeries = 2'000;
  const uint64_t before = resident_bytes();
  OutcomeShard shard(kSeries);
  EXPECT_GE(shard.memory_bytes(), kSeries * OutcomeShard::kWindowBytes);
  for (uint32_t id = 0; id < kSeries; id += 97) EXPECT_EQ(window(shard, id, kT0, 600).counts.requests, 0u);
  EXPECT_LT(resident_bytes() - before, 16u << 20) << "reading untouched series must not fill them";
  for (int s = 0; s < 3; ++s) shard.record(7, 200, false, 1'000, kT0 + s);
  EXPECT_EQ(window(shard, 7, kT0 + 2, 3).counts.requests, 3u);
  EXPECT_EQ(window(shard, 8, kT0 + 2, 3).counts.requests, 0u);
  EXPECT_LT(resident_bytes() - before, 16u << 20) << "three seconds of one series touch a few pages";
}

// One writer records N outcomes over advancing seconds while a reader sums: cumulative counters
// never decrease, a window never holds more failures than requests, and the end totals are exact.
TEST(OutcomeShard, OneWriterAndAReaderConcurrently) {
  constexpr uint64_t kN = 400'000;
  constexpr uint64_t kPerSecond = 2'000;  // 200 s of traffic: every ring rotates
  OutcomeShard shard(2);
  std::atomic<int64_t> writer_now{kT0};
  std::atomic<bool> done{false};
  std::atomic<bool> reading{false};
  std::jthread writer([&] {  // joins on every way out, failed ASSERTs included
    while (!reading.load(std::memory_order_acquire)) std::this_thread::yield();  // overlap them
    for (uint64_t i = 0; i < kN; ++i) {
      const auto now = kT0 + static_cast<int64_t>(i / kPerSecond);
      writer_now.store(now, std::memory_order_relaxed);
      shard.record(static_cast<uint32_t>(i % 2), i % 7 == 0 ? 503 : 200, false, 1 + i % 5'000, now);
    }
    done.store(true, std::memory_order_release);
  });
  const OutcomeShard* shards[] = {&shard};
  CumulativeStats last;
  uint64_t reads = 0;
  bool finished = false;
  reading.store(true, std::memory_order_release);
  while (!finished && reads < 1'000'000) {  // bounded even if the writer stalled
    finished = done.load(std::memory_order_acquire);
    const CumulativeStats now = sum_cumulative(shards, 0);
    for (size_t c = 0; c < kCodeClassCount; ++c) {
      ASSERT_GE(now.counts.by_class[c], last.counts.by_class[c]);
    }
    for (size_t b = 0; b < kDurationBucketCount; ++b) ASSERT_GE(now.buckets[b], last.buckets[b]);
    ASSERT_GE(now.counts.failures, last.counts.failures);
    ASSERT_GE(now.counts.latency_sum_micros, last.counts.latency_sum_micros);
    last = now;
    const WindowStats w = sum_window(shards, 0, writer_now.load(std::memory_order_relaxed), 5);
    ASSERT_LE(w.counts.failures, w.counts.requests);
    ASSERT_LE(w.counts.requests, 5 * kPerSecond / 2);
    ++reads;
  }
  writer.join();
  ASSERT_TRUE(finished);
  uint64_t failures0 = 0, sum0 = 0;
  for (uint64_t i = 0; i < kN; i += 2) {
    failures0 += i % 7 == 0 ? 1u : 0u;
    sum0 += 1 + i % 5'000;
  }
  const CumulativeStats end = sum_cumulative(shards, 0);
  EXPECT_EQ(end.counts.requests, kN / 2);
  EXPECT_EQ(end.counts.failures, failures0);
  EXPECT_EQ(end.counts.latency_sum_micros, sum0);
  EXPECT_EQ(end.cumulative_buckets().back(), kN / 2);
  const int64_t last_second = kT0 + static_cast<int64_t>((kN - 1) / kPerSecond);
  const WindowStats all = sum_window(shards, 0, last_second, kMaxWindowSeconds);
  EXPECT_EQ(all.counts.requests, kN / 2);
  EXPECT_EQ(all.counts.failures, failures0);
  EXPECT_EQ(sum_window(shards, 1, last_second, kMaxWindowSeconds).counts.requests, kN / 2);
  EXPECT_GT(reads, 0u);
}

}  // namespace
}  // namespace vane::analysis
