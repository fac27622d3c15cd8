// The rollout lifecycle from outside (SPEC §4, §6, §7): promote / promote --full / abort / retry /
// pause over HTTP and the CLI with their status codes, abort moving all traffic at once, reloads
// that change the desired upstream (restart at step 0, undo), completion after the last step, and
// `vane status --wait` exit codes. Restarts and state files: rollout_restart_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// ---- commands over HTTP ----------------------------------------------------------------------

TEST(RolloutLifecycleTest, CommandsOnAHealthyRolloutAreConflictsAndUnknownNamesNotFound) {
  RolloutRig rig(four_step_setup());
  const json::value s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Healthy") << summary(s);
  for (const char* verb : {"promote", "promote?full=true", "abort", "pause", "retry"}) {
    const Response r = post(rig, std::string("web/") + verb);
    EXPECT_EQ(r.status, 409) << verb << ": " << r.body;
    EXPECT_FALSE(r.body.empty()) << verb << ": the error should say why";
    expect_post(rig, std::string("nope/") + verb, 404);
  }
  EXPECT_EQ(str(field(rig.status(), "phase")), "Healthy");
}

TEST(RolloutLifecycleTest, PromoteWalksTheStepsAndFullPromotionMakesTheCanaryStable) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  const json::value answer = expect_post(rig, "web/promote", 200);
  EXPECT_EQ(str(field(answer, "name")), "web") << "200 + STATUS";
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);

  expect_post(rig, "web/promote?full=true", 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Healthy", 4, 0, s)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v2");
  EXPECT_TRUE(field(s, "canary").is_null()) << summary(s);
  EXPECT_EQ(num(field(field(s, "weights"), "stable")), 100);
  EXPECT_EQ(field(s, "aborted"), json::value(false));
  expect_all_on(rig, "v2");
  expect_post(rig, "web/promote", 409);
  expect_post(rig, "web/abort", 409);
}

TEST(RolloutLifecycleTest, AbortMovesAllTrafficToStableAtOnceAndRetryStartsOver) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  expect_post(rig, "web/promote", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);

  const json::value aborted = expect_post(rig, "web/abort", 200);
  // Straight after the answer: no request may reach the canary any more.
  expect_all_on(rig, "v1");
  for (const json::value& v : {aborted, rig.status()}) {
    EXPECT_EQ(str(field(v, "phase")), "Degraded") << summary(v);
    EXPECT_EQ(field(v, "aborted"), json::value(true));
    EXPECT_EQ(num(field(field(v, "weights"), "canary")), 0);
    EXPECT_EQ(num(field(field(v, "weights"), "stable")), 100);
    EXPECT_EQ(num(field(v, "currentStepIndex")), 0);
    EXPECT_EQ(str(field(v, "canary")), "v2") << "the aborted upstream stays named";
    EXPECT_EQ(str(field(v, "desired")), "v2");
    EXPECT_EQ(str(field(v, "stable")), "v1");
    EXPECT_TRUE(field(v, "abortReason").is_string()) << summary(v);
    EXPECT_FALSE(str(field(v, "message")).empty()) << "the reason goes in message";
  }
  for (const char* verb : {"abort", "promote", "promote?full=true", "pause"})
    expect_post(rig, std::string("web/") + verb, 409);

  expect_post(rig, "web/retry", 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(false));
  EXPECT_EQ(str(field(s, "canary")), "v2");
  expect_post(rig, "web/retry", 409);  // retry needs Degraded
}

/// A step that stays in progress (not paused) for the whole test: an analysis whose only
/// measurement is due in an hour.
RolloutSetup analysis_step_setup() {
  RolloutSetup setup;
  setup.top_extra = R"(analysisTemplates:
  - name: later
    metrics:
      - name: rate
        initialDelay: 1h
        successCondition: result >= 0
        provider:
          builtin: {metric: request-rate, window: 30s}
)";
  setup.canary = R"(        steps:
          - setWeight: 20
          - analysis:
              templates: [{templateName: later}]
          - setWeight: 50
          - pause: {}
)";
  return setup;
}

TEST(RolloutLifecycleTest, PauseHoldsTheCurrentStepAndPromoteClearsItThenSkips) {
  RolloutRig rig(analysis_step_setup());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Progressing", 1, 20, s)) << summary(s);

  const json::value paused = expect_post(rig, "web/pause", 200);
  EXPECT_EQ(str(field(paused, "phase")), "Paused") << summary(paused);
  EXPECT_EQ(num(field(paused, "currentStepIndex")), 1);
  EXPECT_TRUE(field(paused, "pausedSince").is_string()) << summary(paused);
  EXPECT_TRUE(field(paused, "pauseUntil").is_null()) << "a manual pause has no deadline";

  expect_post(rig, "web/promote", 200);  // clears the pause: back to the analysis step
  ASSERT_TRUE(wait_phase(rig.admin(), "Progressing", 1, 20, s)) << summary(s);
  EXPECT_TRUE(field(s, "pausedSince").is_null()) << summary(s);

  expect_post(rig, "web/promote", 200);  // not paused: skips the step
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
}

// ---- commands through the CLI ----------------------------------------------------------------

