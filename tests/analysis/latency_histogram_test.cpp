// LatencyHistogram: the bucket layout, quantiles within 1% of the exact nearest-rank quantiles of
// random and adversarial samples, merge, clamping, and the empty cases.
#include "analysis/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vane::analysis {
namespace {

using H = LatencyHistogram;

/// The exact nearest-rank quantile, the definition LatencyHistogram::quantile estimates.
double exact_quantile(const std::vector<uint64_t>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * n)), 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

/// Records `values` (within 1 µs … 100 s) and checks many quantiles against the exact ones.
void expect_within_one_percent(std::vector<uint64_t> values, const std::string& what) {
  H h;
  for (uint64_t v : values) h.record(v);
  std::sort(values.begin(), values.end());
  ASSERT_EQ(h.count(), values.size()) << what;
  std::vector<double> qs{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
  for (int i = 1; i < 200; ++i) qs.push_back(i / 200.0);
  double worst = 0;
  for (double q : qs) {
    const double exact = exact_quantile(values, q);
    const double error = std::abs(h.quantile(q) - exact) / exact;
    worst = std::max(worst, error);
    EXPECT_LE(error, 0.01) << what << " q=" << q << " exact=" << exact << " got=" << h.quantile(q);
  }
  double sum = 0;
  for (uint64_t v : values) sum += static_cast<double>(v);
  const double mean = sum / static_cast<double>(values.size());
  EXPECT_LE(std::abs(h.mean() - mean) / mean, 0.01) << what;
  EXPECT_LE(worst, 1.0 / 128 + 1e-12) << what;
}

TEST(LatencyHistogram, BucketsAreContiguousAndNarrow) {
  EXPECT_EQ(H::bucket_lower(1), 1u);
  for (size_t i = 1; i < H::kBucketCount; ++i) {
    const uint64_t lower = H::bucket_lower(i);
    const uint64_t upper = H::bucket_upper(i);
    ASSERT_LE(lower, upper) << i;
    EXPECT_EQ(H::bucket_index(lower), i);
    EXPECT_EQ(H::bucket_index(upper), i);
    if (i + 1 < H::kBucketCount) {
      EXPECT_EQ(H::bucket_lower(i + 1), upper + 1) << i;
    }
    // Values in one bucket differ by less than 1/64 of the smallest (unit buckets: exact).
    EXPECT_LT(static_cast<double>(upper - lower) / static_cast<double>(lower), 1.0 / 64) << i;
  }
  EXPECT_EQ(H::bucket_upper(H::kBucketCount - 1), H::kMaxMicros);
  EXPECT_EQ(sizeof(H), (H::kBucketCount + 1) * sizeof(uint64_t));
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  std::vector<uint64_t> values;
  for (uint64_t v = 1; v < 128; ++v) values.push_back(v);
  H h;
  for (uint64_t v : values) h.record(v);
  for (size_t i = 0; i < values.size(); ++i) {
    const double q = static_cast<double>(i + 1) / static_cast<double>(values.size());
    EXPECT_EQ(h.quantile(q), static_cast<double>(values[i]));
  }
}

TEST(LatencyHistogram, RandomDistributionsWithinOnePercent) {
  std::mt19937_64 rng(20240601);  // fixed: the samples are the same on every run
  auto unit = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<uint64_t> uniform, log_uniform, exponential, bimodal;
  for (int i = 0; i < 100'000; ++i) {
    uniform.push_back(1 + rng() % H::kMaxMicros);
    log_uniform.push_back(static_cast<uint64_t>(std::exp(unit() * std::log(1e8))));
    exponential.push_back(1 + static_cast<uint64_t>(-std::log(1 - unit()) * 5'000));
    bimodal.push_back(i % 10 == 0 ? 2'000'000 + rng() % 500'000 : 200 + rng() % 100);
  }
  expect_within_one_percent(uniform, "uniform");
  expect_within_one_percent(log_uniform, "log-uniform");
  expect_within_one_percent(exponential, "exponential");
  expect_within_one_percent(bimodal, "bimodal");
}

TEST(LatencyHistogram, AdversarialSamplesWithinOnePercent) {
  // Every bucket's two ends: the worst case for a bucket's middle.
  std::vector<uint64_t> edges;
  for (size_t i = 1; i < H::kBucketCount; ++i) {
    edges.push_back(H::bucket_lower(i));
    edges.push_back(H::bucket_upper(i));
  }
  expect_within_one_percent(edges, "bucket edges");
  // Only lower ends, only upper ends: the quantile is always an end, never the middle.
  std::vector<uint64_t> lowers, uppers;
  for (size_t i = 1; i < H::kBucketCount; ++i) {
    lowers.push_back(H::bucket_lower(i));
    uppers.push_back(H::bucket_upper(i));
  }
  expect_within_one_percent(lowers, "lower ends");
  expect_within_one_percent(uppers, "upper ends");
  // Powers of two and their neighbours, a single repeated value, the two extremes.
  std::vector<uint64_t> powers;
  for (uint64_t p = 1; p <= H::kMaxMicros; p *= 2) {
    for (uint64_t v : {p - 1, p, p + 1}) {
      if (v >= 1) powers.push_back(v);
    }
  }
  expect_within_one_percent(powers, "powers of two");
  expect_within_one_percent(std::vector<uint64_t>(1000, 12'345'678), "one value");
  expect_within_one_percent({1, H::kMaxMicros}, "extremes");
  std::vector<uint64_t> heavy_tail(990, 150);
  heavy_tail.insert(heavy_tail.end(), 10, 29'999'999);
  expect_within_one_percent(heavy_tail, "heavy tail at p99");
}

TEST(LatencyHistogram, ClampsOutsideTheRange) {
  H h;
  h.record(0);
  EXPECT_EQ(h.quantile(0.5), 1.0);
  h.clear();
  h.record(1'000'000'000'000);
  EXPECT_NEAR(h.quantile(0.5), 1e8, 1e6);
  EXPECT_LE(h.quantile(1), static_cast<double>(H::kMaxMicros));
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingIntoOne) {
  std::mt19937_64 rng(7);
  H a, b, c, all;
  for (int i = 0; i < 30'000; ++i) {
    const uint64_t v = 1 + rng() % 3'000'000;
    (i % 3 == 0 ? a : i % 3 == 1 ? b : c).record(v);
    all.record(v);
  }
  H merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(c);
  EXPECT_EQ(merged, all);
  EXPECT_EQ(merged.count(), 30'000u);
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) EXPECT_EQ(merged.quantile(q), all.quantile(q));
  H empty;
  merged.merge(empty);
  EXPECT_EQ(merged, all);
}

TEST(LatencyHistogram, EmptyIsNaNAndClearEmpties) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(std::isnan(h.quantile(0.5)));
  EXPECT_TRUE(std::isnan(h.mean()));
  h.record(500);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_TRUE(std::isnan(h.quantile(std::nan(""))));
  EXPECT_EQ(h.quantile(-1), h.quantile(0));
  EXPECT_EQ(h.quantile(2), h.quantile(1));
  h.clear();
  EXPECT_EQ(h, H{});
  EXPECT_TRUE(std::isnan(h.quantile(0.99)));
}

TEST(LatencyHistogram, AddToBucketMatchesRecord) {
  H recorded, added;
  for (int i = 0; i < 5; ++i) recorded.record(2'500);
  added.add_to_bucket(H::bucket_index(2'500), 5);
  EXPECT_EQ(recorded, added);
}

}  // namespace
}  // namespace vane::analysis
