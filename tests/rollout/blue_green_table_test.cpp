// The blue-green state machine's table (SPEC §4, §6 verdicts): every situation × every event,
// from states reached by driving the machine (preview route, both analyses, auto-promotion 30 s
// after the pre-promotion analysis). No sleeping: time is an argument.
#include <gtest/gtest.h>

#include "rollout/state_machine.hpp"
#include "tests/rollout/blue_green_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using AP = Event::AnalysisPhase;
using AK = AnalysisKind;

/// Where a row starts (stable v1; v2 is the new desired upstream).
enum class From {
  Healthy,       ///< v1 active, no preview
  Preview,       ///< v2 preview, no healthy endpoint yet (Progressing)
  Stalled,       ///< v2 preview unhealthy past progressDeadlineSeconds (Degraded, not aborted)
  PreAnalysis,   ///< v2 healthy, prePromotionAnalysis running
  Promotion,     ///< prePromotionAnalysis Successful: Paused until +30 s
  Inconclusive,  ///< prePromotionAnalysis Inconclusive: Paused until promote
  Switching,     ///< promotion due, v2 unhealthy: Progressing
  PostAnalysis,  ///< switched to v2, postPromotionAnalysis running
  Aborted,       ///< aborted during the prePromotionAnalysis
};

void reach(Machine& m, From from) {
  m.healthy = true;
  switch (from) {
    case From::Healthy:
      return;
    case From::Preview:
      m.healthy = false;
      m.send(desired("v2"), 0s);
      ASSERT_EQ(m.state.phase, Phase::Progressing);
      return;
    case From::Stalled:
      m.healthy = false;
      m.send(desired("v2"), 0s);
      m.send(tick(), 600s);
      ASSERT_EQ(m.state.phase, Phase::Degraded);
      ASSERT_FALSE(m.state.aborted);
      return;
    case From::PreAnalysis:
      m.send(desired("v2"), 0s);
      ASSERT_EQ(m.state.step_analysis, AnalysisStatus::Running);
      return;
    case From::Promotion:
      m.send(desired("v2"), 0s);
      m.send(done(AK::PrePromotion, AP::Successful), 10s);
      ASSERT_EQ(m.state.phase, Phase::Paused);
      ASSERT_EQ(m.state.pause_until, t0() + 40s);
      return;
    case From::Inconclusive:
      m.send(desired("v2"), 0s);
      m.send(done(AK::PrePromotion, AP::Inconclusive), 10s);
      ASSERT_EQ(m.state.pause_reason, PauseReason::Inconclusive);
      return;
    case From::Switching:
      m.send(desired("v2"), 0s);
      m.send(done(AK::PrePromotion, AP::Successful), 10s);
      m.healthy = false;
      m.send(tick(), 40s);
      ASSERT_EQ(m.state.phase, Phase::Progressing);
      ASSERT_EQ(m.state.gate, Gate::Promotion);
      return;
    case From::PostAnalysis:
      m.send(desired("v2"), 0s);
      m.send(done(AK::PrePromotion, AP::Successful), 10s);
      m.send(tick(), 40s);
      ASSERT_EQ(m.state.gate, Gate::PostPromotion);
      return;
    case From::Aborted:
      m.send(desired("v2"), 0s);
      m.send(command(K::Abort, "stop"), 1s);
      ASSERT_TRUE(m.state.aborted);
      return;
  }
}

struct Row {
  const char* what;
  From from;
  Event event;
  bool healthy;                ///< the preview's health for the event
  std::chrono::seconds after;  ///< the event comes this long after the state was reached
  Verdict verdict;
  Phase phase;
  Gate gate;
  const char* stable;  ///< the active version afterwards
  const char* canary;  ///< the preview afterwards ("" none)
  bool aborted;
  bool unchanged;  ///< the state must come back exactly as it was, with no effect
};

/// gtest names a failing row by its description, not its bytes.
[[maybe_unused]] void PrintTo(const Row& row, std::ostream* os) { *os << row.what; }

constexpr bool up = true;
constexpr bool down = false;
constexpr Verdict ok = Verdict::Ok;
constexpr Verdict conflict = Verdict::Conflict;
constexpr Phase healthy = Phase::Healthy;
constexpr Phase progressing = Phase::Progressing;
constexpr Phase paused = Phase::Paused;
constexpr Phase degraded = Phase::Degraded;
constexpr Gate none = Gate::None;
constexpr Gate preview = Gate::Preview;
constexpr Gate promotion = Gate::Promotion;
constexpr Gate post = Gate::PostPromotion;