TEST(RolloutLifecycleTest, CliCommandsExitCodes) {
  RolloutRig rig(four_step_setup());
  const auto cli = [&](std::vector<std::string> args, int expected) {
    const CommandResult r = vane_cli(rig.admin(), args);
    std::string line;
    for (const auto& a : args) line += " " + a;
    EXPECT_EQ(r.exit_code, expected) << "vane" << line << "\nstdout: " << r.out << "\nstderr: " << r.err;
    if (expected == 1) {
      EXPECT_FALSE(r.err.empty()) << "vane" << line << ": the API's error on stderr";
    }
    return r;
  };
  cli({"promote", "web"}, 1);  // 409 on Healthy
  cli({"abort", "web"}, 1);
  cli({"pause", "web"}, 1);
  cli({"retry", "web"}, 1);
  cli({"promote", "nope"}, 1);  // 404

  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  cli({"promote", "web"}, 0);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
  cli({"abort", "web"}, 0);
  EXPECT_EQ(str(field(rig.status(), "phase")), "Degraded");
  cli({"abort", "web"}, 1);
  cli({"retry", "web"}, 0);
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  const CommandResult json_status = cli({"status", "web", "--json"}, 0);
  EXPECT_EQ(str(field(parse_json(json_status.out), "name")), "web") << json_status.out;
  EXPECT_EQ(str(field(parse_json(json_status.out), "phase")), "Paused") << json_status.out;
  cli({"promote", "web", "--full"}, 0);
  ASSERT_TRUE(wait_phase(rig.admin(), "Healthy", 4, 0, s)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v2");
  cli({"retry", "web"}, 1);
}

TEST(RolloutLifecycleTest, CliPauseOnAStepInProgress) {
  RolloutRig rig(analysis_step_setup());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Progressing", 1, 20, s)) << summary(s);
  const CommandResult r = vane_cli(rig.admin(), {"pause", "web"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(str(field(rig.status(), "phase")), "Paused");
}

// ---- vane status --wait ----------------------------------------------------------------------

/// `vane status web --wait --timeout T` running in the background.
class StatusWait {
 public:
  StatusWait(uint16_t admin, std::string timeout)
      : process_({vane_binary(), "status", "web", "--wait", "--timeout", std::move(timeout),
                  "--admin", admin_url(admin)},
                 dir_.path(), dir_.path() / "out", dir_.path() / "err") {}
  Process& process() { return process_; }
  std::string output() const { return read_file(dir_.path() / "out") + read_file(dir_.path() / "err"); }

 private:
  TempDir dir_;
  Process process_;
};

TEST(RolloutLifecycleTest, StatusWaitExitsZeroOnFullPromotionOneOnAbortTwoOnTimeout) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  {
    StatusWait wait(rig.admin(), "10s");
    EXPECT_FALSE(wait.process().wait_exit(700ms)) << "exited while Paused: " << wait.output();
    expect_post(rig, "web/promote?full=true", 200);
    EXPECT_EQ(wait.process().wait_exit(5s).value_or(-1), 0) << wait.output();
  }
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig, "v3"));  // stable is now v2
  {
    StatusWait wait(rig.admin(), "10s");
    EXPECT_FALSE(wait.process().wait_exit(700ms)) << "exited while Paused: " << wait.output();
    expect_post(rig, "web/abort", 200);
    EXPECT_EQ(wait.process().wait_exit(5s).value_or(-1), 1) << wait.output();
  }
  expect_post(rig, "web/retry", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  {
    StatusWait wait(rig.admin(), "1s");
    EXPECT_EQ(wait.process().wait_exit(5s).value_or(-1), 2) << wait.output();
  }
}

// ---- reloads ---------------------------------------------------------------------------------

TEST(RolloutLifecycleTest, NewDesiredMidRolloutRestartsAtStepZeroAgainstTheSameStable) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  expect_post(rig, "web/promote", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);

  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig, "v3"));
  s = rig.status();
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_EQ(str(field(s, "desired")), "v3");
  const SideCounts c = send_requests(rig.port(), 1000);
  EXPECT_EQ(c.count("v2"), 0) << "the dropped canary still serves: " << c.describe();
  EXPECT_EQ(c.count("v1") + c.count("v3"), 1000) << c.describe();
  EXPECT_NEAR(c.count("v3"), 200, binomial_band(0.2, 1000)) << c.describe();
}

TEST(RolloutLifecycleTest, UndoToStableIsHealthyAtOnce) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  expect_post(rig, "web/promote", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);

  const Response reload = rig.set_desired("v1");
  ASSERT_EQ(reload.status, 200) << reload.body;
  s = rig.status();  // no wait: the reload's answer comes after the change
  EXPECT_EQ(str(field(s, "phase")), "Healthy") << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_TRUE(field(s, "canary").is_null()) << summary(s);
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0);
  EXPECT_EQ(num(field(s, "currentStepIndex")), 4) << "stepCount whenever Healthy";
  EXPECT_EQ(field(s, "aborted"), json::value(false));
  expect_all_on(rig, "v1");
}

TEST(RolloutLifecycleTest, TheLastStepCompletesTheRollout) {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setHeaderRoute:
              name: beta
              match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]
          - setWeight: 20
          - pause: {duration: 1s}
)";
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 20, s)) << summary(s);
  ASSERT_TRUE(wait_phase(rig.admin(), "Healthy", 3, 0, s, 4s)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v2");
  EXPECT_TRUE(field(s, "canary").is_null()) << summary(s);
  EXPECT_EQ(field(s, "headerRoutes"), json::value(json::array{})) << summary(s);
  EXPECT_TRUE(field(s, "pauseUntil").is_null()) << summary(s);
  expect_all_on(rig, "v2");
}

}  // namespace
}  // namespace vane::it
