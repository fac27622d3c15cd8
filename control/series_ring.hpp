// The dashboard's chart data (SPEC §12): per rollout, one point a second for the last 15 minutes,
// per side, read from the outcome shards the way /metrics and analysis read them (nothing is
// added to the request path). Control thread only.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include <boost/json/object.hpp>

#include "analysis/outcome_shard.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::control {

/// One side's traffic in one second. Without a request the ratio and latencies are NaN (null in
/// JSON) while the rate is 0, as the builtin provider has it (analysis/window.hpp).
struct SidePoint {
  double rps = 0;  ///< requests answered in that second
  double success_rate = std::numeric_limits<double>::quiet_NaN();  ///< 0..1
  double p50 = std::numeric_limits<double>::quiet_NaN();           ///< seconds
  double p99 = std::numeric_limits<double>::quiet_NaN();           ///< seconds
};

struct SeriesPoint {
  int64_t second = std::numeric_limits<int64_t>::min();  ///< steady clock, whole seconds (the key)
  rollout::WallTime time;  ///< the same second on the wall clock
  SidePoint stable;
  SidePoint canary;
};

/// The outcomes of `second` of `series` summed over `shards` (null entries skipped): its counts
/// and the one-second latency slot. A second the shards no longer hold reads as no traffic.
SidePoint measure_second(std::span<const analysis::OutcomeShard* const> shards,
                         std::span<const uint32_t> series, int64_t second);

/// A fixed ring of the last kCapacity seconds; allocated once, never grows.
class SeriesRing {
 public:
  static constexpr int64_t kCapacity = 900;  ///< 15 minutes of seconds

  /// Keeps `point` in the slot of its second, replacing what that slot held (an older second,
  /// or the same second read before its last requests landed).
  void put(const SeriesPoint& point);
  /// The points of the seconds (now - kCapacity, now], oldest first.
  std::vector<SeriesPoint> points(int64_t now) const;

 private:
  std::array<SeriesPoint, kCapacity> slots_{};
};

/// `{"points":[{"time","stable":{"rps","successRate","p50","p99"},"canary":{…}}…]}`.
boost::json::object series_json(std::span<const SeriesPoint> points);

}  // namespace vane::control