// clang-format off
const Row rows[] = {
  // what                                      from               event
  //   healthy after verdict phase gate stable canary aborted unchanged
  {"healthy: tick", From::Healthy, tick(), up, 1s, ok, healthy, none, "v1", "", false, true},
  {"healthy: new desired is the preview at once", From::Healthy, desired("v2"), up, 1s, ok, progressing, preview, "v1", "v2", false, false},
  {"healthy: new unhealthy desired waits", From::Healthy, desired("v2"), down, 1s, ok, progressing, preview, "v1", "v2", false, false},
  {"healthy: desired = active", From::Healthy, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, true},
  {"healthy: promote", From::Healthy, command(K::Promote), up, 1s, conflict, healthy, none, "v1", "", false, true},
  {"healthy: promote --full", From::Healthy, command(K::PromoteFull), up, 1s, conflict, healthy, none, "v1", "", false, true},
  {"healthy: abort", From::Healthy, command(K::Abort), up, 1s, conflict, healthy, none, "v1", "", false, true},
  {"healthy: retry", From::Healthy, command(K::Retry), up, 1s, conflict, healthy, none, "v1", "", false, true},
  {"healthy: pause", From::Healthy, command(K::Pause), up, 1s, conflict, healthy, none, "v1", "", false, true},
  {"healthy: analysis done is stale", From::Healthy, done(AK::PrePromotion, AP::Failed), up, 1s, ok, healthy, none, "v1", "", false, true},

  {"preview: tick, still unhealthy", From::Preview, tick(), down, 1s, ok, progressing, preview, "v1", "v2", false, true},
  {"preview: tick, healthy starts the pre-promotion run", From::Preview, tick(), up, 1s, ok, progressing, preview, "v1", "v2", false, false},
  {"preview: tick past the deadline", From::Preview, tick(), down, 600s, ok, degraded, preview, "v1", "v2", false, false},
  {"preview: same desired", From::Preview, desired("v2"), down, 1s, ok, progressing, preview, "v1", "v2", false, true},
  {"preview: desired = active is undo", From::Preview, desired("v1"), down, 1s, ok, healthy, none, "v1", "", false, false},
  {"preview: another desired starts over", From::Preview, desired("v3"), down, 1s, ok, progressing, preview, "v1", "v3", false, false},
  {"preview: promote skips the pre-promotion gate", From::Preview, command(K::Promote), down, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"preview: promote --full", From::Preview, command(K::PromoteFull), down, 1s, ok, healthy, none, "v2", "", false, false},
  {"preview: abort", From::Preview, command(K::Abort), down, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"preview: retry", From::Preview, command(K::Retry), down, 1s, conflict, progressing, preview, "v1", "v2", false, true},
  {"preview: pause", From::Preview, command(K::Pause), down, 1s, ok, paused, preview, "v1", "v2", false, false},
  {"preview: no run to be done", From::Preview, done(AK::PrePromotion, AP::Failed), down, 1s, ok, progressing, preview, "v1", "v2", false, true},

  {"stalled: tick, still unhealthy", From::Stalled, tick(), down, 1s, ok, degraded, preview, "v1", "v2", false, true},
  {"stalled: tick, healthy again resumes", From::Stalled, tick(), up, 1s, ok, progressing, preview, "v1", "v2", false, false},
  {"stalled: same desired", From::Stalled, desired("v2"), down, 1s, ok, degraded, preview, "v1", "v2", false, true},
  {"stalled: promote skips the pre-promotion gate", From::Stalled, command(K::Promote), down, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"stalled: promote --full", From::Stalled, command(K::PromoteFull), down, 1s, ok, healthy, none, "v2", "", false, false},
  {"stalled: abort", From::Stalled, command(K::Abort), down, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"stalled: retry needs aborted", From::Stalled, command(K::Retry), down, 1s, conflict, degraded, preview, "v1", "v2", false, true},
  {"stalled: pause", From::Stalled, command(K::Pause), down, 1s, ok, paused, preview, "v1", "v2", false, false},
  {"stalled: no run to be done", From::Stalled, done(AK::PostPromotion, AP::Failed), down, 1s, ok, degraded, preview, "v1", "v2", false, true},

  {"pre-analysis: tick waits for the run", From::PreAnalysis, tick(), up, 1s, ok, progressing, preview, "v1", "v2", false, true},
  {"pre-analysis: same desired", From::PreAnalysis, desired("v2"), up, 1s, ok, progressing, preview, "v1", "v2", false, true},
  {"pre-analysis: desired = active is undo", From::PreAnalysis, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, false},
  {"pre-analysis: another desired starts over", From::PreAnalysis, desired("v3"), up, 1s, ok, progressing, preview, "v1", "v3", false, false},
  {"pre-analysis: promote skips the run", From::PreAnalysis, command(K::Promote), up, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"pre-analysis: promote --full", From::PreAnalysis, command(K::PromoteFull), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"pre-analysis: abort", From::PreAnalysis, command(K::Abort), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"pre-analysis: retry", From::PreAnalysis, command(K::Retry), up, 1s, conflict, progressing, preview, "v1", "v2", false, true},
  {"pre-analysis: pause lets the run go on", From::PreAnalysis, command(K::Pause), up, 1s, ok, paused, preview, "v1", "v2", false, false},
  {"pre-analysis: Successful waits for promotion", From::PreAnalysis, done(AK::PrePromotion, AP::Successful), up, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"pre-analysis: Failed aborts", From::PreAnalysis, done(AK::PrePromotion, AP::Failed), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"pre-analysis: Error aborts", From::PreAnalysis, done(AK::PrePromotion, AP::Error), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"pre-analysis: Inconclusive pauses", From::PreAnalysis, done(AK::PrePromotion, AP::Inconclusive), up, 1s, ok, paused, preview, "v1", "v2", false, false},
  {"pre-analysis: a post-promotion result is stale", From::PreAnalysis, done(AK::PostPromotion, AP::Failed), up, 1s, ok, progressing, preview, "v1", "v2", false, true},
  {"pre-analysis: a canary step result is stale", From::PreAnalysis, done(AK::Step, AP::Failed), up, 1s, ok, progressing, preview, "v1", "v2", false, true},

  {"promotion: tick before autoPromotionSeconds", From::Promotion, tick(), up, 29s, ok, paused, promotion, "v1", "v2", false, true},
  {"promotion: tick at autoPromotionSeconds switches", From::Promotion, tick(), up, 30s, ok, progressing, post, "v2", "v2", false, false},
  {"promotion: due but unhealthy waits to switch", From::Promotion, tick(), down, 30s, ok, progressing, promotion, "v1", "v2", false, false},
  {"promotion: same desired", From::Promotion, desired("v2"), up, 1s, ok, paused, promotion, "v1", "v2", false, true},
  {"promotion: desired = active is undo", From::Promotion, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, false},
  {"promotion: another desired starts over", From::Promotion, desired("v3"), up, 1s, ok, progressing, preview, "v1", "v3", false, false},
  {"promotion: promote switches", From::Promotion, command(K::Promote), up, 1s, ok, progressing, post, "v2", "v2", false, false},
  {"promotion: promote, unhealthy: waits to switch", From::Promotion, command(K::Promote), down, 1s, ok, progressing, promotion, "v1", "v2", false, false},
  {"promotion: promote --full", From::Promotion, command(K::PromoteFull), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"promotion: abort", From::Promotion, command(K::Abort), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"promotion: retry", From::Promotion, command(K::Retry), up, 1s, conflict, paused, promotion, "v1", "v2", false, true},
  {"promotion: pause stops the countdown", From::Promotion, command(K::Pause), up, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"promotion: the ended run's result again is stale", From::Promotion, done(AK::PrePromotion, AP::Failed), up, 1s, ok, paused, promotion, "v1", "v2", false, true},

  {"inconclusive: tick", From::Inconclusive, tick(), up, 3600s, ok, paused, preview, "v1", "v2", false, true},
  {"inconclusive: same desired", From::Inconclusive, desired("v2"), up, 1s, ok, paused, preview, "v1", "v2", false, true},
  {"inconclusive: desired = active is undo", From::Inconclusive, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, false},
  {"inconclusive: promote moves past the run", From::Inconclusive, command(K::Promote), up, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"inconclusive: promote --full", From::Inconclusive, command(K::PromoteFull), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"inconclusive: abort", From::Inconclusive, command(K::Abort), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"inconclusive: retry", From::Inconclusive, command(K::Retry), up, 1s, conflict, paused, preview, "v1", "v2", false, true},
  {"inconclusive: pause", From::Inconclusive, command(K::Pause), up, 1s, ok, paused, preview, "v1", "v2", false, true},
  {"inconclusive: the ended run's result again is stale", From::Inconclusive, done(AK::PrePromotion, AP::Failed), up, 1s, ok, paused, preview, "v1", "v2", false, true},

  {"switching: tick, still unhealthy", From::Switching, tick(), down, 1s, ok, progressing, promotion, "v1", "v2", false, true},
  {"switching: tick, healthy switches", From::Switching, tick(), up, 1s, ok, progressing, post, "v2", "v2", false, false},
  {"switching: tick past the deadline", From::Switching, tick(), down, 600s, ok, degraded, promotion, "v1", "v2", false, false},
  {"switching: same desired", From::Switching, desired("v2"), down, 1s, ok, progressing, promotion, "v1", "v2", false, true},
  {"switching: desired = active is undo", From::Switching, desired("v1"), down, 1s, ok, healthy, none, "v1", "", false, false},
  {"switching: promote switches anyway", From::Switching, command(K::Promote), down, 1s, ok, progressing, post, "v2", "v2", false, false},
  {"switching: promote --full", From::Switching, command(K::PromoteFull), down, 1s, ok, healthy, none, "v2", "", false, false},
  {"switching: abort", From::Switching, command(K::Abort), down, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"switching: retry", From::Switching, command(K::Retry), down, 1s, conflict, progressing, promotion, "v1", "v2", false, true},
  {"switching: pause", From::Switching, command(K::Pause), down, 1s, ok, paused, promotion, "v1", "v2", false, false},
  {"switching: no run to be done", From::Switching, done(AK::PrePromotion, AP::Failed), down, 1s, ok, progressing, promotion, "v1", "v2", false, true},

  {"post-analysis: tick waits for the run", From::PostAnalysis, tick(), up, 1h, ok, progressing, post, "v2", "v2", false, true},
  {"post-analysis: same desired", From::PostAnalysis, desired("v2"), up, 1s, ok, progressing, post, "v2", "v2", false, true},
  {"post-analysis: desired = the old version switches back", From::PostAnalysis, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, false},
  {"post-analysis: another desired starts over from the old", From::PostAnalysis, desired("v3"), up, 1s, ok, progressing, preview, "v1", "v3", false, false},
  {"post-analysis: promote completes", From::PostAnalysis, command(K::Promote), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"post-analysis: promote --full", From::PostAnalysis, command(K::PromoteFull), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"post-analysis: abort switches back", From::PostAnalysis, command(K::Abort), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"post-analysis: retry", From::PostAnalysis, command(K::Retry), up, 1s, conflict, progressing, post, "v2", "v2", false, true},
  {"post-analysis: pause keeps the switch", From::PostAnalysis, command(K::Pause), up, 1s, ok, paused, post, "v2", "v2", false, false},
  {"post-analysis: Successful completes", From::PostAnalysis, done(AK::PostPromotion, AP::Successful), up, 1s, ok, healthy, none, "v2", "", false, false},
  {"post-analysis: Failed switches back", From::PostAnalysis, done(AK::PostPromotion, AP::Failed), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"post-analysis: Error switches back", From::PostAnalysis, done(AK::PostPromotion, AP::Error), up, 1s, ok, degraded, none, "v1", "v2", true, false},
  {"post-analysis: Inconclusive pauses, switched", From::PostAnalysis, done(AK::PostPromotion, AP::Inconclusive), up, 1s, ok, paused, post, "v2", "v2", false, false},
  {"post-analysis: a pre-promotion result is stale", From::PostAnalysis, done(AK::PrePromotion, AP::Failed), up, 1s, ok, progressing, post, "v2", "v2", false, true},

  {"aborted: tick", From::Aborted, tick(), up, 1s, ok, degraded, none, "v1", "v2", true, true},
  {"aborted: same desired stays aborted", From::Aborted, desired("v2"), up, 1s, ok, degraded, none, "v1", "v2", true, true},
  {"aborted: desired = active is undo", From::Aborted, desired("v1"), up, 1s, ok, healthy, none, "v1", "", false, false},
  {"aborted: another desired starts over", From::Aborted, desired("v3"), up, 1s, ok, progressing, preview, "v1", "v3", false, false},
  {"aborted: promote", From::Aborted, command(K::Promote), up, 1s, conflict, degraded, none, "v1", "v2", true, true},
  {"aborted: promote --full", From::Aborted, command(K::PromoteFull), up, 1s, conflict, degraded, none, "v1", "v2", true, true},
  {"aborted: abort", From::Aborted, command(K::Abort), up, 1s, conflict, degraded, none, "v1", "v2", true, true},
  {"aborted: retry starts over", From::Aborted, command(K::Retry), up, 1s, ok, progressing, preview, "v1", "v2", false, false},
  {"aborted: pause", From::Aborted, command(K::Pause), up, 1s, conflict, degraded, none, "v1", "v2", true, true},
  {"aborted: analysis done is stale", From::Aborted, done(AK::PrePromotion, AP::Successful), up, 1s, ok, degraded, none, "v1", "v2", true, true},
};
// clang-format on

class BlueGreenTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(BlueGreenTableTest, AppliesTheRow) {
  const Row& row = GetParam();
  SCOPED_TRACE(row.what);
  Machine m(blue_green_yaml());
  reach(m, row.from);
  if (::testing::Test::HasFatalFailure()) return;
  const RolloutState before = m.state;
  m.healthy = row.healthy;
  const Transition t = m.send(row.event, std::chrono::duration_cast<std::chrono::milliseconds>(
                                             m.now - t0() + row.after));
  EXPECT_EQ(t.verdict, row.verdict);
  EXPECT_EQ(to_string(t.state.phase), to_string(row.phase));
  EXPECT_EQ(to_string(t.state.gate), to_string(row.gate));
  EXPECT_EQ(t.state.stable, row.stable);
  EXPECT_EQ(t.state.canary, row.canary);
  EXPECT_EQ(t.state.aborted, row.aborted);
  EXPECT_EQ(t.state.step_index, 0u);  // blue-green has no steps (SPEC §4)
  if (row.unchanged) {
    EXPECT_EQ(t.state, before);
    EXPECT_TRUE(t.effects.empty());
  } else {
    EXPECT_NE(t.state, before);
  }
  if (row.verdict == Verdict::Conflict) {
    EXPECT_TRUE(t.effects.empty());
  }
  if (row.aborted && !before.aborted) {
    ASSERT_FALSE(t.effects.empty());
    EXPECT_EQ(t.effects.back(), terminate_all());
    EXPECT_FALSE(t.state.abort_reason.empty());
    EXPECT_TRUE(t.state.message.starts_with("aborted: " + t.state.abort_reason + "; "))
        << t.state.message;
  }
  if (t.state.phase == Phase::Healthy) {
    EXPECT_EQ(t.state.canary, "") << "a Healthy rollout has no preview";
  }
  EXPECT_FALSE(t.state.message.empty());
}

