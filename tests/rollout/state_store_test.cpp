// StateStore (SPEC §4 persistence): JSON round trip, write + rename with a backup, corrupt files
// set aside and the backup used, odd rollout names, a timed pause surviving a restart; and the
// RFC 3339 times the files hold.
#include "rollout/state_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/rollout/blue_green_fixture.hpp"

namespace vane::rollout::test {
namespace {

namespace fs = std::filesystem;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vane-state-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static void write(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  /// A state with every field set, times on whole milliseconds.
  static RolloutState full_state() {
    RolloutState s;
    s.stable = "shop-v1";
    s.canary = "shop-v2";
    s.step_index = 3;
    s.phase = Phase::Paused;
    s.message = "paused: \"quoted\" \\ and üñí";
    s.aborted = true;
    s.abort_reason = "why";
    s.pause_reason = PauseReason::Inconclusive;
    s.paused_since = t0() + 250ms;
    s.pause_until = t0() + 61'001ms;
    s.waiting_since = t0() - 24h * 365 * 60;  // before 1970
    s.deadline_exceeded = true;
    s.scale_down_at = t0() + 30s;
    s.previous_stable = "shop-v0";
    s.step_analysis = AnalysisStatus::Successful;
    s.background_analysis = AnalysisStatus::Inconclusive;
    s.gate = Gate::PostPromotion;
    return s;
  }

  RolloutState simple_state(const std::string& stable) const {
    RolloutState s;
    s.stable = stable;
    s.message = "m";
    return s;
  }

  fs::path root_;
};

TEST_F(StateStoreTest, RoundTripKeepsEveryField) {
  StateStore store((root_ / "state").string());
  std::string error;
  ASSERT_TRUE(store.save("shop", full_state(), &error)) << error;
  EXPECT_TRUE(fs::exists(root_ / "state" / "shop.json"));
  EXPECT_FALSE(fs::exists(root_ / "state" / "shop.json.tmp"));
  EXPECT_FALSE(fs::exists(root_ / "state" / "shop.json.bak"));  // nothing to back up yet
  const auto loaded = store.load("shop", t0());
  EXPECT_EQ(loaded.warning, "");
  ASSERT_TRUE(loaded.state.has_value());
  EXPECT_EQ(*loaded.state, full_state());
}

TEST_F(StateStoreTest, FileHoldsNamesAndRfc3339Times) {
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", full_state(), nullptr));
  const std::string text = read(root_ / "shop.json");
  EXPECT_NE(text.find(R"("phase":"Paused")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("pauseUntil":"2024-05-01T12:01:01.001Z")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("stepIndex":3)"), std::string::npos) << text;
  RolloutState healthy = simple_state("v1");
  ASSERT_TRUE(store.save("shop", healthy, nullptr));
  EXPECT_NE(read(root_ / "shop.json").find(R"("pausedSince":null)"), std::string::npos);
}

TEST_F(StateStoreTest, SaveKeepsThePreviousFileAsBackup) {
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", simple_state("a"), nullptr));
  ASSERT_TRUE(store.save("shop", simple_state("b"), nullptr));
  EXPECT_EQ(state_from_json(read(root_ / "shop.json"), nullptr)->stable, "b");
  EXPECT_EQ(state_from_json(read(root_ / "shop.json.bak"), nullptr)->stable, "a");
}

TEST_F(StateStoreTest, MissingDirIsCreated) {
  const fs::path dir = root_ / "a" / "b" / "c";
  StateStore store(dir.string());
  std::string error;
  ASSERT_TRUE(store.save("shop", simple_state("v1"), &error)) << error;
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(store.load("shop", t0()).state->stable, "v1");
}

TEST_F(StateStoreTest, NothingSavedIsAFirstStartWithoutWarning) {
  StateStore store((root_ / "never-created").string());
  const auto loaded = store.load("shop", t0());
  EXPECT_FALSE(loaded.state.has_value());
  EXPECT_EQ(loaded.warning, "");
}

TEST_F(StateStoreTest, SaveFailureIsReportedNotThrown) {
  write(root_ / "file", "x");  // the state dir is a plain file
  StateStore store((root_ / "file").string());
  std::string error;
  EXPECT_FALSE(store.save("shop", simple_state("v1"), &error));
  EXPECT_NE(error.find("cannot"), std::string::npos) << error;
  EXPECT_FALSE(store.save("shop", simple_state("v1"), nullptr));
}

TEST_F(StateStoreTest, MissingMainFileUsesTheBackup) {
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", simple_state("a"), nullptr));
  ASSERT_TRUE(store.save("shop", simple_state("b"), nullptr));
  fs::remove(root_ / "shop.json");  // a crash between the two renames
  const auto loaded = store.load("shop", t0());
  ASSERT_TRUE(loaded.state.has_value());
  EXPECT_EQ(loaded.state->stable, "a");
  EXPECT_EQ(loaded.warning, "state file " + (root_ / "shop.json").string() +
                                " is missing; using the backup " +
                                (root_ / "shop.json.bak").string());
}

TEST_F(StateStoreTest, CorruptFileIsSetAsideAndTheBackupUsed) {
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", simple_state("a"), nullptr));
  ASSERT_TRUE(store.save("shop", simple_state("b"), nullptr));
  write(root_ / "shop.json", "{\"version\": 1, \"stable\": ");
  const auto loaded = store.load("shop", t0() + 250ms);
  ASSERT_TRUE(loaded.state.has_value());
  EXPECT_EQ(loaded.state->stable, "a");
  const fs::path aside = root_ / "shop.json.corrupt-20240501T120000.250Z";
  EXPECT_TRUE(fs::exists(aside));
  EXPECT_EQ(read(aside), "{\"version\": 1, \"stable\": ");
  EXPECT_FALSE(fs::exists(root_ / "shop.json"));
  EXPECT_NE(loaded.warning.find("state file " + (root_ / "shop.json").string() + " is corrupt ("),
            std::string::npos)
      << loaded.warning;
  EXPECT_NE(loaded.warning.find("set aside as " + aside.string()), std::string::npos);
  EXPECT_NE(loaded.warning.find("; using the backup " + (root_ / "shop.json.bak").string()),
            std::string::npos);
  // The next save writes a fresh main file and keeps the good backup.
  ASSERT_TRUE(store.save("shop", simple_state("c"), nullptr));
  EXPECT_EQ(store.load("shop", t0()).state->stable, "c");
  EXPECT_EQ(state_from_json(read(root_ / "shop.json.bak"), nullptr)->stable, "a");
}

TEST_F(StateStoreTest, BothCorruptStartsAsOnAFirstStartWithAWarning) {
  StateStore store(root_.string());
  write(root_ / "shop.json", "not json");
  write(root_ / "shop.json.bak", R"({"version":1})");
  const auto loaded = store.load("shop", t0());
  EXPECT_FALSE(loaded.state.has_value());
  EXPECT_NE(loaded.warning.find("shop.json is corrupt (bad JSON"), std::string::npos)
      << loaded.warning;
  EXPECT_NE(loaded.warning.find("shop.json.bak is corrupt (missing field \"stable\")"),
            std::string::npos)
      << loaded.warning;
  EXPECT_NE(loaded.warning.find("no usable state; starting as on a first start"),
            std::string::npos);
  EXPECT_TRUE(fs::exists(root_ / "shop.json.corrupt-20240501T120000.000Z"));
  EXPECT_TRUE(fs::exists(root_ / "shop.json.bak.corrupt-20240501T120000.000Z"));
  EXPECT_FALSE(fs::exists(root_ / "shop.json.bak"));
}

TEST_F(StateStoreTest, CorruptWithoutBackup) {
  StateStore store(root_.string());
  write(root_ / "shop.json", "[]");
  const auto first = store.load("shop", t0());
  EXPECT_FALSE(first.state.has_value());
  EXPECT_NE(first.warning.find("not a JSON object"), std::string::npos) << first.warning;
  EXPECT_NE(first.warning.find("no backup"), std::string::npos);
  write(root_ / "shop.json", "[]");  // again at the same time: the aside name does not clash
  store.load("shop", t0());
  EXPECT_TRUE(fs::exists(root_ / "shop.json.corrupt-20240501T120000.000Z"));
  EXPECT_TRUE(fs::exists(root_ / "shop.json.corrupt-20240501T120000.000Z-1"));
}

struct CorruptCase {
  const char* what;
  std::string from;  ///< text to replace in a valid file
  std::string to;
  const char* problem;
};

class CorruptTest : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(CorruptTest, IsRejectedWithAReason) {
  const CorruptCase& c = GetParam();
  SCOPED_TRACE(c.what);
  RolloutState s;
  s.stable = "v1";
  s.canary = "v2";
  s.pause_until = t0();
  std::string text = state_to_json(s);
  ASSERT_TRUE(state_from_json(text, nullptr).has_value());
  const auto at = text.find(c.from);
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, c.from.size(), c.to);
  std::string error;
  EXPECT_FALSE(state_from_json(text, &error).has_value()) << text;
  EXPECT_NE(error.find(c.problem), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Files, CorruptTest,
    ::testing::Values(
        CorruptCase{"truncated", "}", "", "bad JSON"},
        CorruptCase{"unknown phase", R"("Healthy")", R"("Happy")", "unknown phase \"Happy\""},
        CorruptCase{"missing field", R"("canary":"v2",)", "", "missing field \"canary\""},
        CorruptCase{"wrong type", R"("aborted":false)", R"("aborted":"no")", "\"aborted\""},
        CorruptCase{"negative index", R"("stepIndex":0)", R"("stepIndex":-1)", "\"stepIndex\""},
        CorruptCase{"bad time", "2024-05-01T12:00:00.000Z", "2024-13-01T12:00:00.000Z",
                    "\"pauseUntil\""},
        CorruptCase{"unknown pause reason", R"("pauseReason":"None")", R"("pauseReason":"x")",
                    "unknown pauseReason"},
        CorruptCase{"unknown version", R"("version":1)", R"("version":2)", "\"version\""},
        CorruptCase{"empty stable", R"("stable":"v1")", R"("stable":"")", "\"stable\""},
        CorruptCase{"unknown gate", R"("gate":"None")", R"("gate":"Open")", "unknown gate"}));

TEST(StateJsonTest, AFileWithoutGateIsNotBlueGreen) {  // written before blue-green existed
  RolloutState s;
  s.stable = "v1";
  std::string text = state_to_json(s);
  const std::string field = R"(,"gate":"None")";
  const auto at = text.find(field);
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, field.size());
  const auto loaded = state_from_json(text, nullptr);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->gate, Gate::None);
  EXPECT_EQ(*loaded, s);
}

