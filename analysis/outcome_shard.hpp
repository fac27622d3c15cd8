// The per-worker record of request outcomes: cumulative counters for Prometheus and time-slotted
// windows for analysis. ONE writer (the worker thread, record() on every request); any number of
// readers on other threads (scrape, analysis, status), which sum all workers' shards (window.hpp).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "analysis/latency_histogram.hpp"

namespace vane::analysis {

/// Code classes: index status/100 for 100..599 (1xx..5xx); 0 for no response (an upstream error
/// with status 0) or a status outside 100..599.
inline constexpr size_t kCodeClassCount = 6;
inline constexpr std::array<std::string_view, kCodeClassCount> kCodeClassLabels{
    "none", "1xx", "2xx", "3xx", "4xx", "5xx"};

constexpr size_t code_class_index(int status) {
  return status >= 100 && status <= 599 ? static_cast<size_t>(status / 100) : 0;
}

/// Counts of outcomes, summed over shards and seconds.
struct OutcomeCounts {
  uint64_t requests = 0;
  uint64_t failures = 0;  ///< 5xx answers and upstream errors
  std::array<uint64_t, kCodeClassCount> by_class{};
  uint64_t latency_sum_micros = 0;  ///< exact (not clamped)

  OutcomeCounts& operator+=(const OutcomeCounts& other);
  friend bool operator==(const OutcomeCounts&, const OutcomeCounts&) = default;
};

/// Upper bounds (le, inclusive) of vane_request_duration_seconds' buckets, in µs; +Inf follows.
inline constexpr std::array<uint64_t, 17> kDurationBoundsMicros{
    100,     250,     500,       1'000,     2'500,     5'000,      10'000,     25'000,    50'000,
    100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000};
inline constexpr size_t kDurationBucketCount = kDurationBoundsMicros.size() + 1;

/// What Prometheus exposes for one series since the shard was built.
struct CumulativeStats {
  OutcomeCounts counts;
  /// Per bucket, NOT cumulative: [i] counts latencies in (bound[i-1], bound[i]]; the last one
  /// those above 30 s. Read apart from `counts`, so their sum may trail `counts.requests` briefly.
  std::array<uint64_t, kDurationBucketCount> buckets{};

  /// Prometheus' `le` counts: [i] = latencies ≤ bound[i]; the last is +Inf (= the _count).
  std::array<uint64_t, kDurationBucketCount> cumulative_buckets() const;
};

/// A ring of time slots: slot i holds period p, the seconds [p·period, (p+1)·period), when
/// p ≡ i (mod slots).
struct RingSpec {
  int64_t period_seconds;
  size_t slots;
};

/// Longest window a read covers; longer ones are clamped.
inline constexpr int64_t kMaxWindowSeconds = 600;
/// How many periods a writer's clock may run ahead of the reader's before a read misses data.
inline constexpr int64_t kReaderSlackPeriods = 2;
/// Counts (per class, failures, latency sum) of every second: windows are exact to the second.
inline constexpr RingSpec kCountRing{1, 640};
/// Latency histograms in three resolutions: a window is covered by the coarsest slots that fit in
/// it (window.hpp): exact up to 34 s, to within 5 s up to 2 min, to within 30 s up to 10 min.
inline constexpr std::array<RingSpec, 3> kLatencyRings{{{1, 36}, {5, 28}, {30, 22}}};

/// The newest period the reader may ask a ring for is the one of `now`; it may go this many back.
constexpr int64_t retained_periods(RingSpec ring) {
  return static_cast<int64_t>(ring.slots) - 1 - kReaderSlackPeriods;
}
static_assert(retained_periods(kCountRing) >= kMaxWindowSeconds - 1);
static_assert(retained_periods(kLatencyRings[2]) * kLatencyRings[2].period_seconds >=
              kMaxWindowSeconds - kLatencyRings[2].period_seconds);

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

class OutcomeShard {
 public:
  /// Sized once for the series of a config (ids 0..series_count-1); a new config builds new
  /// shards. `windowed[i]` says whether series i keeps windows (≈ 493 KiB) on top of its
  /// cumulative counters (384 B); empty = every series, a missing entry = false. All memory is
  /// mapped here, in zero pages: a page costs memory once written (a series' first request, a
  /// window slot's first second). Throws std::bad_alloc when it cannot be mapped.
  explicit OutcomeShard(size_t series_count, std::vector<bool> windowed = {});
  ~OutcomeShard();
  OutcomeShard(const OutcomeShard&) = delete;
  OutcomeShard& operator=(const OutcomeShard&) = delete;

  /// WRITER THREAD ONLY. `status` is the HTTP status answered (0: no response); a failure is a
  /// 5xx or `upstream_error`. `now_seconds` is the writer's steady clock in whole seconds (read
  /// once per request by proxy::Generation::record); it is made non-decreasing per series (an earlier `now` counts in the current second). No lock, no
  /// read-modify-write, no allocation. An unknown series id is ignored.
  void record(uint32_t series, int status, bool upstream_error, uint64_t latency_micros,
              int64_t now_seconds);

  /// WRITER THREAD ONLY. Adds a whole second's outcomes at once (what another process measured,
  /// in a cluster: control/cluster_measurements): `counts` (its `requests` is not read: the
  /// classes are) and `latency`, whose values count at their buckets' lower ends in the
  /// cumulative duration buckets. Seconds go in non-decreasing order per series, as in record().
  void add(uint32_t series, int64_t second, const OutcomeCounts& counts,
           const LatencyHistogram& latency);

  // ---- readers: any thread, concurrently with the writer --------------------------------------

  size_t series_count() const { return count_; }
  bool windowed(uint32_t series) const;
  /// What is mapped (an upper bound of the memory used: untouched pages cost none).
  size_t memory_bytes() const;

  /// Adds series' cumulative counters. Each counter never decreases between two reads.
  void add_cumulative(uint32_t series, CumulativeStats& into) const;

  /// Adds the counts of seconds first..last (inclusive) still held by the count ring. A second
  /// the slot no longer holds (never written, or overwritten) adds nothing.
  void add_seconds(uint32_t series, int64_t first, int64_t last, OutcomeCounts& into) const;

  /// Adds the latencies of period `period` of latency ring `ring`, if held (and not rotated while
  /// being read).
  void add_latency(uint32_t series, size_t ring, int64_t period, LatencyHistogram& into) const;

  static const size_t kWindowBytes;  ///< memory of one windowed series

 private:
  struct Series;
  void advance(Series& series, int64_t now_seconds);

  size_t count_;
  size_t mapped_bytes_ = 0;  ///< the series, then their windows
  Series* series_ = nullptr;
};

}  // namespace vane::analysis
