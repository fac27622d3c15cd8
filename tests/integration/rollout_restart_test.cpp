// Rollout progress across restarts (SPEC §4): kill -9 mid-rollout resumes the same step, weight
// and abort; a timed pause keeps its deadline; a desired upstream changed while vane was down
// starts over against the same stable; corrupt state files are set aside (the backup used when it
// is readable, else a first start with a warning).
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// ---- restarts --------------------------------------------------------------------------------

TEST(RolloutRestartTest, KillNineMidRolloutResumesTheSameStepAndWeight) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
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

TEST(RolloutRestartTest, AbortSurvivesARestart) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
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

TEST(RolloutRestartTest, TimedPauseKeepsItsDeadlineAcrossARestart) {
  RolloutSetup setup;
  setup.canary = std::string(kTimedPauseSteps);
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
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

TEST(RolloutRestartTest, DesiredChangedWhileDownStartsOverAgainstTheSameStable) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  expect_post(rig, "web/promote", 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
  rig.kill9();
  rig.start("v3");
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s, 3s)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_EQ(str(field(s, "canary")), "v3");
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

TEST(RolloutRestartTest, CorruptStateAndBackupAreSetAsideAndVaneStartsAsOnAFirstStart) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
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

TEST(RolloutRestartTest, CorruptStateFileFallsBackToTheBackup) {
  RolloutRig rig(four_step_setup());
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
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