TEST_F(StateStoreTest, OddNamesGetTheirOwnFiles) {
  EXPECT_EQ(sanitize_file_name("shop-v1.2_x"), "shop-v1.2_x");
  EXPECT_EQ(sanitize_file_name("a/../b c%"), "a%2F..%2Fb%20c%25");
  EXPECT_EQ(sanitize_file_name("ü"), "%C3%BC");
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("a/../b c%", simple_state("one"), nullptr));
  ASSERT_TRUE(store.save("a%2F..%2Fb%20c%25", simple_state("two"), nullptr));
  EXPECT_TRUE(fs::exists(root_ / "a%2F..%2Fb%20c%25.json"));
  EXPECT_EQ(store.path_of("a/../b c%"), (root_ / "a%2F..%2Fb%20c%25.json").string());
  EXPECT_EQ(store.load("a/../b c%", t0()).state->stable, "one");
  EXPECT_EQ(store.load("a%2F..%2Fb%20c%25", t0()).state->stable, "two");
  EXPECT_FALSE(fs::exists(root_.parent_path() / "b c%.json"));
}

TEST_F(StateStoreTest, TimedPauseKeepsItsDeadlineAcrossARestart) {
  Machine before(rollout_yaml(kSpecStrategy));
  before.send(desired("v2"), 0s);
  ASSERT_EQ(before.state.pause_until, t0() + 60s);
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", before.state, nullptr));

  Machine after(rollout_yaml(kSpecStrategy));  // the restart, 45 s later
  const auto loaded = StateStore(root_.string()).load("shop", t0() + 45s);
  ASSERT_TRUE(loaded.state.has_value());
  after.state = *loaded.state;
  EXPECT_TRUE(after.send(desired("v2"), 45s).effects.empty());  // reconcile: same desired
  EXPECT_EQ(resume_effects(after.spec(), after.state),
            std::vector<Effect>{start(AnalysisKind::Background)});
  after.send(tick(), 59s);
  EXPECT_EQ(after.state.step_index, 1u);
  after.send(tick(), 60s);  // the original deadline, not 45 s + 1m
  EXPECT_EQ(after.state.step_index, 2u);
  EXPECT_EQ(after.state.phase, Phase::Progressing);
}

