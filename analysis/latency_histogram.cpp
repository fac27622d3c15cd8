#include "analysis/latency_histogram.hpp"

#include <cmath>
#include <limits>

namespace vane::analysis {

// The layout the comments promise: 128 unit buckets, then 64 per power of two up to 100 s.
namespace lb = latency_buckets;
static_assert(lb::kCount == 1376);
static_assert(lb::index(127) == 127 && lb::index(128) == 128 && lb::lower(128) == 128);
static_assert(lb::lower(lb::index(1'000'000)) <= 1'000'000);
static_assert(lb::upper(lb::index(1'000'000)) >= 1'000'000);
static_assert(lb::index(0) == 1 && lb::index(1'000'000'000) == lb::kCount - 1);

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
}

void LatencyHistogram::clear() {
  counts_.fill(0);
  count_ = 0;
}

double LatencyHistogram::quantile(double q) const {
  if (count_ == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const double wanted = std::ceil(q * static_cast<double>(count_));
  const uint64_t rank = std::max<uint64_t>(1, std::min(count_, static_cast<uint64_t>(wanted)));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return bucket_value(i);
  }
  return bucket_value(kBucketCount - 1);  // unreachable: the counts sum to count_
}

double LatencyHistogram::mean() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (counts_[i] != 0) sum += static_cast<double>(counts_[i]) * bucket_value(i);
  }
  return sum / static_cast<double>(count_);
}

}  // namespace vane::analysis
