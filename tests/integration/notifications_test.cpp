// Notifications (SPEC §11) from a real vane to a real webhook receiver (webhook_receiver.py): every
// event of a canary in order with its STATUS and a header whose value came from a file, the slack
// format and the filters, retries then `failed`, and a receiver that never answers while a timed
// pause elapses on time and requests are served.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/rollout_support.hpp"
#include "tests/integration/script_server.hpp"

namespace vane::it {
namespace {

/// What the receiver recorded, oldest first.
json::array records(const ScriptServer& receiver) {
  const Response r = admin_call(receiver.port(), "GET", "/__records");
  const json::value v = parse_json(r.body);
  return v.is_array() ? v.get_array() : json::array{};
}

/// The records POSTed to `path`.
json::array posted_to(const ScriptServer& receiver, std::string_view path) {
  json::array out;
  for (const auto& record : records(receiver)) {
    if (str(field(record, "path")) == path) out.push_back(record);
  }
  return out;
}

std::string notifier(std::string_view name, const ScriptServer& receiver, std::string_view path,
                     std::string_view more = "") {
  return "  - {name: " + std::string(name) + ", url: \"http://" + receiver.address() + std::string(path) +
         "\"" + std::string(more) + "}\n";
}

/// vane_notifications_total for (notifier, result); -1 when absent.
double notified(uint16_t admin, std::string_view name, std::string_view result) {
  const std::string metrics = admin_call(admin, "GET", "/metrics").body;
  const std::string series = "vane_notifications_total{notifier=\"" + std::string(name) + "\",result=\"" +
                             std::string(result) + "\"} ";
  const auto at = metrics.find(series);
  return at == std::string::npos ? -1 : std::stod(metrics.substr(at + series.size()));
}

TEST(NotificationsTest, EveryEventOfACanaryReachesTheWebhookInOrder) {
  ScriptServer receiver(VANE_WEBHOOK_RECEIVER, {});
  TempDir secrets;
  write_file(secrets.path() / "token", "Bearer s3cret\n");
  RolloutSetup setup;
  setup.top_extra = "notifications:\n" +
                    notifier("hook", receiver, "/events",
                             ", headers: [{key: Authorization, valueFrom: {file: \"" +
                                 (secrets.path() / "token").string() + "\"}}]") +
                    notifier("chat", receiver, "/slack",
                             ", format: slack, events: [on-rollout-completed], rollouts: [web]");
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Healthy", 2, 0, s)) << summary(s);

  const json::value trail = parse_json(admin_call(rig.admin(), "GET", "/api/v1/events").body);
  const json::array& events = trail.at("events").get_array();
  ASSERT_EQ(events.size(), 8u);
  json::array posted;
  ASSERT_TRUE(wait_until([&] { return (posted = posted_to(receiver, "/events")).size() >= events.size(); }, 10s))
      << posted.size() << " of " << events.size() << " delivered";
  ASSERT_EQ(posted.size(), events.size()) << "each event once";
  for (size_t i = 0; i < events.size(); ++i) {
    const json::value body = parse_json(str(field(posted[i], "body")));
    EXPECT_EQ(field(body, "event"), events[i]) << "event " << i << " out of order or changed";
    EXPECT_EQ(str(field(posted[i], "authorization")), "Bearer s3cret");
    if (field(events[i], "rollout").is_null()) {
      EXPECT_TRUE(field(body, "status").is_null());
    } else {
      EXPECT_EQ(str(field(field(body, "status"), "name")), "web");
    }
  }
  // The completion's STATUS is the one right after it.
  const json::value last = parse_json(str(field(posted.back(), "body")));
  EXPECT_EQ(str(field(field(last, "status"), "phase")), "Healthy");
  EXPECT_EQ(str(field(field(last, "status"), "stable")), "v2");

  // slack: only the completion of `web`, as text naming the rollout, the trigger and the versions.
  json::array chat;
  ASSERT_TRUE(wait_until([&] { return !(chat = posted_to(receiver, "/slack")).empty(); }, 5s));
  ASSERT_EQ(chat.size(), 1u);
  const std::string text = str(field(parse_json(str(field(chat[0], "body"))), "text"));
  for (const char* part : {"web", "on-rollout-completed", "v2"}) {
    EXPECT_NE(text.find(part), std::string::npos) << part << " not in: " << text;
  }
  EXPECT_EQ(notified(rig.admin(), "hook", "sent"), 8);
  EXPECT_EQ(notified(rig.admin(), "chat", "sent"), 1);
  EXPECT_EQ(notified(rig.admin(), "hook", "failed"), 0);
}

TEST(NotificationsTest, AFailingReceiverIsRetriedThenCountedFailed) {
  ScriptServer twice(VANE_WEBHOOK_RECEIVER, {"--fail", "2"});
  ScriptServer always(VANE_WEBHOOK_RECEIVER, {"--fail", "1000"});
  RolloutSetup setup;
  setup.top_extra = "notifications:\n" +
                    notifier("twice", twice, "/", ", events: [on-rollout-updated]") +
                    notifier("always", always, "/", ", events: [on-rollout-updated]");
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  // Answered 503 twice, then 200 on the third attempt (1 s, then 2 s later).
  ASSERT_TRUE(wait_until([&] { return notified(rig.admin(), "twice", "sent") == 1; }, 10s))
      << json::serialize(records(twice));
  EXPECT_EQ(records(twice).size(), 3u);
  // Five attempts (1 + 2 + 4 + 8 s apart), then counted failed; nothing more is sent.
  ASSERT_TRUE(wait_until([&] { return notified(rig.admin(), "always", "failed") == 1; }, 25s))
      << json::serialize(records(always));
  EXPECT_EQ(records(always).size(), 5u);
  EXPECT_EQ(notified(rig.admin(), "always", "sent"), 0);
  EXPECT_NE(rig.vane().log().find("notifier always: not delivered after 5 attempts: status 503"),
            std::string::npos);
}

TEST(NotificationsTest, AHangingReceiverDelaysNeitherATimedPauseNorRequests) {
  ScriptServer hanging(VANE_WEBHOOK_RECEIVER, {"--hang"});
  RolloutSetup setup;
  setup.canary = std::string(kTimedPauseSteps);
  setup.top_extra = "notifications:\n" + notifier("stuck", hanging, "/", ", timeoutSeconds: 30");
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  ASSERT_TRUE(wait_until([&] { return !records(hanging).empty(); }, 5s)) << "the first event was not even sent";
  // Requests are answered while the receiver holds the first delivery.
  for (int i = 0; i < 20; ++i) {
    const CommandResult r = curl({"-o", "/dev/null", "-w", "%{http_code}",
                                  "http://127.0.0.1:" + std::to_string(rig.port()) + "/"});
    ASSERT_EQ(r.out, "200") << r.err;
  }
  // The timed pause ends by itself: the rollout reaches the next pause.
  json::value s;
  EXPECT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s, 10s)) << summary(s);
  EXPECT_EQ(records(hanging).size(), 1u) << "one delivery at a time: the rest wait in the queue";
  EXPECT_EQ(notified(rig.admin(), "stuck", "sent"), 0);
}

}  // namespace
}  // namespace vane::it
