// The canary state machine's table (SPEC §4, §6 verdicts): every phase × every event, from
// states reached by driving the machine on the SPEC §2 example steps.
#include "rollout/state_machine.hpp"

#include <gtest/gtest.h>

#include "tests/rollout/canary_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using AP = Event::AnalysisPhase;

/// Where a row starts. The example steps: 0 setWeight 10, 1 pause 1m, 2 analysis,
/// 3 setHeaderRoute, 4 setMirrorRoute, 5 setWeight 50, 6 pause {}; background from step 1.
enum class From {
  Healthy,      ///< stable v1, no canary
  Progressing,  ///< canary v2, analysis step 2 running (t0 + 60s)
  Paused,       ///< canary v2, pause step 1 until t0 + 60s
  Stalled,      ///< canary v2 unhealthy at step 0, progress deadline passed (t0 + 600s)
  Aborted,      ///< canary v2 aborted from the pause at step 1
};

void reach(Machine& m, From from) {
  switch (from) {
    case From::Healthy:
      return;
    case From::Paused:
      m.send(desired("v2"), 0s);
      ASSERT_EQ(m.state.phase, Phase::Paused);
      return;
    case From::Progressing:
      m.send(desired("v2"), 0s);
      m.send(tick(), 60s);
      ASSERT_EQ(m.state.phase, Phase::Progressing);
      ASSERT_EQ(m.state.step_index, 2u);
      return;
    case From::Stalled:
      m.healthy = false;
      m.send(desired("v2"), 0s);
      m.send(tick(), 600s);
      ASSERT_EQ(m.state.phase, Phase::Degraded);
      ASSERT_FALSE(m.state.aborted);
      return;
    case From::Aborted:
      m.send(desired("v2"), 0s);
      m.send(command(K::Abort, "stop"), 1s);
      ASSERT_EQ(m.state.phase, Phase::Degraded);
      ASSERT_TRUE(m.state.aborted);
      return;
  }
}

struct Row {
  const char* what;
  From from;
  Event event;
  bool healthy;         ///< canary health for the event
  std::chrono::seconds after;  ///< the event comes this long after the state was reached
  Verdict verdict;
  Phase phase;
  uint32_t step;
  bool aborted;
  bool unchanged;  ///< the state must come back exactly as it was
};

constexpr bool up = true;
constexpr bool down = false;
constexpr Verdict ok = Verdict::Ok;
constexpr Verdict conflict = Verdict::Conflict;

