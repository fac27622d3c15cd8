// The admin API and metrics around rollouts (SPEC §6, §7, §8): bearer-token checks, 404s, the
// STATUS shape and its measured weights, the rollout list, reloads (400 keeps the old config,
// counted), request counters that match the requests sent, and `promtool check metrics`.
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// ---- tokens ----------------------------------------------------------------------------------

/// A token file with whitespace around the token (which vane must ignore).
struct TokenFile {
  TempDir dir;
  std::filesystem::path path = dir.path() / "admin.token";
  std::string token = "s3cret-Token.42";
  TokenFile() { write_file(path, "  " + token + " \n"); }
};

class RolloutTokenTest : public ::testing::Test {
 protected:
  TokenFile token_;
  RolloutRig rig_{[this] {
    RolloutSetup s;
    s.admin_extra = ", tokenFile: \"" + token_.path.string() + "\"";
    return s;
  }()};
};

TEST_F(RolloutTokenTest, PostsNeedTheTokenGetsDoNot) {
  EXPECT_EQ(admin_call(rig_.admin(), "GET", "/api/v1/rollouts/web").status, 200);
  EXPECT_EQ(admin_call(rig_.admin(), "GET", "/api/v1/rollouts").status, 200);
  EXPECT_EQ(admin_call(rig_.admin(), "GET", "/metrics").status, 200);

  write_file(rig_.config_path(), rig_.yaml("v2"));
  for (const char* token : {"", "wrong", "s3cret-Token.4", "s3cret-Token.42x"})
    EXPECT_EQ(admin_call(rig_.admin(), "POST", "/api/v1/reload", token).status, 401) << "token " << token;
  EXPECT_EQ(str(field(rig_.status(), "phase")), "Healthy") << "a refused reload must not apply";
  const Response reload = rig_.set_desired("v2", token_.token);
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 1, 20, s)) << summary(s);

  for (const char* verb : {"promote", "promote?full=true", "abort", "retry", "pause"}) {
    for (const char* token : {"", "wrong"}) {
      const Response r = admin_call(rig_.admin(), "POST", std::string("/api/v1/rollouts/web/") + verb, token);
      EXPECT_EQ(r.status, 401) << verb << " with token \"" << token << "\": " << r.body;
    }
  }
  {  // Another scheme with the right secret is still wrong.
    RawClient client(rig_.admin());
    ASSERT_TRUE(client.send(request("POST", "/api/v1/rollouts/web/abort", "127.0.0.1",
                                    "Authorization: Basic " + token_.token +
                                        "\r\nContent-Length: 0\r\nConnection: close\r\n")));
    EXPECT_EQ(client.read_response().status, 401);
  }
  s = rig_.status();
  EXPECT_EQ(str(field(s, "phase")), "Paused") << "a refused command must not apply: " << summary(s);
  EXPECT_EQ(num(field(s, "currentStepIndex")), 1);

  const Response promote = admin_call(rig_.admin(), "POST", "/api/v1/rollouts/web/promote", token_.token);
  EXPECT_EQ(promote.status, 200) << promote.body;
  ASSERT_TRUE(wait_phase(rig_.admin(), "Healthy", 2, 0, s)) << summary(s);
}

TEST_F(RolloutTokenTest, CliReadsTheTokenFile) {
  ASSERT_EQ(rig_.set_desired("v2", token_.token).status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 1, 20, s)) << summary(s);
  const CommandResult without = vane_cli(rig_.admin(), {"abort", "web"});
  EXPECT_EQ(without.exit_code, 1) << without.out << without.err;
  EXPECT_FALSE(without.err.empty());
  EXPECT_EQ(str(field(rig_.status(), "phase")), "Paused");
  const CommandResult with = vane_cli(rig_.admin(), {"abort", "web", "--token-file", token_.path.string()});
  EXPECT_EQ(with.exit_code, 0) << with.out << with.err;
  EXPECT_EQ(str(field(rig_.status(), "phase")), "Degraded");
  const CommandResult status = vane_cli(rig_.admin(), {"status", "web", "--json"});  // a GET
  EXPECT_EQ(status.exit_code, 0) << status.err;
}

