// Canary shielding (SPEC §3, `canary.shield`): an idempotent request failing on the canary is
// sent once more to stable, the client gets stable's answer, and the failure still counts against
// the canary; never for other methods; a hanging canary costs at most shield.timeout.
#include <gtest/gtest.h>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

RolloutSetup shield_setup(std::string_view shield, std::string_view steps = R"(        steps:
          - setWeight: 20
          - pause: {}
)") {
  RolloutSetup setup;
  setup.canary = "        shield: " + std::string(shield) + "\n" + std::string(steps);
  return setup;
}

TEST(RolloutShieldTest, FailedCanaryGetsAreAnsweredByStableAndCountAgainstTheCanary) {
  RolloutRig rig(shield_setup("{on: [5xx]}"));
  behave(rig.v2(), 100);
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  const SideCounts c = send_requests(rig.port(), 400);
  EXPECT_EQ(c.count("v1"), 400) << c.describe();

  // A request is recorded just after its last byte went out: await the last ones.
  double canary_5xx = 0;
  double stable_2xx = 0;
  wait_until([&] {
    const auto samples = parse_metrics(scrape(rig.admin()));
    canary_5xx = metric_sum(samples, "vane_requests_total",
                            {{"rollout", "web"}, {"target", "canary"}, {"code_class", "5xx"}});
    stable_2xx = metric_sum(samples, "vane_requests_total",
                            {{"rollout", "web"}, {"target", "stable"}, {"code_class", "2xx"}});
    return stable_2xx >= 400;
  }, 5s);
  // A fifth went to the canary first (weight 20): each failed there and was answered by stable.
  EXPECT_NEAR(canary_5xx, 80, binomial_band(0.2, 400)) << "canary failures are measured";
  EXPECT_EQ(stable_2xx, 400);
  EXPECT_EQ(rig.v2().stats().requests, static_cast<uint64_t>(canary_5xx));
}

TEST(RolloutShieldTest, AHangingCanaryCostsAtMostTheShieldTimeoutAndCountsAsATimeout) {
  RolloutRig rig(shield_setup("{on: [timeout], timeout: 200ms}"));
  behave(rig.v2(), 0, 10000);
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  // Pipelined in small batches: a hung canary would hold a batch for the upstream timeout (30 s).
  const SideCounts c = send_requests(rig.port(), 40, "/split", "", 4, 60s);
  EXPECT_EQ(c.count("v1"), 40) << c.describe();
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_GE(metric_sum(samples, "vane_upstream_failures_total", {{"upstream", "v2"}, {"kind", "timeout"}}), 1);
  EXPECT_EQ(metric_sum(samples, "vane_upstream_failures_total", {{"upstream", "v2"}, {"kind", "timeout"}}),
            metric_sum(samples, "vane_requests_total", {{"rollout", "web"}, {"target", "canary"}}));
}

TEST(RolloutShieldTest, AShieldedTryFreesItsCanarySlotForTheNextRequest) {
  // One connection per canary endpoint: the second request waits for the first one's slot. The
  // first try times out on the hanging canary and is shielded to stable; closing its canary
  // connection must wake the request waiting for the canary (it once woke stable's waiters, and
  // the second request then waited out connectTimeout without reaching the canary).
  RolloutSetup setup = shield_setup("{on: [timeout], timeout: 300ms}", R"(        steps:
          - setWeight: 100
          - pause: {}
)");
  setup.upstream_options["v2"] = "maxConnectionsPerEndpoint: 1, connectTimeout: 10s";
  RolloutRig rig(setup);
  behave(rig.v2(), 0, 10000);
  const Response reload = rig.set_desired("v2");
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 100, s)) << summary(s);

  RawClient first(rig.port());
  RawClient second(rig.port());
  ASSERT_TRUE(first.send(request("GET", "/split", "web.test")));
  ASSERT_TRUE(wait_until([&] { return rig.v2().stats().active == 1; }, 5s)) << "the first request holds the canary slot";
  ASSERT_TRUE(second.send(request("GET", "/split", "web.test")));
  const Response a = first.read_response();
  const Response b = second.read_response();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200);
  EXPECT_NE(a.body.find("v1"), std::string::npos) << a.body;
  EXPECT_NE(b.body.find("v1"), std::string::npos) << b.body;
  EXPECT_EQ(rig.v2().stats().requests, 2u) << "each request tried the canary before stable";
}

TEST(RolloutShieldTest, PostsAndFailuresNotListedAreNeverShielded) {
  RolloutRig rig(shield_setup("{on: [connect-failure]}"));
  behave(rig.v2(), 100);
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  // 5xx is not in shield.on: GETs that reach the canary get its 500.
  const SideCounts gets = send_requests(rig.port(), 200);
  EXPECT_GT(gets.count("status 500"), 0) << gets.describe();
  EXPECT_EQ(gets.count("v1") + gets.count("status 500"), 200) << gets.describe();
}

TEST(RolloutShieldTest, PostIsNotShielded) {
  RolloutRig rig(shield_setup("{on: [5xx]}"));
  behave(rig.v2(), 100);
  ASSERT_NO_FATAL_FAILURE(start_first_pause(rig));
  int failed = 0;
  for (int i = 0; i < 60; ++i) {
    RawClient client(rig.port());
    ASSERT_TRUE(client.send(request("POST", "/split", "web.test", "Content-Length: 0\r\nConnection: close\r\n")));
    const Response r = client.read_response();
    if (r.status == 500) ++failed;
  }
  EXPECT_GT(failed, 0) << "a POST that reached the failing canary gets its answer";
}

TEST(RolloutShieldTest, ABadCanaryIsAbortedByAnalysisWithZeroFailedGetsAtTheClient) {
  RolloutSetup setup = shield_setup("{on: [5xx, connect-failure, reset, timeout]}", R"(        steps:
          - setWeight: 10
          - analysis:
              templates: [{templateName: success-rate}]
          - setWeight: 80
)");
  setup.top_extra = std::string(kSuccessRateTemplate);
  RolloutRig rig(setup);
  behave(rig.v2(), 100);
  LoadLoop::Options options;
  options.connections = 3;
  LoadLoop load(rig.port(), options);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  load.stop();
  const SideCounts c = load.counts();
  EXPECT_EQ(c.count("v1"), c.total) << c.describe();
  EXPECT_GT(rig.v2().stats().requests, 0u) << "the canary was tried";
}

}  // namespace
}  // namespace vane::it