const Row rows[] = {
    // what                                 from             event
    //   healthy after verdict phase stepIndex aborted unchanged
    {"healthy: tick", From::Healthy, tick(), up, 1s, ok, Phase::Healthy, 7, false, true},
    {"healthy: new desired starts a canary", From::Healthy, desired("v2"), up, 1s, ok,
     Phase::Paused, 1, false, false},
    {"healthy: desired = stable", From::Healthy, desired("v1"), up, 1s, ok, Phase::Healthy, 7,
     false, true},
    {"healthy: promote", From::Healthy, command(K::Promote), up, 1s, conflict, Phase::Healthy, 7,
     false, true},
    {"healthy: promote --full", From::Healthy, command(K::PromoteFull), up, 1s, conflict,
     Phase::Healthy, 7, false, true},
    {"healthy: abort", From::Healthy, command(K::Abort), up, 1s, conflict, Phase::Healthy, 7,
     false, true},
    {"healthy: retry", From::Healthy, command(K::Retry), up, 1s, conflict, Phase::Healthy, 7,
     false, true},
    {"healthy: pause", From::Healthy, command(K::Pause), up, 1s, conflict, Phase::Healthy, 7,
     false, true},
    {"healthy: analysis done is stale", From::Healthy, done(AnalysisKind::Step, AP::Failed), up,
     1s, ok, Phase::Healthy, 7, false, true},

    {"progressing: tick waits for the run", From::Progressing, tick(), up, 1s, ok,
     Phase::Progressing, 2, false, true},
    {"progressing: same desired keeps progress", From::Progressing, desired("v2"), up, 1s, ok,
     Phase::Progressing, 2, false, true},
    {"progressing: desired = stable is undo", From::Progressing, desired("v1"), up, 1s, ok,
     Phase::Healthy, 7, false, false},
    {"progressing: another desired restarts", From::Progressing, desired("v3"), up, 1s, ok,
     Phase::Paused, 1, false, false},
    {"progressing: promote skips the analysis", From::Progressing, command(K::Promote), up, 1s,
     ok, Phase::Paused, 6, false, false},
    {"progressing: promote --full", From::Progressing, command(K::PromoteFull), up, 1s, ok,
     Phase::Healthy, 7, false, false},
    {"progressing: abort", From::Progressing, command(K::Abort), up, 1s, ok, Phase::Degraded, 0,
     true, false},
    {"progressing: retry", From::Progressing, command(K::Retry), up, 1s, conflict,
     Phase::Progressing, 2, false, true},
    {"progressing: pause", From::Progressing, command(K::Pause), up, 1s, ok, Phase::Paused, 2,
     false, false},
    {"progressing: step run Successful", From::Progressing,
     done(AnalysisKind::Step, AP::Successful), up, 1s, ok, Phase::Paused, 6, false, false},
    {"progressing: step run Failed", From::Progressing, done(AnalysisKind::Step, AP::Failed), up,
     1s, ok, Phase::Degraded, 0, true, false},
    {"progressing: step run Inconclusive", From::Progressing,
     done(AnalysisKind::Step, AP::Inconclusive), up, 1s, ok, Phase::Paused, 2, false, false},
    {"progressing: background run Error", From::Progressing,
     done(AnalysisKind::Background, AP::Error), up, 1s, ok, Phase::Degraded, 0, true, false},

    {"paused: tick before the deadline", From::Paused, tick(), up, 1s, ok, Phase::Paused, 1,
     false, true},
    {"paused: tick at the deadline", From::Paused, tick(), up, 60s, ok, Phase::Progressing, 2,
     false, false},
    {"paused: same desired", From::Paused, desired("v2"), up, 1s, ok, Phase::Paused, 1, false,
     true},
    {"paused: promote ends the pause step", From::Paused, command(K::Promote), up, 1s, ok,
     Phase::Progressing, 2, false, false},
    {"paused: promote --full", From::Paused, command(K::PromoteFull), up, 1s, ok, Phase::Healthy,
     7, false, false},
    {"paused: abort", From::Paused, command(K::Abort), up, 1s, ok, Phase::Degraded, 0, true,
     false},
    {"paused: retry", From::Paused, command(K::Retry), up, 1s, conflict, Phase::Paused, 1, false,
     true},
    {"paused: pause", From::Paused, command(K::Pause), up, 1s, ok, Phase::Paused, 1, false,
     false},
    {"paused: background Inconclusive", From::Paused,
     done(AnalysisKind::Background, AP::Inconclusive), up, 1s, ok, Phase::Paused, 1, false,
     false},
    {"paused: step result while no step run", From::Paused,
     done(AnalysisKind::Step, AP::Failed), up, 1s, ok, Phase::Paused, 1, false, true},

    {"stalled: tick, still unhealthy", From::Stalled, tick(), down, 1s, ok, Phase::Degraded, 0,
     false, true},
    {"stalled: tick, healthy again resumes", From::Stalled, tick(), up, 1s, ok, Phase::Paused, 1,
     false, false},
    {"stalled: same desired", From::Stalled, desired("v2"), down, 1s, ok, Phase::Degraded, 0,
     false, true},
    {"stalled: promote skips the setWeight", From::Stalled, command(K::Promote), down, 1s, ok,
     Phase::Paused, 1, false, false},
    {"stalled: promote --full", From::Stalled, command(K::PromoteFull), down, 1s, ok,
     Phase::Healthy, 7, false, false},
    {"stalled: abort", From::Stalled, command(K::Abort), down, 1s, ok, Phase::Degraded, 0, true,
     false},
    {"stalled: retry needs aborted", From::Stalled, command(K::Retry), down, 1s, conflict,
     Phase::Degraded, 0, false, true},
    {"stalled: pause", From::Stalled, command(K::Pause), down, 1s, ok, Phase::Paused, 0, false,
     false},
    {"stalled: background not started yet", From::Stalled,
     done(AnalysisKind::Background, AP::Failed), down, 1s, ok, Phase::Degraded, 0, false, true},

    {"aborted: tick", From::Aborted, tick(), up, 1s, ok, Phase::Degraded, 0, true, true},
    {"aborted: same desired stays aborted", From::Aborted, desired("v2"), up, 1s, ok,
     Phase::Degraded, 0, true, true},
    {"aborted: another desired starts over", From::Aborted, desired("v3"), up, 1s, ok,
     Phase::Paused, 1, false, false},
    {"aborted: desired = stable is undo", From::Aborted, desired("v1"), up, 1s, ok,
     Phase::Healthy, 7, false, false},
    {"aborted: promote", From::Aborted, command(K::Promote), up, 1s, conflict, Phase::Degraded, 0,
     true, true},
    {"aborted: promote --full", From::Aborted, command(K::PromoteFull), up, 1s, conflict,
     Phase::Degraded, 0, true, true},
    {"aborted: abort", From::Aborted, command(K::Abort), up, 1s, conflict, Phase::Degraded, 0,
     true, true},
    {"aborted: retry", From::Aborted, command(K::Retry), up, 1s, ok, Phase::Paused, 1, false,
     false},
    {"aborted: pause", From::Aborted, command(K::Pause), up, 1s, conflict, Phase::Degraded, 0,
     true, true},
    {"aborted: analysis done is stale", From::Aborted,
     done(AnalysisKind::Background, AP::Failed), up, 1s, ok, Phase::Degraded, 0, true, true},
};

