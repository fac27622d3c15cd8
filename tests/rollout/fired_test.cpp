// What each transition fires (SPEC §11): the triggers of a whole canary, of an abort and a retry,
// of a full promotion and of analysis results, in the order an operator reads them.
#include "rollout/fired.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/rollout/blue_green_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using AP = Event::AnalysisPhase;

std::vector<std::string> names(const Transition& t) {
  std::vector<std::string> out;
  for (const auto& fired : t.fired) out.emplace_back(config::to_string(fired.trigger));
  return out;
}

using Names = std::vector<std::string>;

TEST(FiredTest, AWholeCanaryInOrder) {
  Machine m(rollout_yaml(kSpecStrategy));
  // setWeight 10 is done at once, the background analysis starts at step 1, the pause holds.
  EXPECT_EQ(names(m.send(desired("v2"), 0s)),
            (Names{"on-rollout-updated", "on-rollout-step-completed", "on-analysis-run-running",
                   "on-rollout-paused"}));
  EXPECT_EQ(names(m.send(tick(), 30s)), Names{});
  EXPECT_EQ(names(m.send(tick(), 60s)),
            (Names{"on-rollout-resumed", "on-rollout-step-completed", "on-analysis-run-running"}));
  // The analysis step passes; header route, mirror route and setWeight 50 follow; pause {} holds.
  EXPECT_EQ(names(m.send(done(AnalysisKind::Step, AP::Successful, "", 2u), 70s)),
            (Names{"on-analysis-run-successful", "on-rollout-step-completed",
                   "on-rollout-step-completed", "on-rollout-step-completed",
                   "on-rollout-step-completed", "on-rollout-paused"}));
  const auto last = m.send(command(K::Promote), 80s);
  EXPECT_EQ(names(last), (Names{"on-rollout-promoted", "on-rollout-resumed",
                                "on-rollout-step-completed", "on-rollout-completed"}));
  EXPECT_EQ(last.fired.back().message, last.state.message);
  EXPECT_EQ(last.fired[2].message, "step 6 of 7 completed");
}

TEST(FiredTest, AbortThenRetryThenFullPromotion) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  const auto aborted = m.send(command(K::Abort, "bad canary"), 1s);
  EXPECT_EQ(names(aborted), Names{"on-rollout-aborted"});
  EXPECT_NE(aborted.fired[0].message.find("bad canary"), std::string::npos);
  // The attempt starts over from step 0.
  EXPECT_EQ(names(m.send(command(K::Retry), 2s)),
            (Names{"on-rollout-retried", "on-rollout-step-completed", "on-analysis-run-running",
                   "on-rollout-paused"}));
  // Skipped steps are not completed ones.
  EXPECT_EQ(names(m.send(command(K::PromoteFull), 3s)),
            (Names{"on-rollout-promoted", "on-rollout-resumed", "on-rollout-completed"}));
}

TEST(FiredTest, AFailedAnalysisAbortsAfterSayingSo) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  m.send(tick(), 60s);
  const auto failed = m.send(done(AnalysisKind::Step, AP::Failed, "result 0.71", 2u), 70s);
  EXPECT_EQ(names(failed), (Names{"on-analysis-run-failed", "on-rollout-aborted"}));
  EXPECT_EQ(failed.fired[0].message, "analysis of step 2 Failed: result 0.71");
}

TEST(FiredTest, AStaleStepResultFiresNothing) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  EXPECT_EQ(names(m.send(done(AnalysisKind::Step, AP::Successful, "", 5u), 10s)), Names{});
}

TEST(FiredTest, ARefusedCommandFiresNothing) {
  Machine m(rollout_yaml(kSpecStrategy));
  const auto refused = m.send(command(K::Promote), 0s);
  EXPECT_EQ(refused.verdict, Verdict::Conflict);
  EXPECT_EQ(names(refused), Names{});
}

TEST(FiredTest, BackToStableIsAnUpdateNotACompletion) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.send(desired("v2"), 0s);
  EXPECT_EQ(names(m.send(desired("v1"), 1s)), (Names{"on-rollout-updated", "on-rollout-resumed"}));
  // A new version during a rollout replaces the canary: one update, the attempt from step 0.
  m.send(desired("v2"), 2s);
  EXPECT_EQ(names(m.send(desired("v3"), 3s)),
            (Names{"on-rollout-updated", "on-rollout-step-completed", "on-analysis-run-running"}));
}

TEST(FiredTest, ABlueGreenRollout) {
  Machine m(blue_green_yaml());
  EXPECT_EQ(names(m.send(desired("v2"), 0s)),
            (Names{"on-rollout-updated", "on-analysis-run-running"}));
  EXPECT_EQ(names(m.send(done(AnalysisKind::PrePromotion, AP::Successful), 10s)),
            (Names{"on-analysis-run-successful", "on-rollout-paused"}));
  // Auto-promotion after 30 s: the switch, then the post-promotion analysis.
  EXPECT_EQ(names(m.send(tick(), 40s)), (Names{"on-rollout-resumed", "on-analysis-run-running"}));
  EXPECT_EQ(names(m.send(done(AnalysisKind::PostPromotion, AP::Successful), 50s)),
            (Names{"on-analysis-run-successful", "on-rollout-completed"}));
}

TEST(FiredTest, TriggerNamesRoundTrip) {
  for (std::size_t i = 0; i < config::kTriggerCount; ++i) {
    const auto trigger = static_cast<config::Trigger>(i);
    EXPECT_EQ(config::trigger_from_string(config::to_string(trigger)), trigger);
  }
  EXPECT_EQ(config::trigger_from_string("on-rollout-whatever"), std::nullopt);
}

}  // namespace
}  // namespace vane::rollout::test