TEST_F(StateStoreTest, TimedAutoPromotionKeepsItsDeadlineAcrossARestart) {
  Machine before(blue_green_yaml());
  before.send(desired("v2"), 0s);
  before.send(done(AnalysisKind::PrePromotion, Event::AnalysisPhase::Successful), 5s);
  ASSERT_EQ(before.state.pause_until, t0() + 35s);
  StateStore store(root_.string());
  ASSERT_TRUE(store.save("shop", before.state, nullptr));

  Machine after(blue_green_yaml());  // the restart, 20 s later
  const auto loaded = StateStore(root_.string()).load("shop", t0() + 20s);
  ASSERT_TRUE(loaded.state.has_value());
  after.state = *loaded.state;
  EXPECT_EQ(after.state, before.state);
  EXPECT_TRUE(after.send(desired("v2"), 20s).effects.empty());  // reconcile: same desired
  EXPECT_TRUE(resume_effects(after.spec(), after.state).empty());  // no run was waited for
  after.send(tick(), 34s);
  EXPECT_EQ(after.state.stable, "v1");
  after.send(tick(), 35s);  // the original deadline, not 20 s + 30 s
  EXPECT_EQ(after.state.stable, "v2");
  EXPECT_EQ(after.state.gate, Gate::PostPromotion);
}

