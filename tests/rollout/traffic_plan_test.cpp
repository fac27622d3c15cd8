// plan_traffic (SPEC §3, §4): the weight of the last setWeight done, header and mirror routes
// folded in the order they were set, nothing for no canary or an aborted one, weight 0 and
// suspended routes while the canary is unhealthy.
#include "rollout/traffic_plan.hpp"

#include <gtest/gtest.h>

#include "tests/rollout/blue_green_fixture.hpp"

namespace vane::rollout::test {
namespace {

constexpr std::string_view kFoldStrategy = R"(    strategy:
      canary:
        steps:
          - setWeight: 0.01
          - setHeaderRoute: {name: a, match: [{headerName: X-A, headerValue: {exact: "1"}}]}
          - setHeaderRoute: {name: b, match: [{headerName: X-B, headerValue: {prefix: "b"}}]}
          - setWeight: 12.34
          - setHeaderRoute: {name: a, match: [{headerName: X-A, headerValue: {exact: "2"}}]}
          - setMirrorRoute: {name: m, percentage: 12.5, match: [{method: {exact: GET}}]}
          - setHeaderRoute: {name: b}
          - setMirrorRoute: {name: m}
          - setWeight: 99.99
          - pause: {}
)";

class TrafficPlanTest : public ::testing::Test {
 protected:
  const config::Rollout& spec() const { return config_->rollouts[0]; }

  /// A canary v2 in progress at `step`.
  static RolloutState at(uint32_t step) {
    RolloutState s;
    s.stable = "v1";
    s.canary = "v2";
    s.step_index = step;
    s.phase = Phase::Progressing;
    return s;
  }

  std::vector<std::string> header_names(const TrafficPlan& plan) const {
    std::vector<std::string> names;
    for (const auto& r : plan.header_routes) names.push_back(r.name);
    return names;
  }

