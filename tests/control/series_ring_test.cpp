// The dashboard's series (SPEC §12): one point a second in a fixed ring of 15 minutes, each
// side's second read from real outcome shards, and its JSON with nulls for sides without traffic.
#include "control/series_ring.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "control/json_text.hpp"

namespace vane::control {
namespace {

using analysis::OutcomeShard;

SeriesPoint at(int64_t second, double stable_rps) {
  SeriesPoint point;
  point.second = second;
  point.time = rollout::WallTime{} + std::chrono::seconds(1'700'000'000 + second);
  point.stable.rps = stable_rps;
  return point;
}

TEST(SeriesRing, KeepsTheLastFifteenMinutesOldestFirst) {
  SeriesRing ring;
  EXPECT_TRUE(ring.points(100).empty());
  for (int64_t s = 1; s <= 2000; ++s) ring.put(at(s, static_cast<double>(s)));
  const auto points = ring.points(2000);
  ASSERT_EQ(points.size(), 900u);
  EXPECT_EQ(points.front().second, 1101);
  EXPECT_EQ(points.back().second, 2000);
  for (size_t i = 1; i < points.size(); ++i) EXPECT_EQ(points[i].second, points[i - 1].second + 1);
  // Later, the seconds that fell out of the window are gone even when nothing overwrote them.
  EXPECT_EQ(ring.points(2100).size(), 800u);
  EXPECT_TRUE(ring.points(3000).empty());
}

TEST(SeriesRing, ASecondReadAgainReplacesItsPointNeverANewerOne) {
  SeriesRing ring;
  ring.put(at(10, 1));
  ring.put(at(10, 5));  // read again once late requests landed
  ASSERT_EQ(ring.points(10).size(), 1u);
  EXPECT_EQ(ring.points(10).front().stable.rps, 5);
  ring.put(at(910, 7));   // the same slot, 900 s later
  ring.put(at(10, 9));    // an old second must not come back over it
  const auto points = ring.points(910);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points.front().second, 910);
  EXPECT_EQ(points.front().stable.rps, 7);
}

TEST(SeriesRing, GapsAndNegativeSecondsAreFine) {
  SeriesRing ring;
  ring.put(at(-5, 1));
  ring.put(at(-1, 2));
  ring.put(at(3, 3));
  const auto points = ring.points(3);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].second, -5);
  EXPECT_EQ(points[2].second, 3);
}

TEST(MeasureSecond, SumsOneSecondOfEveryShardAndSeries) {
  OutcomeShard a(3), b(3);
  // Second 100: series 0 gets 10 requests (2 of them 503) at 1..10 ms; series 1 gets 10 at 100 ms.
  for (int i = 1; i <= 10; ++i) {
    (i % 2 ? a : b).record(0, i <= 2 ? 503 : 200, false, static_cast<uint64_t>(i) * 1000, 100);
    a.record(1, 200, false, 100'000, 100);
  }
  a.record(0, 200, false, 1000, 101);  // another second: not counted
  a.record(2, 500, false, 1000, 100);  // another series: not counted
  const OutcomeShard* shards[] = {&a, nullptr, &b};
  const uint32_t zero[] = {0};
  const SidePoint one = measure_second(shards, zero, 100);
  EXPECT_EQ(one.rps, 10);
  EXPECT_DOUBLE_EQ(one.success_rate, 0.8);
  EXPECT_NEAR(one.p50, 0.005, 0.0001);
  EXPECT_NEAR(one.p99, 0.010, 0.0001);
  const uint32_t both[] = {0, 1};
  const SidePoint two = measure_second(shards, both, 100);
  EXPECT_EQ(two.rps, 20);
  EXPECT_DOUBLE_EQ(two.success_rate, 0.9);
  EXPECT_NEAR(two.p99, 0.100, 0.001);
}

TEST(MeasureSecond, NoTrafficIsAZeroRateAndNaNs) {
  OutcomeShard a(1);
  a.record(0, 200, false, 1000, 50);
  const OutcomeShard* shards[] = {&a};
  const uint32_t zero[] = {0};
  const SidePoint none = measure_second(shards, zero, 51);
  EXPECT_EQ(none.rps, 0);
  EXPECT_TRUE(std::isnan(none.success_rate));
  EXPECT_TRUE(std::isnan(none.p50));
  EXPECT_TRUE(std::isnan(none.p99));
}

TEST(SeriesJson, HasTheShapeOfTheSpec) {
  SeriesPoint point = at(0, 12);
  point.stable.success_rate = 0.98765;
  point.stable.p50 = 0.0012344;
  point.stable.p99 = 0.25;
  const SeriesPoint points[] = {point};
  EXPECT_EQ(to_text(series_json(points)),
            R"({"points":[{"time":"2023-11-14T22:13:20.000Z",)"
            R"("stable":{"rps":12,"successRate":0.9877,"p50":0.001234,"p99":0.25},)"
            R"("canary":{"rps":null,"successRate":null,"p50":null,"p99":null}}]})");
  EXPECT_EQ(to_text(series_json({})), R"({"points":[]})");
}

}  // namespace
}  // namespace vane::control
