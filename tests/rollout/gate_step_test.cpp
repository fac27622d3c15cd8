// Gate steps in the canary state machine (SPEC §14): a gate waits Progressing while polled, 2xx
// opens it, 403 aborts with the body, past its timeout it is Paused and still polled, promote
// opens it; stale answers change nothing; its deadline survives a restart.
#include <gtest/gtest.h>

#include "rollout/state_machine.hpp"
#include "rollout/state_store.hpp"
#include "tests/rollout/canary_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using GateVerdict = Event::GateVerdict;
using config::Trigger;

constexpr std::string_view kGates = R"(    strategy:
      canary:
        steps:
          - setWeight: 10
          - gate: {name: change-board, url: "http://127.0.0.1:9/gate", timeoutSeconds: 60}
          - setWeight: 50
          - gate: {url: "https://gates.example.com/shop"}
)";

Event answer(GateVerdict verdict, uint32_t step, std::string reason = {}) {
  Event e;
  e.kind = K::GateAnswered;
  e.gate_verdict = verdict;
  e.step_index = step;
  e.message = std::move(reason);
  return e;
}

std::vector<Trigger> triggers(const Transition& t) {
  std::vector<Trigger> out;
  for (const auto& fired : t.fired) out.push_back(fired.trigger);
  return out;
}

/// A rollout of v2 waiting on the change-board gate (step 1) since t0.
Machine at_gate() {
  Machine m(rollout_yaml(kGates));
  m.send(desired("v2"), 0s);
  return m;
}

TEST(GateStepTest, WaitsProgressingWhilePolledAndOpensOn2xx) {
  Machine m = at_gate();
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.message, "waiting on gate change-board (step 1)");
  EXPECT_EQ(m.state.gate_step_deadline, t0() + 60s);
  EXPECT_EQ(polled_gate(m.spec(), m.state), 1u);
  m.send(tick(), 30s);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.gate_step_deadline, t0() + 60s);  // a tick does not restart the timeout

  auto t = m.send(answer(GateVerdict::Open, 1), 31s);  // step 2 at once; the unnamed gate waits
  EXPECT_EQ(triggers(t), (std::vector{Trigger::RolloutStepCompleted, Trigger::RolloutStepCompleted}));
  EXPECT_EQ(t.fired[0].message, "step 1 of 4 completed");
  EXPECT_EQ(m.state.step_index, 3u);
  EXPECT_EQ(m.state.message, "waiting on gate gate-3 (step 3)");
  EXPECT_FALSE(m.state.gate_step_deadline);  // no timeoutSeconds: waits until answered
  EXPECT_EQ(polled_gate(m.spec(), m.state), 3u);
  m.send(tick(), 100h);
  EXPECT_EQ(m.state.phase, Phase::Progressing);

  t = m.send(answer(GateVerdict::Open, 3), 100h);
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_EQ(triggers(t), (std::vector{Trigger::RolloutStepCompleted, Trigger::RolloutCompleted}));
  EXPECT_FALSE(polled_gate(m.spec(), m.state));
}

TEST(GateStepTest, A403AbortsWithTheBodyAsReason) {
  Machine m = at_gate();
  const auto t = m.send(answer(GateVerdict::Reject, 1, "frozen: release window closed"), 5s);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.phase, Phase::Degraded);
  EXPECT_EQ(m.state.abort_reason, "gate change-board rejected: frozen: release window closed");
  EXPECT_EQ(m.state.message, "aborted: gate change-board rejected: frozen: release window closed");
  EXPECT_FALSE(m.state.gate_step_deadline);
  EXPECT_EQ(triggers(t), std::vector{Trigger::RolloutAborted});
  EXPECT_FALSE(polled_gate(m.spec(), m.state));

  Machine empty = at_gate();
  empty.send(answer(GateVerdict::Reject, 1), 5s);
  EXPECT_EQ(empty.state.abort_reason, "gate change-board rejected");
}

TEST(GateStepTest, PastItsTimeoutPausedStillPolledAndA2xxOpens) {
  Machine m = at_gate();
  m.send(tick(), 59'999ms);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  auto t = m.send(tick(), 60s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::GateStep);
  EXPECT_EQ(m.state.paused_since, t0() + 60s);
  EXPECT_FALSE(m.state.pause_until);
  EXPECT_EQ(m.state.message, "paused: gate change-board (step 1) timed out after 60s; still "
                             "polled: a 2xx answer or promote opens it");
  EXPECT_EQ(triggers(t), std::vector{Trigger::RolloutPaused});
  EXPECT_EQ(polled_gate(m.spec(), m.state), 1u);
  t = m.send(tick(), 61s);
  EXPECT_TRUE(t.fired.empty());
  EXPECT_EQ(m.state.paused_since, t0() + 60s);

  t = m.send(answer(GateVerdict::Open, 1), 2h);
  EXPECT_EQ(m.state.step_index, 3u);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.pause_reason, PauseReason::None);
  EXPECT_EQ(triggers(t), (std::vector{Trigger::RolloutResumed, Trigger::RolloutStepCompleted,
                                      Trigger::RolloutStepCompleted}));
}

TEST(GateStepTest, A403PastTheTimeoutStillAborts) {
  Machine m = at_gate();
  m.send(tick(), 60s);
  m.send(answer(GateVerdict::Reject, 1, "no"), 70s);
  EXPECT_TRUE(m.state.aborted);
  EXPECT_EQ(m.state.abort_reason, "gate change-board rejected: no");
}

