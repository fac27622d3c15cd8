// The dashboard (SPEC §12) in a real browser (headless Chromium) against the real vane running a
// canary over real upstreams: it loads clean and stays on the admin origin, follows API changes
// within 1 s without a reload, its buttons act (abort after a confirmation), the token flow, the
// charts after traffic. Screenshots go to the build dir's test-artifacts/.
#include <gtest/gtest.h>

#include "tests/integration/browser.hpp"

namespace vane::it {
namespace {

/// Two pauses, so a promote leaves the rollout in progress at a step of its own.
RolloutSetup two_pauses() {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setWeight: 20
          - pause: {}
          - setWeight: 50
          - pause: {duration: 1h}
)";
  return setup;
}

/// A JavaScript expression: the text of the first element matching `selector` in rollout web.
std::string text_of(const std::string& selector) {
  return "(document.querySelector('#rollout-web " + selector + "')?.textContent ?? '')";
}

std::string has_text(const std::string& selector, const std::string& text) {
  return text_of(selector) + ".includes(" + json::serialize(json::value(text)) + ")";
}

/// The page asked for nothing off the admin origin and logged no error (failed loads apart
/// when `expect_refusals`: an action answered 401 is one).
void expect_clean(Browser& browser, uint16_t admin, bool expect_refusals = false) {
  EXPECT_TRUE(browser.console().empty()) << json::serialize(browser.console());
  if (!expect_refusals) {
    EXPECT_TRUE(browser.network_errors().empty()) << json::serialize(browser.network_errors());
  }
  const std::string origin = admin_url(admin) + "/";
  const json::array requests = browser.requests();
  EXPECT_GT(requests.size(), 3u);
  for (const auto& url : requests) EXPECT_TRUE(str(url).starts_with(origin)) << str(url) << " is off " << origin;
}

/// Starts the canary v2 (Paused at its first pause) and opens the page on it.
void open_paused(RolloutRig& rig, Browser& browser, std::string_view token = "") {
  ASSERT_EQ(rig.set_desired("v2", token).status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  ASSERT_TRUE(browser.open(admin_url(rig.admin()) + "/"));
  ASSERT_TRUE(browser.wait_for(has_text(".phase", "Paused")));
}

bool dialog_open(Browser& browser, std::string_view id) {
  return browser.wait_for("document.querySelector('#" + std::string(id) + "').open");
}

/// Clicks `button`, then the confirmation's "Yes".
void click_confirmed(Browser& browser, const std::string& button) {
  browser.click(button);
  ASSERT_TRUE(dialog_open(browser, "confirm-dialog"));
  browser.click("#confirm-ok");
}

TEST(DashboardTest, ThePageIsServedWithAStrictPolicyAndNoGetActs) {
  RolloutRig rig(two_pauses());
  const Response page = admin_call(rig.admin(), "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  const std::string policy = page.header("Content-Security-Policy").value_or("");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
  EXPECT_EQ(page.header("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(admin_call(rig.admin(), "GET", "/api/v1/rollouts/web").header("X-Content-Type-Options").value_or(""),
            "nosniff");
  // HEAD: GET's length and no body, so the next answer on the connection reads right.
  RawClient client(rig.admin());
  ASSERT_TRUE(client.send("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n"
                          "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  const Response head = client.read_response(5s, true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length").value_or(""), std::to_string(page.body.size()));
  const Response next = client.read_response();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "ok\n");
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  for (const char* verb : {"promote", "promote?full=true", "abort", "pause"}) {
    EXPECT_EQ(admin_call(rig.admin(), "GET", std::string("/api/v1/rollouts/web/") + verb).status, 404) << verb;
  }
  EXPECT_EQ(num(field(rig.status(), "currentStepIndex")), 1) << "no action by GET";
  EXPECT_EQ(str(field(rig.status(), "phase")), "Paused");
}

TEST(DashboardTest, FollowsTheRolloutLiveAndItsButtonsAct) {
  RolloutRig rig(two_pauses());
  Browser browser;
  ASSERT_TRUE(browser.open(admin_url(rig.admin()) + "/"));
  EXPECT_TRUE(browser.wait_for(has_text(".phase", "Healthy"))) << browser.eval(text_of(""));
  EXPECT_EQ(browser.eval("document.querySelectorAll('#rollout-web .step').length"), json::value(4));

  // A new desired version, through the API: the page follows without a reload.
  browser.eval("window.sameDocument = true");
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  EXPECT_TRUE(browser.wait_for(has_text(".phase", "Paused") + " && " +
                               has_text("[aria-current=step]", "pause (until promoted)"), 1500ms))
      << browser.eval(text_of(""));
  EXPECT_TRUE(browser.wait_for(has_text(".weights", "20 %") + " && " + has_text(".weights", "80 %")))
      << browser.eval(text_of(".weights"));
  EXPECT_EQ(browser.eval(text_of(".step.done")), json::value("done setWeight 20"));

  // Traffic: the weights are measured and the charts draw both sides.
  const SideCounts sent = send_requests(rig.port(), 400);
  ASSERT_EQ(sent.count("v1") + sent.count("v2"), 400) << sent.describe();
  EXPECT_TRUE(browser.wait_for("document.querySelectorAll('#rollout-web .chart path.line.canary').length === 4 && "
                               "document.querySelectorAll('#rollout-web .chart path.line.stable').length === 4",
                               5s))
      << browser.eval(text_of(".charts"));
  EXPECT_TRUE(browser.wait_for("!" + has_text(".weights", "no traffic"), 3s)) << browser.eval(text_of(".weights"));
  // Every request counted once, in its second (the last ones within 2 s).
  double canary_requests = 0, stable_requests = 0;
  EXPECT_TRUE(wait_until([&] {
    const json::value series = parse_json(admin_call(rig.admin(), "GET", "/api/v1/rollouts/web/series").body);
    const json::value points = field(series, "points");
    canary_requests = stable_requests = 0;
    for (const auto& point : points.as_array()) {
      canary_requests += series_requests(point, "canary");
      stable_requests += series_requests(point, "stable");
    }
    return canary_requests == sent.count("v2") && stable_requests == sent.count("v1");
  }, 4s)) << canary_requests << " canary, " << stable_requests << " stable of " << sent.describe();
  browser.screenshot("dashboard-paused");

  // An API change shows within 1 s.
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  const auto promoted = Clock::now();
  EXPECT_TRUE(browser.wait_for(has_text("[aria-current=step]", "pause 1h") + " && " +
                               has_text(".weights", "50 %"), 1000ms))
      << browser.eval(text_of(""));
  EXPECT_LT(Clock::now() - promoted, 1000ms);

  // The page's own buttons: promote advances (the last step: v2 becomes stable).
  browser.click("#rollout-web .action-promote");
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s)) << summary(s);
  EXPECT_TRUE(browser.wait_for(has_text(".phase", "Healthy") + " && " + has_text(".facts", "stable v2"), 1500ms))
      << browser.eval(text_of(""));
  EXPECT_TRUE(browser.wait_for("document.querySelector('#events').textContent.includes('on-rollout-completed')"))
      << browser.eval("document.querySelector('#events').textContent");
  EXPECT_EQ(browser.eval("window.sameDocument"), json::value(true)) << "the page was reloaded";
  browser.screenshot("dashboard-completed");

  // Dark, and on a phone.
  browser.emulate({{"features", json::array{json::object{{"name", "prefers-color-scheme"}, {"value", "dark"}}}}});
  browser.emulate({{"width", 390}, {"height", 844}, {"deviceScaleFactor", 1}, {"mobile", true}},
                  "Emulation.setDeviceMetricsOverride");
  EXPECT_TRUE(browser.wait_for("document.documentElement.scrollWidth <= 390"))
      << "no sideways scrolling on a phone: " << browser.eval("document.documentElement.scrollWidth");
  browser.screenshot("dashboard-phone-dark");
  expect_clean(browser, rig.admin());
}

TEST(DashboardTest, AbortAsksForConfirmationThenShowsDegraded) {
  RolloutRig rig(two_pauses());
  Browser browser;
  ASSERT_NO_FATAL_FAILURE(open_paused(rig, browser));

  browser.click("#rollout-web .action-abort");
  ASSERT_TRUE(dialog_open(browser, "confirm-dialog"));
  EXPECT_TRUE(browser.wait_for("document.querySelector('#confirm-text').textContent.includes('Abort rollout web')"));
  browser.screenshot("dashboard-confirm-abort");
  EXPECT_EQ(browser.eval("document.activeElement.id"), json::value("confirm-cancel")) << "the safe choice first";
  browser.press("Escape");  // the keyboard's way out of a dialog
  EXPECT_TRUE(browser.wait_for("!document.querySelector('#confirm-dialog').open"));
  EXPECT_TRUE(browser.wait_for(has_text(".action-result", "cancelled")));
  EXPECT_EQ(str(field(rig.status(), "phase")), "Paused") << "cancelled: nothing sent";

  ASSERT_NO_FATAL_FAILURE(click_confirmed(browser, "#rollout-web .action-abort"));
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s)) << summary(s);
  EXPECT_TRUE(browser.wait_for(has_text(".phase", "Degraded") + " && " + has_text(".message", "Aborted"), 1500ms))
      << browser.eval(text_of(""));
  EXPECT_TRUE(browser.wait_for("!document.querySelector('#rollout-web .action-retry').disabled && "
                               "document.querySelector('#rollout-web .action-promote').disabled"));
  browser.screenshot("dashboard-degraded");

  // Promote full asks too.
  browser.click("#rollout-web .action-retry");
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  ASSERT_TRUE(browser.wait_for("!document.querySelector('#rollout-web .action-promote-full').disabled"));
  ASSERT_NO_FATAL_FAILURE(click_confirmed(browser, "#rollout-web .action-promote-full"));
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s)) << summary(s);
  expect_clean(browser, rig.admin());
}