class TableTest : public ::testing::TestWithParam<Row> {};

TEST_P(TableTest, AppliesTheRow) {
  const Row& row = GetParam();
  SCOPED_TRACE(row.what);
  Machine m(rollout_yaml(kSpecStrategy));
  reach(m, row.from);
  if (::testing::Test::HasFatalFailure()) return;
  const RolloutState before = m.state;
  m.healthy = row.healthy;
  const Transition t = m.send(row.event, std::chrono::duration_cast<std::chrono::milliseconds>(
                                             m.now - t0() + row.after));
  EXPECT_EQ(t.verdict, row.verdict);
  EXPECT_EQ(to_string(t.state.phase), to_string(row.phase));
  EXPECT_EQ(t.state.step_index, row.step);
  EXPECT_EQ(t.state.aborted, row.aborted);
  if (row.unchanged) {
    EXPECT_EQ(t.state, before);
    EXPECT_TRUE(t.effects.empty());
  }
  if (row.verdict == Verdict::Conflict) {
    EXPECT_TRUE(t.effects.empty());
  }
  if (row.aborted && !before.aborted) {
    ASSERT_FALSE(t.effects.empty());
    EXPECT_EQ(t.effects.back(), terminate_all());
    EXPECT_EQ(t.state.canary, "v2");  // the aborted upstream is still named
    EXPECT_FALSE(t.state.abort_reason.empty());
    EXPECT_EQ(t.state.message, "aborted: " + t.state.abort_reason);
  }
  EXPECT_FALSE(t.state.message.empty());
}

INSTANTIATE_TEST_SUITE_P(EveryPhaseAndEvent, TableTest, ::testing::ValuesIn(rows));

TEST(StateMachineTest, InitialStateMakesTheDesiredStable) {
  const auto config = load_config(rollout_yaml(kSpecStrategy));
  const RolloutState s = initial_state(config->rollouts[0]);
  EXPECT_EQ(s.stable, "v1");
  EXPECT_EQ(s.canary, "");
  EXPECT_EQ(s.phase, Phase::Healthy);
  EXPECT_EQ(s.step_index, 7u);
  EXPECT_FALSE(s.aborted);
}

TEST(StateMachineTest, DesiredOnAnEmptyStateIsAFirstStart) {
  Machine m(rollout_yaml(kSpecStrategy));
  m.state = RolloutState{};
  const Transition t = m.send(desired("v2"), 0s);
  EXPECT_EQ(t.state.stable, "v2");
  EXPECT_EQ(t.state.canary, "");
  EXPECT_EQ(t.state.phase, Phase::Healthy);
  EXPECT_TRUE(t.effects.empty());
}

TEST(StateMachineTest, PhaseNamesRoundTrip) {
  for (const Phase p : {Phase::Healthy, Phase::Progressing, Phase::Paused, Phase::Degraded}) {
    EXPECT_EQ(phase_from_string(to_string(p)), p);
  }
  EXPECT_EQ(to_string(Phase::Degraded), "Degraded");
  EXPECT_EQ(phase_from_string("healthy"), std::nullopt);
  EXPECT_EQ(phase_from_string(""), std::nullopt);
}

}  // namespace
}  // namespace vane::rollout::test
