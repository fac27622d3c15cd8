// The rollout lifecycle from outside (SPEC §4, §6, §7): promote / promote --full / abort / retry /
// pause over HTTP and the CLI with their status codes, abort moving all traffic at once, progress
// surviving kill -9 (step, weight, a timed pause's deadline), reloads that change the desired
// upstream (restart at step 0, undo), corrupt state files, and `vane status --wait` exit codes.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

constexpr std::string_view four_steps = R"(        steps:
          - setWeight: 20
          - pause: {}
          - setWeight: 50
          - pause: {}
)";

RolloutSetup four_step_setup() {
  RolloutSetup setup;
  setup.canary = std::string(four_steps);
  return setup;
}

/// Starts canary `desired` and waits for its first pause (step 1, 20%).
void start_canary(RolloutRig& rig, std::string_view desired = "v2") {
  const Response reload = rig.set_desired(desired);
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  EXPECT_EQ(str(field(s, "canary")), desired);
}

Response post(const RolloutRig& rig, std::string_view what) {
  return admin_call(rig.admin(), "POST", "/api/v1/rollouts/" + std::string(what));
}

/// A POST that must answer `status`; its body's STATUS (null when not JSON).
json::value expect_post(const RolloutRig& rig, std::string_view what, int status) {
  const Response r = post(rig, what);
  EXPECT_EQ(r.status, status) << "POST " << what << ": " << r.body << "\nnow: " << summary(rig.status());
  return parse_json(r.body);
}

/// Every one of `n` requests answered by `side`.
void expect_all_on(const RolloutRig& rig, const std::string& side, int n = 300) {
  const SideCounts c = send_requests(rig.port(), n);
  EXPECT_EQ(c.count(side), n) << c.describe();
}

// ---- commands over HTTP ----------------------------------------------------------------------

TEST(RolloutLifecycleTest, CommandsOnAHealthyRolloutAreConflictsAndUnknownNamesNotFound) {
  RolloutRig rig(four_step_setup());
  const json::value s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Healthy") << summary(s);
  for (const char* verb : {"promote", "promote?full=true", "abort", "pause", "retry"}) {
    const json::value body = expect_post(rig, std::string("web/") + verb, 409);
    EXPECT_TRUE(field(body, "error").is_string()) << verb << ": the error should say why";
    expect_post(rig, std::string("nope/") + verb, 404);
  }
  EXPECT_EQ(str(field(rig.status(), "phase")), "Healthy");
}

TEST(RolloutLifecycleTest, PromoteWalksTheStepsAndFullPromotionMakesTheCanaryStable) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
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
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
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

  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
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
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  {
    StatusWait wait(rig.admin(), "10s");
    EXPECT_FALSE(wait.process().wait_exit(700ms)) << "exited while Paused: " << wait.output();
    expect_post(rig, "web/promote?full=true", 200);
    EXPECT_EQ(wait.process().wait_exit(5s).value_or(-1), 0) << wait.output();
  }
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, "v3"));  // stable is now v2
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

// ---- restarts --------------------------------------------------------------------------------

TEST(RolloutLifecycleTest, KillNineMidRolloutResumesTheSameStepAndWeight) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  expect_post(rig, "web/promote", 200);
  json::value before;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, before)) << summary(before);

  rig.restart_after_kill();
  json::value after;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, after, 2s)) << summary(after);
  EXPECT_EQ(str(field(after, "stable")), "v1");
  EXPECT_EQ(str(field(after, "canary")), "v2");
  EXPECT_EQ(field(after, "pausedSince"), field(before, "pausedSince")) << "the pause began before";
  const SideCounts c = send_requests(rig.port(), 1000);
  EXPECT_EQ(c.count("v1") + c.count("v2"), 1000) << c.describe();
  EXPECT_NEAR(c.count("v2"), 500, binomial_band(0.5, 1000)) << c.describe();
}

TEST(RolloutLifecycleTest, AbortSurvivesARestart) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  expect_post(rig, "web/abort", 200);
  rig.restart_after_kill();
  const json::value s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Degraded") << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true));
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0);
  EXPECT_EQ(str(field(s, "canary")), "v2");
  expect_all_on(rig, "v1");
  expect_post(rig, "web/retry", 200);
  json::value after;
  EXPECT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, after)) << summary(after);
}

