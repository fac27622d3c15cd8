// The canary state machine over whole rollouts with a fake clock: the SPEC §2 example walked to
// completion, progress deadlines, background analysis, Inconclusive holds, undo, a new desired
// mid-rollout, completion and scale-down.
#include <gtest/gtest.h>

#include "rollout/state_machine.hpp"
#include "rollout/traffic_plan.hpp"
#include "tests/rollout/canary_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using AP = Event::AnalysisPhase;
using Effects = std::vector<Effect>;

TEST(CanaryWalkTest, SpecExampleToCompletionAndScaleDown) {
  Machine m(rollout_yaml(kSpecStrategy));
  auto t = m.send(desired("v2"), 0s);  // step 0 setWeight 10 at once, then the 1m pause
  EXPECT_EQ(t.effects, Effects{start(AnalysisKind::Background)});  // startingStep 1
  EXPECT_EQ(m.state.canary, "v2");
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Step);
  EXPECT_EQ(m.state.paused_since, t0());
  EXPECT_EQ(m.state.pause_until, t0() + 60s);
  EXPECT_EQ(m.state.message, "paused: step 1 (pause 1m) until 2024-05-01T12:01:00.000Z");
  EXPECT_EQ(plan_traffic(m.spec(), m.state, true).weight_centi, 1000u);

  t = m.send(tick(), 59'999ms);
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_TRUE(t.effects.empty());
  t = m.send(tick(), 60s);
  EXPECT_EQ(t.effects, Effects{start(AnalysisKind::Step, 2)});
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::Running);
  EXPECT_EQ(m.state.message, "analysis step 2 running");
  EXPECT_FALSE(m.state.paused_since.has_value());

  t = m.send(done(AnalysisKind::Step, AP::Successful, "", 2), 90s);  // 3, 4, 5 at once; 6 waits
  EXPECT_TRUE(t.effects.empty());
  EXPECT_EQ(m.state.step_index, 6u);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_FALSE(m.state.pause_until.has_value());
  EXPECT_EQ(m.state.message, "paused: step 6 (pause) until promoted");
  const TrafficPlan plan = plan_traffic(m.spec(), m.state, true);
  EXPECT_EQ(plan.weight_centi, 5000u);
  ASSERT_EQ(plan.header_routes.size(), 1u);
  EXPECT_EQ(plan.header_routes[0].name, "beta-testers");
  ASSERT_EQ(plan.mirror_routes.size(), 1u);
  EXPECT_EQ(plan.mirror_routes[0].percentage, 50);

  m.send(tick(), 10h);  // a pause without duration never ends by itself
  EXPECT_EQ(m.state.step_index, 6u);
  t = m.send(command(K::Promote), 10h + 1s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.canary, "");
  EXPECT_EQ(m.state.step_index, 7u);
  EXPECT_EQ(m.state.previous_stable, "v1");
  EXPECT_EQ(m.state.scale_down_at, t0() + 10h + 31s);  // scaleDownDelaySeconds default 30
  EXPECT_EQ(plan_traffic(m.spec(), m.state, true), TrafficPlan{});

  m.send(tick(), 10h + 30s);
  EXPECT_EQ(m.state.previous_stable, "v1");
  m.send(tick(), 10h + 31s);
  EXPECT_EQ(m.state.previous_stable, "");
  EXPECT_FALSE(m.state.scale_down_at.has_value());
  EXPECT_EQ(m.state.phase, Phase::Healthy);
}

TEST(CanaryWalkTest, PromoteFullCompletesWithItsScaleDownDelay) {
  Machine m(rollout_yaml(kSpecStrategy, "    scaleDownDelaySeconds: 5\n"));
  m.send(desired("v2"), 0s);
  const auto t = m.send(command(K::PromoteFull), 10s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.scale_down_at, t0() + 15s);
  EXPECT_EQ(m.state.message, "rollout complete: v2 is stable; v1 kept warm until "
                             "2024-05-01T12:00:15.000Z");
}