  std::shared_ptr<const config::Config> config_ = load_config(rollout_yaml(kFoldStrategy));
};

struct WeightCase {
  uint32_t step;
  uint32_t weight_centi;
};

class WeightTest : public TrafficPlanTest, public ::testing::WithParamInterface<WeightCase> {};

TEST_P(WeightTest, IsTheLastSetWeightDone) {
  const WeightCase& c = GetParam();
  EXPECT_EQ(plan_traffic(spec(), at(c.step), true).weight_centi, c.weight_centi);
}

INSTANTIATE_TEST_SUITE_P(Steps, WeightTest,
                         ::testing::Values(WeightCase{0, 0},  // step 0 not done yet
                                           WeightCase{1, 1},  // 0.01%
                                           WeightCase{3, 1}, WeightCase{4, 1234},
                                           WeightCase{8, 1234}, WeightCase{9, 9999},
                                           WeightCase{10, 9999},
                                           WeightCase{99, 9999}));  // past the end: all done

TEST_F(TrafficPlanTest, HeaderRoutesReplaceInPlaceAndRemove) {
  EXPECT_EQ(header_names(plan_traffic(spec(), at(2), true)), (std::vector<std::string>{"a"}));
  const TrafficPlan three = plan_traffic(spec(), at(3), true);
  EXPECT_EQ(header_names(three), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(three.header_routes[0].match[0].headers[0].value.value, "1");

  const TrafficPlan five = plan_traffic(spec(), at(5), true);
  ASSERT_EQ(header_names(five), (std::vector<std::string>{"a", "b"}));  // a kept its place
  EXPECT_EQ(five.header_routes[0].match[0].headers[0].value.value, "2");
  EXPECT_EQ(five.header_routes[1].match[0].headers[0].value.kind,
            config::StringMatch::Kind::Prefix);

  EXPECT_EQ(header_names(plan_traffic(spec(), at(7), true)), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(plan_traffic(spec(), at(7), true).routes_suspended);
}

TEST_F(TrafficPlanTest, MirrorRoutesFoldToo) {
  EXPECT_TRUE(plan_traffic(spec(), at(5), true).mirror_routes.empty());
  const TrafficPlan six = plan_traffic(spec(), at(6), true);
  ASSERT_EQ(six.mirror_routes.size(), 1u);
  EXPECT_EQ(six.mirror_routes[0].name, "m");
  EXPECT_EQ(six.mirror_routes[0].percentage, 12.5);
  ASSERT_EQ(six.mirror_routes[0].match.size(), 1u);
  EXPECT_EQ(six.mirror_routes[0].match[0].method->value, "GET");
  EXPECT_TRUE(plan_traffic(spec(), at(8), true).mirror_routes.empty());
}

TEST_F(TrafficPlanTest, UnhealthyCanaryGetsNoTrafficAndRoutesAreSuspended) {
  const TrafficPlan plan = plan_traffic(spec(), at(7), false);
  EXPECT_EQ(plan.weight_centi, 0u);
  EXPECT_TRUE(plan.routes_suspended);
  EXPECT_EQ(header_names(plan), (std::vector<std::string>{"a"}));  // listed, never lost
  EXPECT_EQ(plan.mirror_routes.size(), 1u);  // step 7 removes it: not done yet
  EXPECT_EQ(plan_traffic(spec(), at(7), true).weight_centi, 1234u);  // back once healthy
}

TEST_F(TrafficPlanTest, AbortedGetsNothing) {
  RolloutState s = at(7);
  s.aborted = true;
  s.step_index = 0;
  s.phase = Phase::Degraded;
  EXPECT_EQ(plan_traffic(spec(), s, true), TrafficPlan{});
  s.step_index = 7;  // even with steps done, an aborted canary gets nothing
  EXPECT_EQ(plan_traffic(spec(), s, true), TrafficPlan{});
}

TEST_F(TrafficPlanTest, NoCanaryMeansEverythingToStable) {
  RolloutState s = initial_state(spec());
  EXPECT_EQ(plan_traffic(spec(), s, true), TrafficPlan{});
  EXPECT_EQ(plan_traffic(spec(), s, false), TrafficPlan{});
  s.step_index = 10;
  s.previous_stable = "v0";
  EXPECT_EQ(plan_traffic(spec(), s, true).weight_centi, 0u);
}

TEST_F(TrafficPlanTest, WaitingSetWeightKeepsThePreviousWeightOnceHealthy) {
  // The rollout waits at step 8 (setWeight 99.99): the weight in force is still 12.34 when a
  // tick has not yet seen the canary healthy, and 0 while it is not.
  EXPECT_EQ(plan_traffic(spec(), at(8), true).weight_centi, 1234u);
  EXPECT_EQ(plan_traffic(spec(), at(8), false).weight_centi, 0u);
}

/// Blue-green (SPEC §4): the preview route reaches the preview whenever there is one, aborted
/// too; the active traffic is all on the new version once switched, healthy or not.
struct BlueGreenCase {
  const char* what;
  const char* canary;
  Gate gate;
  bool aborted;
  bool healthy;
  bool preview;
  uint32_t weight_centi;
};

class BlueGreenPlanTest : public ::testing::TestWithParam<BlueGreenCase> {};

TEST_P(BlueGreenPlanTest, FollowsTheGate) {
  const BlueGreenCase& c = GetParam();
  SCOPED_TRACE(c.what);
  const auto config = load_config(blue_green_yaml());
  RolloutState s;
  s.stable = c.gate == Gate::PostPromotion ? c.canary : "v1";
  s.canary = c.canary;
  s.gate = c.gate;
  s.aborted = c.aborted;
  TrafficPlan expected;
  expected.preview = c.preview;
  expected.weight_centi = c.weight_centi;
  EXPECT_EQ(plan_traffic(config->rollouts[0], s, c.healthy), expected);
}

INSTANTIATE_TEST_SUITE_P(
    TrafficPlan, BlueGreenPlanTest,
    ::testing::Values(
        BlueGreenCase{"no rollout", "", Gate::None, false, true, false, 0},
        BlueGreenCase{"preview", "v2", Gate::Preview, false, true, true, 0},
        BlueGreenCase{"unhealthy preview", "v2", Gate::Preview, false, false, true, 0},
        BlueGreenCase{"promotion wait", "v2", Gate::Promotion, false, true, true, 0},
        BlueGreenCase{"switched", "v2", Gate::PostPromotion, false, true, true, 10000},
        BlueGreenCase{"switched, unhealthy", "v2", Gate::PostPromotion, false, false, true, 10000},
        BlueGreenCase{"aborted", "v2", Gate::None, true, true, true, 0}));

}  // namespace
}  // namespace vane::rollout::test
