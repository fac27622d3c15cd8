// notifications (SPEC §11) and header values from files: what loads, and each error at its place.
#include <filesystem>
#include <fstream>

#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

/// Lines 1-4: base, a route to rollout `shop` and the rollout.
std::string with_rollout(const std::string& rest) {
  return std::string(base) + "routes: [{name: r, rollout: shop}]\n" +
         "rollouts: [{name: shop, upstream: u, strategy: {canary: {steps: [{pause: {}}]}}}]\n" + rest;
}

TEST(Notifications, ALoadedNotifier) {
  const auto result = load_string(with_rollout(R"(notifications:
  - name: team
    url: https://hooks.example.com/vane
    events: [on-rollout-aborted, on-rollout-completed]
    rollouts: [shop]
    headers: [{key: Authorization, value: "Bearer x"}]
    format: slack
    timeoutSeconds: 2
  - {name: all, url: "http://127.0.0.1:9/"}
)"),
                                  "vane.yaml");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
  const auto& n = result.config->notifications;
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].events, (std::vector<Trigger>{Trigger::RolloutAborted, Trigger::RolloutCompleted}));
  EXPECT_EQ(n[0].rollouts, std::vector<std::string>{"shop"});
  EXPECT_EQ(n[0].headers.at(0).value, "Bearer x");
  EXPECT_EQ(n[0].format, Notifier::Format::Slack);
  EXPECT_EQ(n[0].timeout, std::chrono::seconds{2});
  EXPECT_TRUE(n[1].events.empty());
  EXPECT_EQ(n[1].format, Notifier::Format::Json);
  EXPECT_EQ(n[1].timeout, std::chrono::seconds{5});
}

TEST(Notifications, ErrorsAtTheirPlace) {
  run({
      {"a URL that is not http(s), an unknown event, an unknown rollout, a bad format",
       with_rollout(R"(notifications:
  - name: a
    url: ftp://x/
    events: [on-rollout-aborted, on-rollout-exploded]
    rollouts: [shop, nope]
    format: xml
    timeoutSeconds: 0
  - {name: a, url: "http://x/"}
  - {url: "http://x/"}
)"),
       {"vane.yaml:7:10: notifications[0].url: must be an http:// or https:// URL",
        "vane.yaml:8:34: notifications[0].events[1]: unknown event \"on-rollout-exploded\" "
        "(on-rollout-updated, on-rollout-aborted, …: see docs/api.md)",
        "vane.yaml:9:22: notifications[0].rollouts[1]: unknown rollout \"nope\"",
        "vane.yaml:10:13: notifications[0].format: must be one of json, slack",
        "vane.yaml:11:21: notifications[0].timeoutSeconds: must be between 1 and 300",
        "vane.yaml:12:12: notifications[1].name: duplicate notifier name \"a\" (first at line 6)",
        "vane.yaml:13:5: notifications[2].name: is required"}},
  });
}

TEST(Notifications, HeaderValuesFromAFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("vane-valuefrom-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto secret = dir / "token";
  std::ofstream(secret) << "  Bearer s3cret\n";
  const auto result = load_string(with_rollout("notifications:\n  - name: a\n    url: http://x/\n"
                                               "    headers: [{key: Authorization, valueFrom: {file: \"" +
                                               secret.string() + "\"}}]\n"),
                                  "vane.yaml");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].to_string());
  EXPECT_EQ(result.config->notifications.at(0).headers.at(0).value, "Bearer s3cret");

  std::ofstream(secret) << "a\nb\n";
  run({
      {"an unreadable file, both value and valueFrom, a line break inside, neither",
       with_rollout("notifications:\n  - name: a\n    url: http://x/\n    headers:\n"
                    "      - {key: A, valueFrom: {file: /nonexistent/vane-secret}}\n"
                    "      - {key: B, value: x, valueFrom: {file: /x}}\n"
                    "      - {key: C, valueFrom: {file: \"" + secret.string() + "\"}}\n"
                    "      - {key: D}\n"),
       {"vane.yaml:9:36: notifications[0].headers[0].valueFrom.file: cannot read /nonexistent/vane-secret",
        "vane.yaml:10:39: notifications[0].headers[1].valueFrom: give value or valueFrom, not both",
        "vane.yaml:11:29: notifications[0].headers[2].valueFrom: a header value cannot hold a line break",
        "vane.yaml:12:9: notifications[0].headers[3].value: is required"}},
  });
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vane::config::test