// ---- 404 and the list ------------------------------------------------------------------------

TEST(RolloutApiTest, UnknownRolloutIsNotFound) {
  RolloutRig rig;
  EXPECT_EQ(admin_call(rig.admin(), "GET", "/api/v1/rollouts/nope").status, 404);
  EXPECT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/nope/promote").status, 404);
  EXPECT_EQ(admin_call(rig.admin(), "POST", "/api/v1/rollouts/nope/abort").status, 404);
  const CommandResult r = vane_cli(rig.admin(), {"status", "nope"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_FALSE(r.err.empty());
}

TEST(RolloutApiTest, ListHoldsEveryRollout) {
  RolloutSetup setup;
  setup.routes_extra = "  - {name: api, match: {pathPrefix: /api}, rollout: api}\n";
  setup.more = R"(  - name: api
    upstream: v3
    strategy:
      canary:
        steps:
          - setWeight: 50
)";
  RolloutRig rig(setup);
  for (const std::string& body :
       {admin_call(rig.admin(), "GET", "/api/v1/rollouts").body,
        vane_cli(rig.admin(), {"status", "--json"}).out}) {
    const json::value list = field(parse_json(body), "rollouts");
    ASSERT_TRUE(list.is_array()) << body;
    std::map<std::string, std::string> stable;
    for (const auto& r : list.get_array()) stable[str(field(r, "name"))] = str(field(r, "stable"));
    EXPECT_EQ(stable, (std::map<std::string, std::string>{{"api", "v3"}, {"web", "v1"}})) << body;
  }
  const SideCounts c = send_requests(rig.port(), 20, "/api/x");
  EXPECT_EQ(c.count("v3"), 20) << c.describe();
}

// ---- STATUS ----------------------------------------------------------------------------------

constexpr std::string_view shape_steps = R"(        steps:
          - setWeight: 20
          - setHeaderRoute:
              name: beta
              match:
                - headerName: X-Beta
                  headerValue: {exact: "yes"}
          - setMirrorRoute:
              name: shadow
              percentage: 25
              match:
                - method: {exact: GET}
          - pause: {}
)";

RolloutSetup shape_setup() {
  RolloutSetup setup;
  setup.canary = std::string(shape_steps);
  return setup;
}

/// Every STATUS field of SPEC §6 with its JSON type.
void expect_status_shape(const json::value& s) {
  SCOPED_TRACE(json::serialize(s));
  ASSERT_TRUE(s.is_object());
  const auto& o = s.get_object();
  const auto has = [&](std::string_view key, auto is_type, std::string_view type) {
    const json::value* v = o.if_contains(key);
    ASSERT_TRUE(v) << "missing \"" << key << "\"";
    EXPECT_TRUE(is_type(*v)) << "\"" << key << "\" should be " << type << ": " << json::serialize(*v);
  };
  const auto is_string = [](const json::value& v) { return v.is_string(); };
  const auto is_number = [](const json::value& v) { return v.is_number(); };
  const auto is_array = [](const json::value& v) { return v.is_array(); };
  const auto is_bool = [](const json::value& v) { return v.is_bool(); };
  const auto string_or_null = [](const json::value& v) { return v.is_string() || v.is_null(); };
  const auto weights = [](const json::value& v) {
    return v.is_object() && v.get_object().size() == 2 && field(v, "stable").is_number() &&
           field(v, "canary").is_number();
  };
  has("name", is_string, "a string");
  has("strategy", [](const json::value& v) { return v == json::value("canary"); }, "\"canary\"");
  has("phase", is_string, "a string");
  has("message", is_string, "a string");
  has("stable", is_string, "a string");
  has("canary", string_or_null, "a string or null");
  has("desired", is_string, "a string");
  has("currentStepIndex", is_number, "a number");
  has("stepCount", is_number, "a number");
  has("steps", is_array, "an array");
  has("weights", weights, "{stable: number, canary: number}");
  has("headerRoutes", is_array, "an array");
  has("mirrorRoutes", is_array, "an array");
  has("measuredWeights", [&](const json::value& v) { return v.is_null() || weights(v); },
      "null or {stable, canary}");
  has("pausedSince", string_or_null, "a string or null");
  has("pauseUntil", string_or_null, "a string or null");
  has("aborted", is_bool, "a bool");
  has("abortReason", string_or_null, "a string or null");
  has("analysisRuns", is_array, "an array");
  const double stable = num(field(field(s, "weights"), "stable"));
  const double canary = num(field(field(s, "weights"), "canary"));
  EXPECT_EQ(stable + canary, 100);
}

