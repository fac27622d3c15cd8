// Blue-green rollouts walked end to end through the state machine (SPEC §4), with the traffic
// each state calls for: preview at once, auto-promotion timed from the pre-promotion success,
// manual promotion, the switch, post-promotion failure switching back, completion and scale-down.
#include <gtest/gtest.h>

#include "rollout/state_machine.hpp"
#include "rollout/traffic_plan.hpp"
#include "tests/rollout/blue_green_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using AP = Event::AnalysisPhase;
using AK = AnalysisKind;

TrafficPlan plan(const Machine& m) { return plan_traffic(m.spec(), m.state, m.healthy); }

/// The preview route reaches the preview; the active traffic (weight) is all on one side.
void expect_traffic(const Machine& m, bool preview, uint32_t weight_centi) {
  const TrafficPlan p = plan(m);
  EXPECT_EQ(p.preview, preview);
  EXPECT_EQ(p.weight_centi, weight_centi);
  EXPECT_TRUE(p.header_routes.empty());
  EXPECT_TRUE(p.mirror_routes.empty());
}

TEST(BlueGreenWalkTest, AutoPromotionIsCountedFromThePrePromotionSuccess) {
  Machine m(blue_green_yaml());
  expect_traffic(m, false, 0);  // no rollout: the preview route serves the active version

  m.send(desired("v2"), 0s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.message, "preview v2: prePromotionAnalysis running");
  expect_traffic(m, true, 0);

  m.send(done(AK::PrePromotion, AP::Successful), 12s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::BlueGreen);
  EXPECT_EQ(m.state.paused_since, t0() + 12s);
  EXPECT_EQ(m.state.pause_until, t0() + 42s);
  EXPECT_EQ(m.state.message,
            "paused: preview v2 ready; auto-promotion at 2024-05-01T12:00:42.000Z");
  expect_traffic(m, true, 0);

  m.send(tick(), 41999ms);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  expect_traffic(m, true, 0);

  m.send(tick(), 42s);  // one switch of all the active traffic
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.canary, "v2");
  EXPECT_EQ(m.state.previous_stable, "v1");
  EXPECT_FALSE(m.state.pause_until.has_value());
  EXPECT_EQ(m.state.message, "switched to v2; postPromotionAnalysis running (v1 kept warm to "
                             "switch back)");
  expect_traffic(m, true, 10000);

  m.send(done(AK::PostPromotion, AP::Successful), 50s);
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.canary, "");
  EXPECT_EQ(m.state.previous_stable, "v1");
  EXPECT_EQ(m.state.scale_down_at, t0() + 50s + 60s);  // the strategy's scaleDownDelaySeconds
  EXPECT_EQ(m.state.message, "rollout complete: v2 is active; v1 kept warm until "
                             "2024-05-01T12:01:50.000Z");
  expect_traffic(m, false, 0);

  m.send(tick(), 109s);
  EXPECT_EQ(m.state.previous_stable, "v1");
  m.send(tick(), 110s);
  EXPECT_EQ(m.state.previous_stable, "");
  EXPECT_FALSE(m.state.scale_down_at.has_value());
}

TEST(BlueGreenWalkTest, ManualPromotionWaitsForPromoteHoweverLong) {
  Machine m(blue_green_yaml("        previewRoute: shop-preview\n"
                            "        autoPromotionEnabled: false\n"
                            "        autoPromotionSeconds: 5\n"));  // ignored, as in Argo
  m.send(desired("v2"), 0s);  // no pre-promotion analysis: straight to the promotion wait
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::BlueGreen);
  EXPECT_FALSE(m.state.pause_until.has_value());
  EXPECT_EQ(m.state.message, "paused: preview v2 ready; promote to switch to it");
  m.send(tick(), 10h);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  expect_traffic(m, true, 0);

  const Transition t = m.send(command(K::Promote), 10h + 1s);
  EXPECT_EQ(t.verdict, Verdict::Ok);
  EXPECT_EQ(m.state.phase, Phase::Healthy);  // no post-promotion analysis: complete at once
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.scale_down_at, t0() + 10h + 31s);  // the rollout's default 30 s
  EXPECT_EQ(t.effects, std::vector<Effect>{terminate_all()});
}