TEST(CanaryWalkTest, StepsThatCompleteAtOnceCompleteTheRolloutInOneTransition) {
  Machine m(rollout_yaml(R"(    strategy:
      canary:
        steps: [{setWeight: 20}, {setWeight: 100}]
        analysis: {templates: [{templateName: latency}]}
)"));
  const auto t = m.send(desired("v2"), 0s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});  // the background run is never started
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.phase, Phase::Healthy);
}

TEST(CanaryWalkTest, ProgressDeadlineDegradesThenResumes) {
  Machine m(rollout_yaml(kSpecStrategy, "    progressDeadlineSeconds: 100\n"));
  m.healthy = false;
  m.send(desired("v2"), 0s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.step_index, 0u);
  EXPECT_EQ(m.state.waiting_since, t0());
  EXPECT_EQ(m.state.message, "step 0 (setWeight 10): waiting for a healthy canary endpoint");
  EXPECT_EQ(plan_traffic(m.spec(), m.state, false).weight_centi, 0u);

  m.send(tick(), 99s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.waiting_since, t0());  // set once
  m.send(tick(), 100s);
  EXPECT_EQ(m.state.phase, Phase::Degraded);
  EXPECT_TRUE(m.state.deadline_exceeded);
  EXPECT_FALSE(m.state.aborted);
  EXPECT_NE(m.state.message.find("progress deadline exceeded"), std::string::npos);

  m.healthy = true;
  m.send(tick(), 500s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_FALSE(m.state.deadline_exceeded);
  EXPECT_FALSE(m.state.waiting_since.has_value());
}

TEST(CanaryWalkTest, ProgressDeadlineWithAbort) {
  Machine m(rollout_yaml(kSpecStrategy,
                         "    progressDeadlineSeconds: 100\n    progressDeadlineAbort: true\n"));
  m.healthy = false;
  m.send(desired("v2"), 0s);
  const auto t = m.send(tick(), 100s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});
  EXPECT_EQ(m.state.phase, Phase::Degraded);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.abort_reason,
            "progress deadline exceeded: step 0 (setWeight 10) waited 100s for a healthy canary "
            "endpoint");
  m.healthy = true;
  m.send(tick(), 200s);  // aborted stays aborted
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.phase, Phase::Degraded);
}

TEST(CanaryWalkTest, ProgressDeadlineDoesNotCountDuringAPause) {
  Machine m(rollout_yaml(kSpecStrategy, "    progressDeadlineSeconds: 100\n"));
  m.healthy = false;
  m.send(desired("v2"), 0s);
  m.send(command(K::Pause), 90s);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Manual);
  m.send(tick(), 1000s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  m.send(command(K::Promote), 1000s);  // a manual pause just resumes: the step waits afresh
  EXPECT_EQ(m.state.step_index, 0u);
  EXPECT_EQ(m.state.waiting_since, t0() + 1000s);
  m.send(tick(), 1099s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
}

TEST(CanaryWalkTest, BackgroundAnalysisFromStartingStepOncePerAttempt) {
  Machine m(rollout_yaml(kSpecStrategy));
  EXPECT_EQ(m.send(desired("v2"), 0s).effects, Effects{start(AnalysisKind::Background)});
  EXPECT_EQ(m.state.background_analysis, AnalysisStatus::Running);
  EXPECT_EQ(m.send(tick(), 60s).effects, Effects{start(AnalysisKind::Step, 2)});  // no 2nd bg
  // Inconclusive: Paused; promote starts a new background run, the step run goes on.
  m.send(done(AnalysisKind::Background, AP::Inconclusive, "too few requests"), 70s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Inconclusive);
  EXPECT_EQ(m.state.message, "paused: background analysis Inconclusive: too few requests; "
                             "promote to continue or abort");
  auto t = m.send(command(K::Promote), 80s);
  EXPECT_EQ(t.effects, Effects{start(AnalysisKind::Background)});
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.step_index, 2u);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::Running);
  // Failed: aborted at once with the run's message.
  t = m.send(done(AnalysisKind::Background, AP::Failed, "p95 0.9 did not meet result < 0.5"), 90s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.abort_reason, "p95 0.9 did not meet result < 0.5");
  EXPECT_EQ(m.state.message, "aborted: p95 0.9 did not meet result < 0.5");
  // Retry is a new attempt: the background run starts again.
  t = m.send(command(K::Retry), 100s);
  EXPECT_EQ(t.effects, Effects{start(AnalysisKind::Background)});
  EXPECT_EQ(m.state.step_index, 1u);
}