TEST(GateStepTest, PromoteOpensAWaitingOrTimedOutGate) {
  Machine waiting = at_gate();
  auto t = waiting.send(command(K::Promote), 10s);
  EXPECT_EQ(t.verdict, rollout::Verdict::Ok);
  EXPECT_EQ(waiting.state.step_index, 3u);
  EXPECT_EQ(triggers(t), (std::vector{Trigger::RolloutPromoted, Trigger::RolloutStepCompleted,
                                      Trigger::RolloutStepCompleted}));

  Machine timed_out = at_gate();
  timed_out.send(tick(), 60s);
  t = timed_out.send(command(K::Promote), 61s);
  EXPECT_EQ(timed_out.state.step_index, 3u);
  EXPECT_EQ(timed_out.state.phase, Phase::Progressing);
  EXPECT_FALSE(timed_out.state.gate_step_deadline);
  EXPECT_EQ(triggers(t), (std::vector{Trigger::RolloutPromoted, Trigger::RolloutResumed,
                                      Trigger::RolloutStepCompleted,
                                      Trigger::RolloutStepCompleted}));
}

TEST(GateStepTest, StaleAnswersChangeNothing) {
  Machine m = at_gate();
  const RolloutState before = m.state;
  auto t = m.send(answer(GateVerdict::Open, 3), 1s);  // another step's gate
  EXPECT_EQ(m.state, before);
  EXPECT_TRUE(t.fired.empty());
  m.send(answer(GateVerdict::Reject, 0), 1s);
  EXPECT_EQ(m.state, before);

  Machine healthy(rollout_yaml(kGates));  // no rollout in progress
  const RolloutState idle = healthy.state;
  healthy.send(answer(GateVerdict::Open, 1), 1s);
  EXPECT_EQ(healthy.state, idle);
}

TEST(GateStepTest, APauseByHandStopsPollingAndResumingKeepsTheDeadline) {
  Machine m = at_gate();
  m.send(command(K::Pause), 10s);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Manual);
  EXPECT_FALSE(polled_gate(m.spec(), m.state));
  const RolloutState paused = m.state;
  m.send(answer(GateVerdict::Open, 1), 11s);  // an answer in flight when paused
  EXPECT_EQ(m.state, paused);

  m.send(command(K::Promote), 20s);  // clears the pause: the gate waits again
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.gate_step_deadline, t0() + 60s);
  EXPECT_EQ(polled_gate(m.spec(), m.state), 1u);
}

TEST(GateStepTest, PausingATimedOutGateHoldsItForPromote) {
  Machine m = at_gate();
  m.send(tick(), 60s);
  m.send(command(K::Pause), 70s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Manual);
  EXPECT_FALSE(polled_gate(m.spec(), m.state));
  m.send(command(K::Promote), 80s);  // the deadline passed: timed out again, polled again
  EXPECT_EQ(m.state.pause_reason, PauseReason::GateStep);
  EXPECT_EQ(polled_gate(m.spec(), m.state), 1u);
}

TEST(GateStepTest, AbortAndANewDesiredEndTheWait) {
  Machine aborted = at_gate();
  aborted.send(command(K::Abort, "no"), 5s);
  EXPECT_FALSE(polled_gate(aborted.spec(), aborted.state));
  EXPECT_FALSE(aborted.state.gate_step_deadline);

  Machine m = at_gate();
  m.send(desired("v3"), 30s);  // starts over: the gate waits afresh with a new deadline
  EXPECT_EQ(m.state.canary, "v3");
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.gate_step_deadline, t0() + 90s);
  m.send(desired("v1"), 40s);  // undo
  EXPECT_FALSE(polled_gate(m.spec(), m.state));
  EXPECT_FALSE(m.state.gate_step_deadline);
}

TEST(GateStepTest, TheDeadlineSurvivesARestart) {
  Machine m = at_gate();
  std::string error;
  const auto restored = state_from_json(state_to_json(m.state), &error);
  ASSERT_TRUE(restored) << error;
  EXPECT_EQ(restored->gate_step_deadline, t0() + 60s);
  m.state = *restored;
  m.send(desired("v2"), 50s);  // what a restart sends: the same desired keeps progress
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  m.send(tick(), 60s);
  EXPECT_EQ(m.state.pause_reason, PauseReason::GateStep);
  const auto paused = state_from_json(state_to_json(m.state), &error);
  ASSERT_TRUE(paused) << error;
  EXPECT_EQ(paused->pause_reason, PauseReason::GateStep);
  EXPECT_EQ(polled_gate(m.spec(), *paused), 1u);
}

TEST(GateStepTest, AStateFileWithoutTheGateFieldStillLoads) {
  Machine m = at_gate();
  std::string text = state_to_json(m.state);
  const std::string field = ",\"gateStepDeadline\":\"2024-05-01T12:01:00.000Z\"";
  const auto at = text.find(field);
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, field.size());
  std::string error;
  const auto restored = state_from_json(text, &error);
  ASSERT_TRUE(restored) << error;
  EXPECT_FALSE(restored->gate_step_deadline);
}

}  // namespace
}  // namespace vane::rollout::test
