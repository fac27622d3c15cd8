#include "control/series_ring.hpp"

#include <cmath>

#include <boost/json/array.hpp>

#include "analysis/window.hpp"
#include "control/status_json.hpp"

namespace vane::control {
namespace {

namespace json = boost::json;

constexpr size_t kSecondRing = 0;  ///< kLatencyRings[0]: one-second latency slots
static_assert(analysis::kLatencyRings[kSecondRing].period_seconds == 1);

/// `value` rounded to a multiple of 1/scale (shorter JSON), null for NaN.
json::value rounded(double value, double scale) {
  if (std::isnan(value)) return nullptr;
  return json::value(std::round(value * scale) / scale);
}

/// The slot of `second`: its remainder modulo the capacity, also for negative seconds.
size_t slot_of(int64_t second) {
  return static_cast<size_t>(second - analysis::floor_div(second, SeriesRing::kCapacity) * SeriesRing::kCapacity);
}

/// SPEC §12: a side without traffic in that second has null values, its rate included.
json::object side_json(const SidePoint& side) {
  const double rps = side.rps > 0 ? side.rps : std::nan("");
  return json::object{{"rps", rounded(rps, 1)},
                      {"successRate", rounded(side.success_rate, 1e4)},
                      {"p50", rounded(side.p50, 1e6)},
                      {"p99", rounded(side.p99, 1e6)}};
}

}  // namespace

SidePoint measure_second(std::span<const analysis::OutcomeShard* const> shards,
                         std::span<const uint32_t> series, int64_t second) {
  analysis::WindowStats stats;
  stats.seconds = 1;
  stats.latency_seconds = 1;
  for (const analysis::OutcomeShard* shard : shards) {
    if (shard == nullptr) continue;
    for (const uint32_t id : series) {
      shard->add_seconds(id, second, second, stats.counts);
      shard->add_latency(id, kSecondRing, second, stats.latency);
    }
  }
  SidePoint point;
  point.rps = analysis::request_rate(stats);
  point.success_rate = analysis::success_rate(stats.counts);
  point.p50 = analysis::latency_quantile_seconds(stats, 0.50);
  point.p99 = analysis::latency_quantile_seconds(stats, 0.99);
  return point;
}

void SeriesRing::put(const SeriesPoint& point) {
  SeriesPoint& slot = slots_[slot_of(point.second)];
  if (slot.second <= point.second) slot = point;  // never an older second over a newer one
}

std::vector<SeriesPoint> SeriesRing::points(int64_t now) const {
  std::vector<SeriesPoint> out;
  for (int64_t second = now - kCapacity + 1; second <= now; ++second) {
    const SeriesPoint& slot = slots_[slot_of(second)];
    if (slot.second == second) out.push_back(slot);
  }
  return out;
}

json::object series_json(std::span<const SeriesPoint> points) {
  json::array list;
  list.reserve(points.size());
  for (const SeriesPoint& point : points) {
    list.push_back(json::object{{"time", rfc3339(point.time)},
                                {"stable", side_json(point.stable)},
                                {"canary", side_json(point.canary)}});
  }
  return json::object{{"points", std::move(list)}};
}

}  // namespace vane::control
