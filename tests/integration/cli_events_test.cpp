// `vane events` against a real vane (SPEC §7, §11): the trail after a promote and an abort made
// through the CLI, as text lines and as EVENT JSON lines; --follow prints a new event within 1 s
// and ends with 0 on SIGINT; an unknown rollout is the API's 404.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// The index of the first line holding `part` at or after `from`; -1 when none.
int line_with(const std::vector<std::string>& lines, std::string_view part, int from = 0) {
  for (int i = from; i < static_cast<int>(lines.size()); ++i)
    if (lines[static_cast<size_t>(i)].find(part) != std::string::npos) return i;
  return -1;
}

/// A rollout paused at step 1, then promoted (paused at step 3) and aborted through the CLI.
class CliEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    start_first_pause(rig_);
    const CommandResult promote = vane_cli(rig_.admin(), {"promote", "web"});
    ASSERT_EQ(promote.exit_code, 0) << promote.err;
    json::value s;
    ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 3, 50, s)) << summary(s);
    const CommandResult abort = vane_cli(rig_.admin(), {"abort", "web"});
    ASSERT_EQ(abort.exit_code, 0) << abort.err;
  }

  RolloutRig rig_{four_step_setup()};
};

TEST_F(CliEventsTest, ListsThePromoteAndTheAbort) {
  const CommandResult r = vane_cli(rig_.admin(), {"events", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  const int promoted = line_with(lines, "on-rollout-promoted");
  ASSERT_GE(promoted, 0) << r.out;
  const int aborted = line_with(lines, "on-rollout-aborted", promoted);
  ASSERT_GE(aborted, 0) << "no on-rollout-aborted after on-rollout-promoted:\n" << r.out;
  // ID TIME TRIGGER ROLLOUT MESSAGE
  const std::regex shape(R"(^[0-9]+ +[0-9]{4}-[0-9]{2}-[0-9]{2}T\S+Z +on-rollout-aborted +web( .*)?$)");
  EXPECT_TRUE(std::regex_match(lines[static_cast<size_t>(aborted)], shape)) << lines[static_cast<size_t>(aborted)];
}

TEST_F(CliEventsTest, JsonLinesAreEvents) {
  const CommandResult r = vane_cli(rig_.admin(), {"events", "web", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_FALSE(lines.empty());
  double last_id = -1;
  std::set<std::string> triggers;
  for (const std::string& line : lines) {
    const json::value event = parse_json(line);
    ASSERT_TRUE(event.is_object()) << line;
    for (const char* key : {"id", "time", "event", "rollout", "message", "phase", "step", "stable", "canary"})
      EXPECT_TRUE(event.get_object().contains(key)) << key << " missing in " << line;
    EXPECT_GT(num(field(event, "id")), last_id) << "oldest first: " << line;
    last_id = num(field(event, "id"));
    EXPECT_EQ(str(field(event, "rollout")), "web") << line;
    triggers.insert(str(field(event, "event")));
  }
  EXPECT_EQ(triggers.count("on-rollout-promoted"), 1U) << r.out;
  EXPECT_EQ(triggers.count("on-rollout-aborted"), 1U) << r.out;
}

TEST_F(CliEventsTest, FollowPrintsANewEventWithinASecond) {
  TempDir dir;
  const auto out = dir.path() / "events.out";
  Process follow({vane_binary(), "events", "web", "-f", "--admin", admin_url(rig_.admin())}, dir.path(), out,
                 dir.path() / "events.err");
  ASSERT_TRUE(wait_until([&] { return read_file(out).find("on-rollout-aborted") != std::string::npos; }, 5s))
      << read_file(out) << read_file(dir.path() / "events.err");
  const CommandResult retry = vane_cli(rig_.admin(), {"retry", "web"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_TRUE(wait_until([&] { return read_file(out).find("on-rollout-retried") != std::string::npos; }, 1s))
      << "no on-rollout-retried within 1 s:\n" << read_file(out);
  follow.signal(SIGINT);
  EXPECT_EQ(follow.wait_exit(5s), 0);
  std::set<std::string> ids;
  const auto lines = lines_of(read_file(out));
  for (const std::string& line : lines) ids.insert(line.substr(0, line.find(' ')));
  EXPECT_EQ(ids.size(), lines.size()) << "each event once:\n" << read_file(out);
}

TEST(CliEvents, UnknownRolloutIsTheApisError) {
  RolloutRig rig;
  const CommandResult r = vane_cli(rig.admin(), {"events", "nope"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("vane: "), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace vane::it