TEST(DashboardTest, AsksForTheTokenAndAgainAfterAWrongOne) {
  TempDir secrets;
  write_file(secrets.path() / "token", "right-t0ken\n");
  RolloutSetup setup = two_pauses();
  setup.admin_extra = ", tokenFile: \"" + (secrets.path() / "token").string() + "\"";
  RolloutRig rig(setup);
  Browser browser;
  ASSERT_NO_FATAL_FAILURE(open_paused(rig, browser, "right-t0ken"));

  browser.click("#rollout-web .action-promote");
  ASSERT_TRUE(dialog_open(browser, "token-dialog"));
  EXPECT_EQ(browser.eval("document.querySelector('#token-error').textContent"), json::value(""));
  EXPECT_EQ(browser.eval("document.activeElement.id"), json::value("token-input"));
  browser.type("wrong-token");
  browser.click("#token-ok");
  EXPECT_TRUE(browser.wait_for("document.querySelector('#token-dialog').open && "
                               "document.querySelector('#token-error').textContent.includes('refused')"))
      << browser.eval("document.querySelector('#token-error').textContent");
  browser.screenshot("dashboard-token-refused");
  EXPECT_EQ(num(field(rig.status(), "currentStepIndex")), 1) << "a wrong token acts on nothing";

  browser.type("right-t0ken");
  browser.press("Enter");
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
  EXPECT_TRUE(browser.wait_for(has_text("[aria-current=step]", "pause 1h"), 1500ms));
  EXPECT_EQ(browser.eval("sessionStorage.getItem('vane.token')"), json::value("right-t0ken"));
  EXPECT_EQ(browser.eval("document.cookie"), json::value(""));
  EXPECT_EQ(browser.eval("location.href"), json::value(admin_url(rig.admin()) + "/"));

  // Kept for the session: the next action does not ask.
  ASSERT_NO_FATAL_FAILURE(click_confirmed(browser, "#rollout-web .action-abort"));
  EXPECT_TRUE(browser.wait_for(has_text(".action-result", "abort: done")))
      << browser.eval(text_of(".action-result"));
  EXPECT_FALSE(browser.eval("document.querySelector('#token-dialog').open").as_bool());
  expect_clean(browser, rig.admin(), true);
}

