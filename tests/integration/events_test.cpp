// The event trail (SPEC §11) of a real vane: every transition of a canary and of an abort, in
// order, in GET /api/v1/events (with `since` and `rollout`), in the log (text and --log-json) and
// in vane_rollout_events_total; reloads that change or reject the config are events, a reload
// that changes nothing is not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// GET /api/v1/events with `query`; the answer's events (an empty array when it is not 200).
json::array events(uint16_t admin, std::string_view query = "") {
  const Response r = admin_call(admin, "GET", "/api/v1/events" + std::string(query));
  if (r.status != 200) return {};
  const json::value v = parse_json(r.body);
  return v.is_object() && v.at("events").is_array() ? v.at("events").get_array() : json::array{};
}

std::vector<std::string> triggers(const json::array& list) {
  std::vector<std::string> out;
  for (const auto& event : list) out.push_back(str(field(event, "event")));
  return out;
}

using Names = std::vector<std::string>;

/// Waits until the trail holds at least `count` events; the trail.
json::array wait_events(uint16_t admin, size_t count) {
  json::array list;
  wait_until([&] { return (list = events(admin)).size() >= count; }, 5s);
  return list;
}

TEST(EventsTest, AWholeCanaryThenAnAbortInOrder) {
  RolloutRig rig;  // setWeight 20, pause {}
  EXPECT_TRUE(events(rig.admin()).empty()) << "the first load is not an event";

  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Healthy", 2, 0, s)) << summary(s);
  json::array list = wait_events(rig.admin(), 7);
  EXPECT_EQ(triggers(list), (Names{"on-config-reloaded", "on-rollout-updated", "on-rollout-step-completed",
                                   "on-rollout-paused", "on-rollout-promoted", "on-rollout-resumed",
                                   "on-rollout-step-completed", "on-rollout-completed"}));
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    EXPECT_EQ(num(field(e, "id")), static_cast<double>(i + 1)) << "ids grow by one";
    EXPECT_FALSE(str(field(e, "time")).empty());
    EXPECT_FALSE(str(field(e, "message")).empty());
  }
  EXPECT_TRUE(field(list[0], "rollout").is_null()) << "a reload is no rollout's event";
  // What STATUS showed right after each event.
  const auto& paused = list[3];
  EXPECT_EQ(str(field(paused, "rollout")), "web");
  EXPECT_EQ(str(field(paused, "phase")), "Paused");
  EXPECT_EQ(num(field(paused, "step")), 1);
  EXPECT_EQ(str(field(paused, "stable")), "v1");
  EXPECT_EQ(str(field(paused, "canary")), "v2");
  const auto& completed = list.back();
  EXPECT_EQ(str(field(completed, "phase")), "Healthy");
  EXPECT_EQ(str(field(completed, "stable")), "v2");
  EXPECT_TRUE(field(completed, "canary").is_null());

  // An abort: its reason in the message.
  ASSERT_EQ(rig.set_desired("v3").status, 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/abort").status, 200);
  list = wait_events(rig.admin(), 13);
  ASSERT_EQ(list.size(), 13u);
  EXPECT_EQ(str(field(list.back(), "event")), "on-rollout-aborted");
  EXPECT_EQ(str(field(list.back(), "phase")), "Degraded");

  // `since` gives only later ones; `rollout` only that rollout's.
  EXPECT_EQ(triggers(events(rig.admin(), "?since=12")), Names{"on-rollout-aborted"});
  EXPECT_TRUE(events(rig.admin(), "?since=13").empty());
  const json::array web = events(rig.admin(), "?rollout=web&since=0");
  EXPECT_EQ(web.size(), 11u) << "two reloads are no rollout's";
  EXPECT_EQ(admin_call(rig.admin(), "GET", "/api/v1/events?rollout=nope").status, 404);
  EXPECT_EQ(admin_call(rig.admin(), "GET", "/api/v1/events?since=x").status, 400);
  EXPECT_EQ(admin_call(rig.admin(), "POST", "/api/v1/events").status, 405);

  // One log line per event, naming its trigger.
  const std::string log = rig.vane().log();
  for (const char* name : {"on-rollout-updated", "on-rollout-paused", "on-rollout-promoted",
                           "on-rollout-completed", "on-rollout-aborted", "on-config-reloaded"}) {
    EXPECT_NE(log.find(name), std::string::npos) << name << " not logged";
  }
  // Counted by rollout and trigger.
  const std::string metrics = admin_call(rig.admin(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("vane_rollout_events_total{event=\"on-rollout-step-completed\",rollout=\"web\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("vane_rollout_events_total{event=\"on-config-reloaded\",rollout=\"\"} 2"),
            std::string::npos);
}

TEST(EventsTest, AnAutomaticAbortSaysWhichAnalysisFailedAndWhy) {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = std::string(kAnalysisSteps);
  RolloutRig rig(setup);
  behave(rig.v2(), 30);  // 30% of the canary's answers are 500s
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  load.stop();
  const json::array list = wait_events(rig.admin(), 6);
  EXPECT_EQ(triggers(list), (Names{"on-config-reloaded", "on-rollout-updated", "on-rollout-step-completed",
                                   "on-analysis-run-running", "on-analysis-run-failed",
                                   "on-rollout-aborted"}));
  ASSERT_EQ(list.size(), 6u);
  const std::string failed = str(field(list[4], "message"));
  EXPECT_NE(failed.find("success-rate"), std::string::npos) << failed;
  EXPECT_EQ(str(field(list[5], "phase")), "Degraded");
  EXPECT_EQ(num(field(list[5], "step")), 0) << "currentStepIndex is 0 after an abort";
}

TEST(EventsTest, ReloadsThatChangeOrRejectTheConfigAreEvents) {
  RolloutRig rig;
  // Unchanged: no event.
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/reload").status, 200);
  // Rejected: the errors in the message, as the 400 lists them.
  write_file(rig.config_path(), rig.yaml("v2") + "bogus: 1\n");
  const Response rejected = admin_call(rig.admin(), "POST", "/api/v1/reload");
  ASSERT_EQ(rejected.status, 400);
  const json::array list = wait_events(rig.admin(), 1);
  ASSERT_EQ(triggers(list), Names{"on-config-rejected"});
  const std::string message = str(field(list[0], "message"));
  const json::value answer = parse_json(rejected.body);
  for (const auto& error : answer.at("errors").get_array()) {
    EXPECT_NE(message.find(str(error)), std::string::npos) << message;
  }
}

TEST(EventsTest, JsonLogLinesCarryTheTrigger) {
  RolloutRig rig([] {
    RolloutSetup setup;
    setup.run_args = {"--log-json"};
    return setup;
  }());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  ASSERT_TRUE(wait_until([&] { return rig.vane().log().find("on-rollout-paused") != std::string::npos; }, 5s));
  bool found = false;
  for (const std::string& line : lines_of(rig.vane().log())) {
    const json::value v = parse_json(line);
    if (!v.is_object() || !v.get_object().contains("event")) continue;
    if (str(field(v, "event")) != "on-rollout-paused") continue;
    found = true;
    EXPECT_EQ(str(field(v, "rollout")), "web");
    EXPECT_FALSE(str(field(v, "msg")).empty());
    EXPECT_FALSE(str(field(v, "time")).empty());
    EXPECT_EQ(str(field(v, "level")), "info");
  }
  EXPECT_TRUE(found) << rig.vane().log();
}

}  // namespace
}  // namespace vane::it