TEST(BlueGreenWalkTest, WithoutGatesTheSwitchIsImmediate) {
  Machine m(blue_green_yaml("        previewRoute: shop-preview\n",
                            "    scaleDownDelaySeconds: 7\n"));
  m.send(desired("v2"), 0s);
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.previous_stable, "v1");
  EXPECT_EQ(m.state.scale_down_at, t0() + 7s);  // the rollout's scaleDownDelaySeconds
}

TEST(BlueGreenWalkTest, ThePreviewWaitsForAHealthyEndpointBeforeItsAnalysis) {
  Machine m(blue_green_yaml());
  m.healthy = false;
  const Transition t = m.send(desired("v2"), 0s);
  EXPECT_TRUE(t.effects.empty());
  EXPECT_EQ(m.state.message, "preview v2: waiting for a healthy endpoint of v2");
  expect_traffic(m, true, 0);  // the preview route reaches it at once, healthy or not
  m.send(tick(), 599s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  m.send(tick(), 600s);
  EXPECT_EQ(m.state.phase, Phase::Degraded);
  EXPECT_EQ(m.state.message, "progress deadline exceeded: preview v2 waited 600s for a healthy "
                             "endpoint of v2; it resumes once the preview is healthy");
  m.healthy = true;
  EXPECT_EQ(m.send(tick(), 601s).effects, std::vector<Effect>{start_pre()});
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_FALSE(m.state.deadline_exceeded);
}

TEST(BlueGreenWalkTest, ProgressDeadlineAbortAbortsAnUnhealthyPreview) {
  Machine m(blue_green_yaml(kBlueGreenFields,
                            "    progressDeadlineSeconds: 5\n    progressDeadlineAbort: true\n"));
  m.healthy = false;
  m.send(desired("v2"), 0s);
  m.send(tick(), 5s);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.abort_reason,
            "progress deadline exceeded: preview v2 waited 5s for a healthy endpoint of v2");
}

TEST(BlueGreenWalkTest, PostPromotionFailureSwitchesBackAndKeepsThePreviewReachable) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  m.send(done(AK::PrePromotion, AP::Successful), 1s);
  m.send(command(K::Promote), 2s);
  expect_traffic(m, true, 10000);
  m.send(done(AK::PostPromotion, AP::Failed, "metric \"success-rate\" Failed"), 20s);
  EXPECT_EQ(m.state.phase, Phase::Degraded);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.stable, "v1");
  EXPECT_EQ(m.state.canary, "v2");
  EXPECT_EQ(m.state.previous_stable, "");
  EXPECT_EQ(m.state.abort_reason, "metric \"success-rate\" Failed");
  EXPECT_EQ(m.state.message, "aborted: metric \"success-rate\" Failed; switched back to v1; "
                             "route shop-preview still reaches v2");
  expect_traffic(m, true, 0);

  m.send(command(K::Retry), 30s);  // a new attempt against v1
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.stable, "v1");
  EXPECT_EQ(m.state.gate, Gate::Preview);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::Running);
}

TEST(BlueGreenWalkTest, InconclusiveRunsHoldUntilPromote) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  m.send(done(AK::PrePromotion, AP::Inconclusive, "2 requests < minRequests 50"), 1s);
  EXPECT_EQ(m.state.message, "paused: prePromotionAnalysis Inconclusive: 2 requests < "
                             "minRequests 50; promote to continue or abort");
  m.send(command(K::Promote), 2s);  // past the pre-promotion gate: the promotion wait
  EXPECT_EQ(m.state.pause_until, t0() + 32s);
  m.send(tick(), 32s);
  ASSERT_EQ(m.state.gate, Gate::PostPromotion);
  m.send(done(AK::PostPromotion, AP::Inconclusive), 40s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  expect_traffic(m, true, 10000);  // still switched while it waits
  m.send(command(K::Promote), 41s);
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
}

