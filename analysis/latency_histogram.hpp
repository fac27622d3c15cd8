// A mergeable latency histogram, 1 µs to 100 s, within 1% on any quantile. A plain value: the
// control thread builds one per window read from the workers' shards; workers never touch it.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace vane::analysis {

/// The bucket layout, shared by LatencyHistogram and the per-worker shards' atomic cells.
/// Log-linear (HDR style): values below 128 µs have a bucket each; above, every power of two
/// [2^m, 2^(m+1)) is split into 64 equal sub-buckets of width 2^(m-6). A bucket's width is at
/// most 1/64 of its lower bound, so reporting its middle is off by at most 1/128 (0.78%).
/// Values are clamped into [kMinMicros, kMaxMicros].
namespace latency_buckets {

inline constexpr uint64_t kMinMicros = 1;
inline constexpr uint64_t kMaxMicros = 100'000'000;  ///< 100 s
inline constexpr unsigned kSubBucketBits = 6;         ///< 64 sub-buckets per power of two

/// The bucket of a latency (clamped first): a count of leading zeros, a shift and an add.
constexpr size_t index(uint64_t micros) {
  const uint64_t v = std::clamp(micros, kMinMicros, kMaxMicros);
  const auto msb = static_cast<unsigned>(63 - std::countl_zero(v));
  const unsigned shift = msb > kSubBucketBits ? msb - kSubBucketBits : 0;
  return (size_t{shift} << kSubBucketBits) + static_cast<size_t>(v >> shift);
}

inline constexpr size_t kCount = index(kMaxMicros) + 1;

/// Smallest value (µs) of bucket `i`.
constexpr uint64_t lower(size_t i) {
  const size_t shift = i < (size_t{2} << kSubBucketBits) ? 0 : (i >> kSubBucketBits) - 1;
  return static_cast<uint64_t>(i - (shift << kSubBucketBits)) << shift;
}

/// Largest value (µs) of bucket `i`, inclusive (the last bucket ends at kMaxMicros).
constexpr uint64_t upper(size_t i) { return i + 1 < kCount ? lower(i + 1) - 1 : kMaxMicros; }

/// The value reported for bucket `i`: the middle of [lower, upper].
constexpr double value(size_t i) {
  return (static_cast<double>(lower(i)) + static_cast<double>(upper(i))) / 2;
}

}  // namespace latency_buckets

/// Latencies in µs, bucketed as above; a plain value (no atomics), mergeable, 11 KiB.
class LatencyHistogram {
 public:
  static constexpr uint64_t kMinMicros = latency_buckets::kMinMicros;
  static constexpr uint64_t kMaxMicros = latency_buckets::kMaxMicros;
  static constexpr size_t kBucketCount = latency_buckets::kCount;

  static constexpr size_t bucket_index(uint64_t micros) { return latency_buckets::index(micros); }
  static constexpr uint64_t bucket_lower(size_t i) { return latency_buckets::lower(i); }
  static constexpr uint64_t bucket_upper(size_t i) { return latency_buckets::upper(i); }
  static constexpr double bucket_value(size_t i) { return latency_buckets::value(i); }

  void record(uint64_t micros) { add_to_bucket(bucket_index(micros), 1); }

  /// Adds `n` values to bucket `index` (< kBucketCount): how a shard's cells are read into a value.
  void add_to_bucket(size_t index, uint64_t n) {
    counts_[index] += n;
    count_ += n;
  }

  void merge(const LatencyHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t bucket_count(size_t index) const { return counts_[index]; }

  /// The q-quantile (0 ≤ q ≤ 1, clamped) in MICROSECONDS, nearest-rank: the value of rank
  /// max(1, ceil(q·count)) in sorted order, reported as its bucket's middle. NaN when empty.
  double quantile(double q) const;

  /// Mean in MICROSECONDS, from the buckets' middles (so within 0.78% of the exact mean of the
  /// clamped values). NaN when empty.
  double mean() const;

  friend bool operator==(const LatencyHistogram&, const LatencyHistogram&) = default;

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
};

}  // namespace vane::analysis