TEST(DashboardTest, ShowsEachAnalysisRunWithEveryMeasurement) {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis: {templates: [{templateName: success-rate}]}
          - pause: {}
)";
  RolloutRig rig(setup);
  Browser browser;
  ASSERT_TRUE(browser.open(admin_url(rig.admin()) + "/"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_until([&] {
    send_requests(rig.port(), 100);
    s = rig.status();
    return str(field(s, "phase")) == "Paused" && num(field(s, "currentStepIndex")) == 2;
  }, 20s)) << summary(s);

  const json::value runs = field(s, "analysisRuns");
  ASSERT_EQ(runs.as_array().size(), 1u) << json::serialize(runs);
  const json::value run = runs.as_array().front();
  EXPECT_TRUE(browser.wait_for(has_text(".run-name", str(field(run, "name"))) + " && " +
                               has_text(".run .phase", "Successful") + " && " +
                               has_text(".metric-name", "success-rate"), 1500ms))
      << browser.eval(text_of(".runs"));
  const json::value metric = field(run, "metrics").as_array().front();
  const json::value measurements = field(metric, "measurements");
  EXPECT_EQ(measurements.as_array().size(), 3u);
  EXPECT_EQ(browser.eval("[...document.querySelectorAll('#rollout-web .measurements td.value')]"
                         ".map((td) => td.textContent)"),
            [&] {
              json::array values;
              for (const auto& m : measurements.as_array()) values.push_back(field(m, "value"));
              return json::value(values);
            }())
      << "every measurement, its value as RUN shows it";
  EXPECT_TRUE(browser.wait_for(has_text("[aria-current=step]", "pause (until promoted)") + " && " +
                               has_text(".step:nth-child(2).done", "analysis success-rate")));
  browser.screenshot("dashboard-analysis");
  expect_clean(browser, rig.admin());
}

}  // namespace
}  // namespace vane::it
