// What replicas of a cluster publish of their measurements and how each merges them: seconds by
// age, each once, series by name, malformed values refused (control/cluster_measurements).
#include <gtest/gtest.h>

#include "analysis/window.hpp"
#include "config/loader.hpp"
#include "control/cluster_measurements.hpp"

namespace vane::control {
namespace {

using analysis::Target;

constexpr const char* kYaml = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: v1, endpoints: ["127.0.0.1:1"]}, {name: v2, endpoints: ["127.0.0.1:2"]}]
routes: [{name: web, match: {pathPrefix: /}, rollout: web}]
rollouts: [{name: web, upstream: v2, strategy: {canary: {steps: [{setWeight: 50}]}}}]
)";

struct Replica {
  std::shared_ptr<const config::Config> config = config::load_string(kYaml, "vane.yaml").config;
  std::shared_ptr<const proxy::StatsLayout> layout = std::make_shared<const proxy::StatsLayout>(
      *config, std::vector<std::vector<bool>>{{true, true}});
  analysis::OutcomeShard worker{layout->series_count(), layout->windowed()};
  ClusterMeasurements merged{std::chrono::milliseconds(1000)};

  Replica() { merged.set_layout(config, layout); }
  uint32_t canary() const { return layout->rollout_series(0, 1, Target::Canary); }
  std::string publish(int64_t now) {
    const analysis::OutcomeShard* shards[] = {&worker};
    return merged.publish(shards, now);
  }
  analysis::OutcomeCounts window(int64_t now, int64_t seconds) {
    const uint32_t series = canary();
    return analysis::sum_window_counts(merged.shards(now), std::span(&series, 1), now, seconds);
  }
};

TEST(ClusterMeasurements, EachSecondIsMergedOnceAtItsAge) {
  Replica a;
  Replica b;
  // a's clock is 1000 s ahead of b's: only ages travel.
  for (int i = 0; i < 5; ++i) a.worker.record(a.canary(), 200, false, 1'000, 1'000);
  for (int i = 0; i < 3; ++i) a.worker.record(a.canary(), 503, false, 2'000, 1'001);
  ASSERT_TRUE(a.layout->windowed()[a.canary()]);
  std::string error;
  const std::string first = a.publish(1'003);  // seconds up to 1001 are complete
  ASSERT_TRUE(b.merged.receive("a", first, 53, &error)) << error;
  ASSERT_TRUE(b.merged.receive("a", first, 53, &error)) << error;  // again: nothing doubles
  ASSERT_TRUE(b.merged.receive("a", a.publish(1'004), 54, &error)) << error;  // repeats 1001
  const analysis::OutcomeCounts counts = b.window(54, 10);
  EXPECT_EQ(counts.requests, 8u);
  EXPECT_EQ(counts.failures, 3u);
  EXPECT_EQ(counts.latency_sum_micros, 5u * 1'000 + 3u * 2'000);
  // At their age: 1000 was 3 s old when b heard it at 53, so it is b's second 50.
  EXPECT_EQ(b.window(54, 4).requests, 3u) << "seconds 51..54 hold only a's second 1001";
  // The latencies travel too.
  const uint32_t series = b.canary();
  const auto stats = analysis::sum_window(b.merged.shards(54), series, 54, 10);
  EXPECT_EQ(stats.latency.count(), 8u);
}

TEST(ClusterMeasurements, SeriesAreMatchedByNameAndOthersSkipped) {
  Replica a;
  Replica b;
  a.worker.record(a.canary(), 200, false, 1'000, 10);
  std::string value = a.publish(12);
  const auto at = value.find("\"v2\"");
  ASSERT_NE(at, std::string::npos) << value;
  std::string renamed = value;
  renamed.replace(at, 4, "\"v9\"");  // an upstream b's file lacks
  std::string error;
  ASSERT_TRUE(b.merged.receive("a", renamed, 12, &error)) << error;
  EXPECT_EQ(b.window(12, 10).requests, 0u);
  ASSERT_TRUE(b.merged.receive("a", value, 12, &error)) << error;
  EXPECT_EQ(b.window(12, 10).requests, 1u);
}

TEST(ClusterMeasurements, MalformedValuesAreRefused) {
  Replica b;
  std::string error;
  for (const char* bad : {"", "nope", "[]", R"({"now":1})", R"({"now":"1","series":[]})",
                          R"({"now":5,"series":[{"rollout":"web"}]})",
                          R"({"now":5,"series":[{"rollout":"web","upstream":"v2","target":"canary","seconds":[{"s":3,"c":[0,0,1],"f":0,"l":1,"h":[]}]}]})",
                          R"({"now":5,"series":[{"rollout":"web","upstream":"v2","target":"canary","seconds":[{"s":3,"c":[0,0,1,0,0,0],"f":2,"l":1,"h":[]}]}]})",
                          R"({"now":5,"series":[{"rollout":"web","upstream":"v2","target":"canary","seconds":[{"s":3,"c":[0,0,1,0,0,0],"f":0,"l":1,"h":[99999,1]}]}]})"}) {
    error.clear();
    EXPECT_FALSE(b.merged.receive("x", bad, 5, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  EXPECT_EQ(b.window(5, 10).requests, 0u);
}

}  // namespace
}  // namespace vane::control