TEST(CanaryWalkTest, BackgroundFromStepZeroAndSuccessfulIsNotRestarted) {
  Machine m(rollout_yaml(R"(    strategy:
      canary:
        steps: [{pause: {}}, {setWeight: 50}, {pause: {}}]
        analysis: {templates: [{templateName: latency}]}
)"));
  EXPECT_EQ(m.send(desired("v2"), 0s).effects, Effects{start(AnalysisKind::Background)});
  m.send(done(AnalysisKind::Background, AP::Successful), 5s);
  EXPECT_EQ(m.state.background_analysis, AnalysisStatus::Successful);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_TRUE(m.send(command(K::Promote), 6s).effects.empty());
  EXPECT_EQ(m.state.step_index, 2u);
}

TEST(CanaryWalkTest, BackgroundInconclusiveDuringATimedPause) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(done(AnalysisKind::Background, AP::Inconclusive), 10s);
  EXPECT_FALSE(m.state.pause_until.has_value());
  m.send(tick(), 120s);  // the pause step's end no longer resumes it
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  const auto t = m.send(command(K::Promote), 130s);  // new background run, pause step done
  EXPECT_EQ(t.effects, (Effects{start(AnalysisKind::Background), start(AnalysisKind::Step, 2)}));
  EXPECT_EQ(m.state.step_index, 2u);
}

TEST(CanaryWalkTest, StepAnalysisOutcomes) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  // A result for another step is stale.
  EXPECT_TRUE(m.send(done(AnalysisKind::Step, AP::Failed, "", 5), 61s).effects.empty());
  EXPECT_FALSE(m.state.aborted);
  // Inconclusive holds; promote moves past the step.
  m.send(done(AnalysisKind::Step, AP::Inconclusive, "", 2), 62s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Inconclusive);
  EXPECT_EQ(m.state.message,
            "paused: analysis step 2 Inconclusive; promote to continue or abort");
  m.send(tick(), 1h);
  EXPECT_EQ(m.state.step_index, 2u);
  EXPECT_TRUE(m.send(command(K::Promote), 1h).effects.empty());
  EXPECT_EQ(m.state.step_index, 6u);

  Machine e(rollout_yaml(kSpecStrategy));
  e.send(desired("v2"), 0s);
  e.send(tick(), 60s);
  e.send(done(AnalysisKind::Step, AP::Error, "prometheus unreachable", 2), 61s);
  EXPECT_TRUE(e.state.aborted);
  EXPECT_EQ(e.state.abort_reason, "prometheus unreachable");
  EXPECT_EQ(e.state.step_index, 0u);
}

TEST(CanaryWalkTest, PromoteWhileAnalysisRunsTerminatesIt) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  const auto t = m.send(command(K::Promote), 61s);
  EXPECT_EQ(t.effects, Effects{terminate_step(2)});
  EXPECT_EQ(m.state.step_index, 6u);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::None);
}