TEST(RolloutApiTest, StatusShapeBeforeDuringAndMeasuredAfterTraffic) {
  RolloutRig rig(shape_setup());
  json::value s = rig.status();
  ASSERT_NO_FATAL_FAILURE(expect_status_shape(s));
  EXPECT_EQ(str(field(s, "name")), "web");
  EXPECT_EQ(str(field(s, "phase")), "Healthy");
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_EQ(str(field(s, "desired")), "v1");
  EXPECT_TRUE(field(s, "canary").is_null());
  EXPECT_EQ(num(field(s, "stepCount")), 4);
  EXPECT_EQ(field(s, "steps"), json::parse(R"([{"setWeight": 20},
      {"setHeaderRoute": {"name": "beta", "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}}]}},
      {"setMirrorRoute": {"name": "shadow", "percentage": 25, "match": [{"method": {"exact": "GET"}}]}},
      {"pause": {}}])")) << "each step as its config object";
  EXPECT_EQ(num(field(s, "currentStepIndex")), 4) << "stepCount whenever Healthy";
  EXPECT_EQ(num(field(field(s, "weights"), "stable")), 100);
  EXPECT_TRUE(field(s, "measuredWeights").is_null()) << "no traffic yet";
  EXPECT_TRUE(field(s, "pausedSince").is_null());
  EXPECT_EQ(field(s, "aborted"), json::value(false));

  ASSERT_EQ(rig.set_desired("v2").status, 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 20, s)) << summary(s);
  ASSERT_NO_FATAL_FAILURE(expect_status_shape(s));
  EXPECT_EQ(str(field(s, "canary")), "v2");
  EXPECT_EQ(str(field(s, "desired")), "v2");
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 20);
  EXPECT_EQ(num(field(field(s, "weights"), "stable")), 80);
  EXPECT_TRUE(parse_utc(str(field(s, "pausedSince")))) << "RFC 3339 UTC: " << field(s, "pausedSince");
  EXPECT_TRUE(field(s, "pauseUntil").is_null()) << "pause {} has no deadline";
  EXPECT_TRUE(field(s, "measuredWeights").is_null()) << "no traffic yet";
  const json::value header_routes = field(s, "headerRoutes");
  ASSERT_EQ(header_routes.get_array().size(), 1U);
  EXPECT_EQ(str(field(header_routes.get_array()[0], "name")), "beta");
  EXPECT_TRUE(field(header_routes.get_array()[0], "match").is_array());
  EXPECT_EQ(field(header_routes.get_array()[0], "suspended"), json::value(false));
  const json::value mirror_routes = field(s, "mirrorRoutes");
  ASSERT_EQ(mirror_routes.get_array().size(), 1U);
  EXPECT_EQ(str(field(mirror_routes.get_array()[0], "name")), "shadow");
  EXPECT_EQ(num(field(mirror_routes.get_array()[0], "percentage")), 25);
  EXPECT_TRUE(field(mirror_routes.get_array()[0], "match").is_array());
  EXPECT_EQ(field(mirror_routes.get_array()[0], "suspended"), json::value(false));

  // 2,000 GETs at 20%, a quarter of the stable ones mirrored: mirror copies must not count.
  constexpr int n = 2000;
  const SideCounts c = send_requests(rig.port(), n);
  ASSERT_EQ(c.count("v1") + c.count("v2"), n) << c.describe();
  const double sent_share = 100.0 * c.count("v2") / n;
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& v) { return !field(v, "measuredWeights").is_null(); },
                          s, 3s))
      << "measuredWeights still null after traffic: " << summary(s);
  ASSERT_NO_FATAL_FAILURE(expect_status_shape(s));
  const json::value measured = field(s, "measuredWeights");
  EXPECT_NEAR(num(field(measured, "canary")), sent_share, 0.5)
      << json::serialize(measured) << " vs " << c.describe();
  EXPECT_NEAR(num(field(measured, "canary")) + num(field(measured, "stable")), 100, 0.02);
}