TEST(RolloutLifecycleTest, TimedPauseKeepsItsDeadlineAcrossARestart) {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setWeight: 20
          - pause: {duration: 2s}
          - setWeight: 50
          - pause: {}
)";
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  const json::value before = rig.status();
  const auto since = parse_utc(str(field(before, "pausedSince")));
  const auto until = parse_utc(str(field(before, "pauseUntil")));
  ASSERT_TRUE(since && until) << summary(before) << " pausedSince/pauseUntil must be RFC 3339";
  EXPECT_EQ(std::chrono::duration_cast<Millis>(*until - *since).count(), 2000);

  // Half the pause passes (this is the point of the test, not a wait for a condition), then the
  // process dies. Restarting with a fresh 2 s pause would end a whole second late.
  wait_until([&] { return std::chrono::system_clock::now() >= *since + 1s; }, 2s);
  rig.restart_after_kill();
  const json::value after = rig.status();
  if (std::chrono::system_clock::now() < *until - 200ms) {
    EXPECT_EQ(str(field(after, "phase")), "Paused") << summary(after);
    EXPECT_EQ(num(field(after, "currentStepIndex")), 1) << summary(after);
    EXPECT_EQ(field(after, "pauseUntil"), field(before, "pauseUntil"));
  }
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s, 5s)) << summary(s);
  const auto advanced = std::chrono::system_clock::now();
  EXPECT_LE(advanced, *until + 700ms) << "the pause ended "
                                      << std::chrono::duration_cast<Millis>(advanced - *until).count()
                                      << " ms after its original deadline";
  EXPECT_GE(advanced, *until - 50ms) << "the pause ended early";
}

// ---- reloads ---------------------------------------------------------------------------------

TEST(RolloutLifecycleTest, NewDesiredMidRolloutRestartsAtStepZeroAgainstTheSameStable) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  expect_post(rig, "web/promote", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);

  ASSERT_NO_FATAL_FAILURE(start_canary(rig, "v3"));
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
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
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
  EXPECT_EQ(field(s, "aborted"), json::value(false));
  expect_all_on(rig, "v1");
}

// ---- corrupt state ---------------------------------------------------------------------------

constexpr std::string_view garbage = "{\"this is\": not a state file";

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// Files of `dir` other than `originals` that hold exactly `text`: where corrupt files were set.
std::vector<std::filesystem::path> set_aside(const std::filesystem::path& dir,
                                             const std::vector<std::filesystem::path>& originals,
                                             std::string_view text) {
  std::vector<std::filesystem::path> found;
  for (const auto& f : files_in(dir))
    if (std::find(originals.begin(), originals.end(), f) == originals.end() && read_file(f) == text)
      found.push_back(f);
  return found;
}

std::string names(const std::vector<std::filesystem::path>& files) {
  std::string text;
  for (const auto& f : files) text += f.filename().string() + " ";
  return text;
}

TEST(RolloutLifecycleTest, CorruptStateAndBackupAreSetAsideAndVaneStartsAsOnAFirstStart) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  rig.kill9();
  const auto originals = files_in(rig.state_dir());
  ASSERT_FALSE(originals.empty()) << "no state file in the state dir";
  for (const auto& f : originals) write_file(f, std::string(garbage));

  rig.start("v2");  // throws (fails the test) if vane does not start
  const json::value s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Healthy") << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v2") << "a first start makes the desired upstream stable";
  EXPECT_TRUE(field(s, "canary").is_null()) << summary(s);
  EXPECT_FALSE(str(field(s, "message")).empty()) << "the warning belongs in message";
  const auto aside = set_aside(rig.state_dir(), originals, garbage);
  EXPECT_EQ(aside.size(), originals.size())
      << "corrupt files set aside: " << names(aside) << "; state dir: " << names(files_in(rig.state_dir()));
  for (const auto& f : originals)
    EXPECT_NE(read_file(f), garbage) << f << " still holds the corrupt text";
  const std::string log = rig.vane().log();
  EXPECT_NE(log.find(originals.front().filename().string()), std::string::npos)
      << "the log should warn about " << originals.front().filename();
  expect_all_on(rig, "v2", 100);
}

TEST(RolloutLifecycleTest, CorruptStateFileFallsBackToTheBackup) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_canary(rig));
  rig.kill9();
  // The state file is the one whose name starts every other file's name (its backup, …).
  const auto originals = files_in(rig.state_dir());
  ASSERT_GE(originals.size(), 2U) << "expected a state file and its backup: " << names(originals);
  const auto main_file = originals.front();
  for (const auto& f : originals)
    ASSERT_TRUE(f.filename().string().starts_with(main_file.filename().string())) << names(originals);
  write_file(main_file, std::string(garbage));

  rig.start("v2");
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s, 3s)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1") << "the backup's progress, not a first start";
  EXPECT_EQ(str(field(s, "canary")), "v2");
  EXPECT_EQ(set_aside(rig.state_dir(), originals, garbage).size(), 1U)
      << "state dir: " << names(files_in(rig.state_dir()));
}

}  // namespace
}  // namespace vane::it