TEST(CanaryWalkTest, ManualPauseKeepsTheStepRun) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  m.send(command(K::Pause), 61s);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Manual);
  EXPECT_EQ(m.state.paused_since, t0() + 61s);
  EXPECT_EQ(m.state.message, "paused by user at step 2 (analysis); promote to resume");
  // The run ends while paused: the rollout stays paused, promote then moves past the step.
  m.send(done(AnalysisKind::Step, AP::Successful, "", 2), 70s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.step_index, 2u);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::Successful);
  m.send(command(K::Promote), 80s);
  EXPECT_EQ(m.state.step_index, 6u);

  Machine r(rollout_yaml(kSpecStrategy));  // promote before the run ends: it goes on
  r.send(desired("v2"), 0s);
  r.send(tick(), 60s);
  r.send(command(K::Pause), 61s);
  EXPECT_TRUE(r.send(command(K::Promote), 62s).effects.empty());
  EXPECT_EQ(r.state.phase, Phase::Progressing);
  EXPECT_EQ(r.state.step_index, 2u);
  EXPECT_EQ(r.state.step_analysis, AnalysisStatus::Running);
}

TEST(CanaryWalkTest, PauseOnATimedPauseWaitsForPromote) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(command(K::Pause), 10s);
  m.send(tick(), 1h);
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.paused_since, t0());
  m.send(command(K::Promote), 1h);
  EXPECT_EQ(m.state.step_index, 2u);
}

TEST(CanaryWalkTest, AbortWithoutReasonSaysByUser) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(command(K::Abort), 1s);
  EXPECT_EQ(m.state.abort_reason, "aborted by user");
  EXPECT_EQ(m.state.message, "aborted: aborted by user");
  EXPECT_FALSE(m.state.paused_since.has_value());
  EXPECT_EQ(m.state.pause_reason, PauseReason::None);
  EXPECT_EQ(plan_traffic(m.spec(), m.state, true), TrafficPlan{});
}

TEST(CanaryWalkTest, UndoGoesBackToStableAtOnce) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  const auto t = m.send(desired("v1"), 61s);
  EXPECT_EQ(t.effects, Effects{terminate_all()});
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v1");
  EXPECT_EQ(m.state.canary, "");
  EXPECT_EQ(m.state.step_index, 7u);
  EXPECT_EQ(m.state.step_analysis, AnalysisStatus::None);
  EXPECT_EQ(m.state.background_analysis, AnalysisStatus::None);
  EXPECT_EQ(m.state.message, "undo: v1 is desired again; canary v2 dropped");
}

TEST(CanaryWalkTest, NewDesiredMidRolloutStartsOverAgainstTheSameStable) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  EXPECT_TRUE(m.send(desired("v2"), 61s).effects.empty());  // a reload keeps progress
  EXPECT_EQ(m.state.step_index, 2u);
  const auto t = m.send(desired("v3"), 62s);
  EXPECT_EQ(t.effects, (Effects{terminate_all(), start(AnalysisKind::Background)}));
  EXPECT_EQ(m.state.stable, "v1");
  EXPECT_EQ(m.state.canary, "v3");
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.pause_until, t0() + 62s + 60s);
}

TEST(CanaryWalkTest, UndoRightAfterCompletionIsANewCanaryOfTheWarmVersion) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(command(K::PromoteFull), 1s);
  m.send(desired("v1"), 2s);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(m.state.canary, "v1");
  EXPECT_EQ(m.state.previous_stable, "v1");  // still warm
}

TEST(CanaryWalkTest, ResumeEffectsRestartRunningRuns) {
  Machine m(rollout_yaml(kSpecStrategy));
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
  m.send(desired("v2"), 0s);
  EXPECT_EQ(resume_effects(m.spec(), m.state), Effects{start(AnalysisKind::Background)});
  m.send(tick(), 60s);
  EXPECT_EQ(resume_effects(m.spec(), m.state),
            (Effects{start(AnalysisKind::Background), start(AnalysisKind::Step, 2)}));
  m.send(command(K::Abort), 61s);
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
}

}  // namespace
}  // namespace vane::rollout::test