// ---- reload ----------------------------------------------------------------------------------

TEST(RolloutApiTest, InvalidReloadIs400KeepsTheOldConfigAndIsCounted) {
  RolloutRig rig;
  const std::string good = rig.yaml("v1");
  std::string bad = good;
  bad.replace(bad.find("upstream: v1"), 12, "upstream: v9");  // an unknown upstream
  write_file(rig.config_path(), bad);

  const Response reload = admin_call(rig.admin(), "POST", "/api/v1/reload");
  EXPECT_EQ(reload.status, 400) << reload.body;
  const json::value errors = field(parse_json(reload.body), "errors");
  ASSERT_TRUE(errors.is_array() && !errors.get_array().empty()) << reload.body;
  bool names_the_field = false;
  for (const auto& e : errors.get_array())
    names_the_field = names_the_field || str(e).find("rollouts[0].upstream") != std::string::npos;
  EXPECT_TRUE(names_the_field) << "errors should name rollouts[0].upstream: " << reload.body;

  const SideCounts c = send_requests(rig.port(), 100);
  EXPECT_EQ(c.count("v1"), 100) << "the old config must keep serving: " << c.describe();
  EXPECT_EQ(str(field(rig.status(), "desired")), "v1");
  auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_config_reloads_total", {{"result", "failure"}}), 1);
  const double successes = metric_sum(samples, "vane_config_reloads_total", {{"result", "success"}});

  // SIGHUP with the bad file: rejected too, counted, nothing dropped.
  rig.vane().process().signal(SIGHUP);
  EXPECT_TRUE(wait_until(
      [&] {
        return metric_sum(parse_metrics(scrape(rig.admin())), "vane_config_reloads_total",
                          {{"result", "failure"}}) == 2;
      },
      3s))
      << "a rejected SIGHUP reload should count as a failure";
  EXPECT_EQ(send_requests(rig.port(), 50).count("v1"), 50);

  // A good file after that: applied and counted.
  const Response ok = rig.set_desired("v2");
  EXPECT_EQ(ok.status, 200) << ok.body;
  json::value s;
  EXPECT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_config_reloads_total", {{"result", "success"}}), successes + 1);
  EXPECT_EQ(metric_sum(samples, "vane_config_reloads_total", {{"result", "failure"}}), 2);
}

TEST(RolloutApiTest, SighupReloadStartsTheCanary) {
  RolloutRig rig;
  write_file(rig.config_path(), rig.yaml("v2"));
  rig.vane().process().signal(SIGHUP);
  json::value s;
  EXPECT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  EXPECT_EQ(str(field(s, "canary")), "v2");
}

// ---- metrics ---------------------------------------------------------------------------------

RolloutSetup metrics_setup() {
  RolloutSetup setup = shape_setup();
  setup.routes_extra = "  - {name: plain, match: {pathPrefix: /plain}, upstream: v3}\n";
  return setup;
}