TEST(BlueGreenWalkTest, AManualPauseHoldsARunThatSucceeds) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  m.send(command(K::Pause), 1s);
  EXPECT_EQ(m.state.message, "paused by user at prePromotionAnalysis of v2; promote to resume");
  m.send(done(AK::PrePromotion, AP::Successful), 2s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::Successful);
  m.send(command(K::Promote), 3s);
  EXPECT_EQ(m.state.pause_reason, PauseReason::BlueGreen);
  EXPECT_EQ(m.state.pause_until, t0() + 33s);
  m.send(command(K::Pause), 4s);  // the countdown stops: promote switches
  EXPECT_FALSE(m.state.pause_until.has_value());
  m.send(tick(), 1h);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  m.send(command(K::Promote), 1h + 1s);
  EXPECT_EQ(m.state.gate, Gate::PostPromotion);
}

TEST(BlueGreenWalkTest, AFailedRunWhilePausedStillAborts) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  m.send(command(K::Pause), 1s);
  m.send(done(AK::PrePromotion, AP::Error), 2s);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.abort_reason, "prePromotionAnalysis Error");
}

TEST(BlueGreenWalkTest, PromoteFullSkipsEveryGate) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  const Transition t = m.send(command(K::PromoteFull), 1s);
  EXPECT_EQ(t.effects, std::vector<Effect>{terminate_all()});
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.previous_stable, "v1");
  EXPECT_EQ(m.state.scale_down_at, t0() + 61s);
}

TEST(BlueGreenWalkTest, UndoRightAfterCompletionIsANewPreviewOfTheWarmVersion) {
  Machine m(blue_green_yaml("        previewRoute: shop-preview\n"
                            "        autoPromotionEnabled: false\n"));
  m.send(desired("v2"), 0s);
  m.send(command(K::Promote), 1s);
  ASSERT_EQ(m.state.stable, "v2");
  ASSERT_EQ(m.state.previous_stable, "v1");
  m.send(desired("v1"), 2s);  // v1 is still warm, but it is a new version to switch to
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.canary, "v1");
  EXPECT_EQ(m.state.phase, Phase::Paused);
  expect_traffic(m, true, 0);
  m.send(command(K::Promote), 3s);
  EXPECT_EQ(m.state.stable, "v1");
  EXPECT_EQ(m.state.previous_stable, "v2");
}

TEST(BlueGreenWalkTest, AdaptStrategyRestartsARolloutOfTheOtherStrategy) {
  const auto blue_green = load_config(blue_green_yaml());
  const auto canary = load_config(rollout_yaml(kSpecStrategy));
  RolloutState canary_state;
  canary_state.stable = "v1";
  canary_state.canary = "v2";
  canary_state.step_index = 3;
  canary_state.phase = Phase::Paused;
  const RolloutState fresh = adapt_strategy(blue_green->rollouts[0], canary_state);
  EXPECT_EQ(fresh.stable, "v1");
  EXPECT_EQ(fresh.canary, "");
  EXPECT_EQ(fresh.phase, Phase::Healthy);
  EXPECT_EQ(fresh.message, "strategy changed: the rollout of v2 starts over");
  EXPECT_EQ(adapt_strategy(canary->rollouts[0], canary_state), canary_state);

  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  m.send(command(K::PromoteFull), 1s);
  EXPECT_EQ(adapt_strategy(canary->rollouts[0], m.state), m.state);  // Healthy fits both
  m.send(desired("v3"), 2s);
  m.send(done(AK::PrePromotion, AP::Successful), 3s);
  m.send(command(K::Promote), 4s);  // switched to v3; v2 is the one to switch back to
  ASSERT_EQ(m.state.stable, "v3");
  const RolloutState back = adapt_strategy(canary->rollouts[0], m.state);
  EXPECT_EQ(back.stable, "v2");
  EXPECT_EQ(back.canary, "");
  EXPECT_EQ(adapt_strategy(blue_green->rollouts[0], m.state), m.state);
}

}  // namespace
}  // namespace vane::rollout::test
