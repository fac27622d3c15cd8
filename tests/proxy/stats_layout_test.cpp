// StatsLayout: route series for every route, rollout series only for the upstreams each rollout
// may use (issue #19: 1,000 rollouts over 2,000 upstreams must not cost 1,000 × 2,000 series).
#include "proxy/stats_layout.hpp"

#include <gtest/gtest.h>

#include <set>

#include "config/loader.hpp"

namespace vane::proxy {
namespace {

using analysis::Target;

constexpr const char* kYaml = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: a1, endpoints: ["127.0.0.1:1"]}
  - {name: a2, endpoints: ["127.0.0.1:2"]}
  - {name: b1, endpoints: ["127.0.0.1:3"]}
  - {name: b2, endpoints: ["127.0.0.1:4"]}
  - {name: other, endpoints: ["127.0.0.1:5"]}
routes:
  - {name: a, match: {host: a.test}, rollout: a}
  - {name: b, match: {host: b.test}, rollout: b}
  - {name: c, upstream: other}
rollouts:
  - {name: a, upstream: a2, strategy: {canary: {steps: [{setWeight: 50}]}}}
  - {name: b, upstream: b2, strategy: {canary: {steps: [{setWeight: 50}]}}}
)";

TEST(StatsLayout, RolloutSeriesOnlyForTheUpstreamsARolloutUses) {
  const auto config = config::load_string(kYaml, "vane.yaml").config;
  ASSERT_TRUE(config);
  const std::vector<std::vector<bool>> used{{true, true, false, false, false},
                                            {false, false, true, true, false}};
  const StatsLayout layout(*config, used);
  // 3 routes and 2 rollouts × 2 upstreams, each × every target: not 2 rollouts × 5 upstreams.
  constexpr uint32_t kTargets = analysis::kTargetCount;
  EXPECT_EQ(layout.series_count(), 3u * kTargets + 2u * 2 * kTargets);
  EXPECT_EQ(layout.rollout_upstreams(1).size(), 2u);
  EXPECT_EQ(layout.rollout_upstreams(1)[0], 2u);
  EXPECT_EQ(layout.rollout_series(0, 2, Target::Stable), StatsLayout::kNoSeries);
  EXPECT_EQ(layout.rollout_series(1, 4, Target::Canary), StatsLayout::kNoSeries);
  EXPECT_EQ(layout.rollout_series(2, 0, Target::Canary), StatsLayout::kNoSeries) << "no rollout 2";
  std::set<uint32_t> ids;
  for (uint32_t route = 0; route < 3; ++route) {
    for (uint32_t t = 0; t < kTargets; ++t) {
      const uint32_t id = layout.route_series(route, static_cast<Target>(t));
      EXPECT_FALSE(layout.windowed()[id]) << "route series keep counters only";
      ids.insert(id);
    }
  }
  for (uint32_t r = 0; r < 2; ++r) {
    for (const uint32_t u : layout.rollout_upstreams(r)) {
      for (uint32_t t = 0; t < kTargets; ++t) {
        const uint32_t id = layout.rollout_series(r, u, static_cast<Target>(t));
        ASSERT_LT(id, layout.series_count());
        EXPECT_TRUE(layout.windowed()[id]);
        ids.insert(id);
      }
    }
  }
  EXPECT_EQ(ids.size(), layout.series_count()) << "every series id is used exactly once";
  EXPECT_EQ(layout, StatsLayout(*config, used));
  EXPECT_NE(layout, StatsLayout(*config, {{true, false, false, false, false}, used[1]}));
}

}  // namespace
}  // namespace vane::proxy