TEST(TimeTest, FormatsRfc3339UtcWithMilliseconds) {
  EXPECT_EQ(format_time(t0()), "2024-05-01T12:00:00.000Z");
  EXPECT_EQ(format_time(t0() + 1'999'999us), "2024-05-01T12:00:01.999Z");  // truncated
  EXPECT_EQ(format_time(WallTime{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(WallTime{} - 1ms), "1969-12-31T23:59:59.999Z");
}

TEST(TimeTest, ParsesWhatItFormatsAndOffsets) {
  EXPECT_EQ(parse_time("2024-05-01T12:00:00.250Z"), t0() + 250ms);
  EXPECT_EQ(parse_time("2024-05-01T12:00:00Z"), t0());
  EXPECT_EQ(parse_time("2024-05-01t14:00:00.5+02:00"), t0() + 500ms);
  EXPECT_EQ(parse_time("2024-05-01T11:30:00.123456789-00:30"), t0() + 123ms);
  EXPECT_EQ(parse_time("1969-12-31T23:59:59.999Z"), WallTime{} - 1ms);
  for (const char* bad : {"", "2024-05-01", "2024-05-01T12:00:00", "2024-02-30T12:00:00Z",
                          "2024-05-01T24:00:00Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00Z",
                          "2024-05-01T12:00:00Zjunk", "2024-05-01 12:00:00Z"}) {
    EXPECT_EQ(parse_time(bad), std::nullopt) << bad;
  }
}

// Found by tests/fuzz/state_fuzz: a year past 2262 overflowed the nanosecond count (UB), so a
// state file could load a time that was never written.
TEST(TimeTest, RefusesTimesBeyondWhatWallTimeHolds) {
  for (const char* far : {"4048-02-29T23:59:60+05:30", "9999-12-31T23:59:59.999Z",
                          "2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z", "0000-01-01T00:00:00Z"}) {
    EXPECT_EQ(parse_time(far), std::nullopt) << far;
  }
  for (const char* near : {"2262-04-11T23:47:16.854Z", "1677-09-21T00:12:43.146Z"}) {
    const auto t = parse_time(near);
    ASSERT_TRUE(t.has_value()) << near;
    EXPECT_EQ(format_time(*t), near);
  }
}

}  // namespace
}  // namespace vane::rollout::test
