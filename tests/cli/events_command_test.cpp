// `vane events` against a tiny server (SPEC §7, §11): the text and JSON lines, the query it asks,
// --follow's `since`, and the API's 404. Every wait bounded.
#include "cli/events_command.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <boost/json/parse.hpp>

#include "tests/cli/test_server.hpp"

namespace vane::cli {
namespace {

using std::chrono::milliseconds;

std::string event_json(int id, std::string_view trigger, std::string_view rollout) {
  const std::string who = rollout.empty() ? "null" : "\"" + std::string(rollout) + "\"";
  return R"({"id":)" + std::to_string(id) + R"(,"time":"2024-05-01T12:00:0)" + std::to_string(id % 10) +
         R"(.000Z","event":")" + std::string(trigger) + R"(","rollout":)" + who +
         R"(,"message":"m)" + std::to_string(id) + R"(","phase":"Paused","step":1,"stable":"v1","canary":"v2"})";
}

int run(TestServer& server, const EventsOptions& options, std::ostringstream& out, std::ostringstream& err) {
  return show_events(AdminClient(server.url(), ""), options, out, err, [] { return false; });
}

TEST(EventsCommand, PrintsOneLinePerEvent) {
  TestServer server([](const Seen&) {
    return Answer{200, R"({"events":[)" + event_json(1, "on-config-reloaded", "") + "," +
                           event_json(2, "on-rollout-promoted", "shop") + "]}"};
  });
  std::ostringstream out, err;
  EXPECT_EQ(run(server, EventsOptions{}, out, err), 0) << err.str();
  EXPECT_EQ(out.str(),
            "1      2024-05-01T12:00:01.000Z on-config-reloaded           -            m1\n"
            "2      2024-05-01T12:00:02.000Z on-rollout-promoted          shop         m2\n");
  EXPECT_EQ(server.seen().at(0).target, "/api/v1/events");
}

TEST(EventsCommand, JsonIsOneEventPerLine) {
  TestServer server([](const Seen&) {
    return Answer{200, R"({"events":[)" + event_json(7, "on-rollout-aborted", "a b") + "]}"};
  });
  EventsOptions options;
  options.name = "a b";
  options.json = true;
  std::ostringstream out, err;
  EXPECT_EQ(run(server, options, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), event_json(7, "on-rollout-aborted", "a b") + "\n");
  EXPECT_EQ(server.seen().at(0).target, "/api/v1/events?rollout=a%20b");
}

TEST(EventsCommand, FollowAsksSinceTheLastId) {
  std::atomic<int> calls{0};
  TestServer server([&calls](const Seen&) {
    switch (calls++) {
      case 0: return Answer{200, R"({"events":[)" + event_json(3, "on-rollout-updated", "shop") + "]}"};
      case 2: return Answer{200, R"({"events":[)" + event_json(4, "on-rollout-paused", "shop") + "]}"};
      default: return Answer{200, R"({"events":[]})"};
    }
  });
  EventsOptions options;
  options.name = "shop";
  options.follow = true;
  options.interval = milliseconds{10};
  options.max_polls = 4;
  std::ostringstream out, err;
  EXPECT_EQ(run(server, options, out, err), 0) << err.str();
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].target, "/api/v1/events?rollout=shop");
  EXPECT_EQ(seen[1].target, "/api/v1/events?rollout=shop&since=3");
  EXPECT_EQ(seen[3].target, "/api/v1/events?rollout=shop&since=4");
  EXPECT_NE(out.str().find("on-rollout-updated"), std::string::npos);
  EXPECT_NE(out.str().find("on-rollout-paused"), std::string::npos);
}

TEST(EventsCommand, FollowStopsWhenAsked) {
  TestServer server([](const Seen&) { return Answer{200, R"({"events":[]})"}; });
  EventsOptions options;
  options.follow = true;
  options.interval = milliseconds{10};
  int checks = 0;
  std::ostringstream out, err;
  EXPECT_EQ(show_events(AdminClient(server.url(), ""), options, out, err, [&] { return ++checks > 3; }), 0);
  EXPECT_LE(server.seen().size(), 3u);
}

TEST(EventsCommand, UnknownRolloutIsTheApisError) {
  TestServer server([](const Seen&) { return Answer{404, R"({"error":"rollout \"nope\" not found"})"}; });
  EventsOptions options;
  options.name = "nope";
  options.follow = true;
  std::ostringstream out, err;
  EXPECT_EQ(run(server, options, out, err), 1);
  EXPECT_EQ(err.str(), "vane: rollout \"nope\" not found\n");
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace vane::cli