TEST(RolloutApiTest, RequestCountersMatchTheRequestsSent) {
  RolloutRig rig(metrics_setup());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 20, s)) << summary(s);

  // POSTs are never mirrored (the mirror route matches GET), so every count below is exact.
  constexpr int ok = 600, not_found = 40, failed = 30, plain = 25;
  const auto posts = [&](std::string_view target, int n) {
    SideCounts counts;
    RawClient client(rig.port());
    for (int i = 0; i < n; ++i) {
      if (!client.send(request("POST", target, "web.test", "Content-Length: 0\r\n"))) break;
      const Response r = client.read_response();
      ++counts.by_side[r.header("X-Upstream").value_or("?") + " " + std::to_string(r.status)];
      ++counts.total;
    }
    return counts;
  };
  const SideCounts c2 = posts("/m", ok);
  const SideCounts c4 = posts("/m?status=404", not_found);
  const SideCounts c5 = posts("/m?status=503", failed);
  const SideCounts cp = posts("/plain/x", plain);
  EXPECT_EQ(c2.count("v1 200") + c2.count("v2 200"), ok) << c2.describe();
  EXPECT_EQ(c4.count("v1 404") + c4.count("v2 404"), not_found) << c4.describe();
  EXPECT_EQ(c5.count("v1 503") + c5.count("v2 503"), failed) << c5.describe();
  EXPECT_EQ(cp.count("v3 200"), plain) << cp.describe();

  constexpr int total = ok + not_found + failed;
  std::vector<Sample> samples;
  const std::map<std::string, std::string> web{{"route", "web"}};
  EXPECT_TRUE(wait_until(
      [&] {
        samples = parse_metrics(scrape(rig.admin()));
        return metric_sum(samples, "vane_requests_total", web) == total &&
               metric_sum(samples, "vane_requests_total", {{"route", "plain"}}) == plain;
      },
      3s));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", web), total);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"rollout", "web"}}), total);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"target", "stable"}}),
            c2.count("v1 200") + c4.count("v1 404") + c5.count("v1 503"));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"target", "canary"}}),
            c2.count("v2 200") + c4.count("v2 404") + c5.count("v2 503"));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"target", "mirror"}}), 0);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"code_class", "2xx"}}), ok);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"code_class", "4xx"}}), not_found);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"code_class", "5xx"}}), failed);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total",
                       {{"route", "plain"}, {"rollout", ""}, {"target", "stable"}, {"code_class", "2xx"}}),
            plain);
  EXPECT_EQ(metric_sum(samples, "vane_request_duration_seconds_count", web), total);
  EXPECT_EQ(metric_sum(samples, "vane_request_duration_seconds_count", {{"route", "plain"}}), plain);

  const std::map<std::string, std::string> rollout{{"rollout", "web"}};
  EXPECT_EQ(metric_sum(samples, "vane_rollout_canary_weight", rollout), 20);
  EXPECT_EQ(metric_sum(samples, "vane_rollout_step_index", rollout), 3);
  EXPECT_EQ(metric_sum(samples, "vane_rollout_phase", {{"rollout", "web"}, {"phase", "Paused"}}), 1);
  EXPECT_EQ(metric_sum(samples, "vane_rollout_phase", rollout), 1) << "one phase at a time";
  bool has_connections = false;
  for (const auto& sample : samples)
    has_connections = has_connections || (sample.name == "vane_connections_active" &&
                                          sample.labels.count("listener") && sample.labels.at("listener") == "public");
  EXPECT_TRUE(has_connections) << "vane_connections_active{listener=\"public\"}";
}

TEST(RolloutApiTest, PromtoolAcceptsTheExposition) {
  const std::string promtool = run_command({"sh", "-c", "command -v promtool"}, 5s).out;
  if (promtool.empty()) GTEST_SKIP() << "promtool is not installed";
  RolloutRig rig(metrics_setup());
  TempDir dir;
  const auto check = [&](const std::string& when) {
    const std::string text = scrape(rig.admin());
    ASSERT_FALSE(text.empty()) << when;
    write_file(dir.path() / "metrics.txt", text);
    const CommandResult r =
        run_command({"sh", "-c", "promtool check metrics < metrics.txt"}, 10s, dir.path());
    EXPECT_EQ(r.exit_code, 0) << when << ":\n" << r.out << r.err << "\n---- scraped:\n" << text;
  };
  check("at start");
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 20, s)) << summary(s);
  send_requests(rig.port(), 300);                  // stable, canary and mirror samples
  send_requests(rig.port(), 20, "/x?status=503");  // 5xx
  send_requests(rig.port(), 5, "/x?reset=1");      // upstream failures (reset -> 502)
  send_requests(rig.port(), 10, "/plain/x");       // a route without rollout
  write_file(rig.config_path(), "not: [valid");
  EXPECT_EQ(admin_call(rig.admin(), "POST", "/api/v1/reload").status, 400);
  check("after traffic");
}

}  // namespace
}  // namespace vane::it