INSTANTIATE_TEST_SUITE_P(EverySituationAndEvent, BlueGreenTableTest, ::testing::ValuesIn(rows));

/// The runs each move starts and stops (the runner carries them out).
TEST(BlueGreenEffectsTest, RunsStartAndStopWithTheGates) {
  Machine m(blue_green_yaml());
  EXPECT_EQ(m.send(desired("v2"), 0s).effects, std::vector<Effect>{start_pre()});
  // The pre-promotion run ended by itself: nothing to stop, and its history stays in this attempt.
  EXPECT_TRUE(m.send(done(AK::PrePromotion, AP::Successful), 5s).effects.empty());
  EXPECT_EQ(m.send(command(K::Promote), 6s).effects, std::vector<Effect>{start_post()});
  EXPECT_EQ(m.send(done(AK::PostPromotion, AP::Successful), 9s).effects,
            std::vector<Effect>{terminate_all()});
}

TEST(BlueGreenEffectsTest, PromoteDuringTheRunStopsIt) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  EXPECT_EQ(m.send(command(K::Promote), 1s).effects,
            std::vector<Effect>{terminate(AK::PrePromotion)});
}

TEST(BlueGreenEffectsTest, AnotherDesiredStopsTheRunsAndStartsAFreshOne) {
  Machine m(blue_green_yaml());
  m.send(desired("v2"), 0s);
  EXPECT_EQ(m.send(desired("v3"), 1s).effects, (std::vector<Effect>{terminate_all(), start_pre()}));
}

TEST(BlueGreenEffectsTest, ResumeEffectsRestartTheRunThatWasWaitedFor) {
  Machine m(blue_green_yaml());
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
  m.send(desired("v2"), 0s);
  EXPECT_EQ(resume_effects(m.spec(), m.state), std::vector<Effect>{start_pre()});
  m.send(command(K::Pause), 1s);  // a manual pause lets the run go on: it restarts too
  EXPECT_EQ(resume_effects(m.spec(), m.state), std::vector<Effect>{start_pre()});
  m.send(done(AK::PrePromotion, AP::Successful), 2s);
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
  m.send(command(K::Promote), 3s);  // past the ended run: the promotion wait
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
  m.send(command(K::Promote), 4s);
  EXPECT_EQ(resume_effects(m.spec(), m.state), std::vector<Effect>{start_post()});
  m.send(done(AK::PostPromotion, AP::Failed), 5s);
  EXPECT_TRUE(resume_effects(m.spec(), m.state).empty());
}

}  // namespace
}  // namespace vane::rollout::test
