// Cut responses and client stalls in a rollout's measurements (SPEC §3, §5): a canary whose
// responses are cut short fails the builtin success rate (and is aborted) although every head it
// sends says 200; a cut before any byte reached the client is shielded to stable; clients that
// stall sending their bodies are their own fault and never fail a healthy canary.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// Every later answer of `upstream` without a status of its own ends as `query` says.
void cut_answers(const TestUpstream& upstream, std::string_view query) {
  RawClient client(upstream.port());
  ASSERT_TRUE(client.send(request("GET", "/__behave?" + std::string(query), "upstream",
                                  "Connection: close\r\n")));
  ASSERT_EQ(client.read_response().status, 200);
}

TEST(RolloutHardeningTest, ACanaryWhoseResponsesAreCutIsAbortedByBuiltinSuccessRate) {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = std::string(kAnalysisSteps);
  RolloutRig rig(setup);
  cut_answers(rig.v2(), "reset_mid=1");  // the head (200) and half the body, then a reset
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true)) << summary(s);
  EXPECT_NE(str(field(s, "abortReason")).find("success-rate"), std::string::npos) << summary(s);
  load.stop();

  const SideCounts c = load.counts();
  EXPECT_GT(c.count("v1"), 0) << c.describe();
  EXPECT_EQ(c.count("v2"), 0) << "no cut response may reach a client complete: " << c.describe();
  EXPECT_GT(c.count("status 200"), 0) << "the canary's cut answers: " << c.describe();
  const auto samples = parse_metrics(scrape(rig.admin()));
  const std::map<std::string, std::string> canary{{"rollout", "web"}, {"target", "canary"}};
  auto with = [](std::map<std::string, std::string> labels, std::string code_class) {
    labels["code_class"] = std::move(code_class);
    return labels;
  };
  EXPECT_GT(metric_sum(samples, "vane_requests_total", with(canary, "5xx")), 0);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", with(canary, "2xx")), 0)
      << "a cut 200 is measured as a 5xx";
  EXPECT_GT(metric_sum(samples, "vane_upstream_failures_total", {{"upstream", "v2"}, {"kind", "reset"}}), 0);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total",
                       {{"rollout", "web"}, {"target", "stable"}, {"code_class", "5xx"}}), 0);
}

TEST(RolloutHardeningTest, ACanaryCutBeforeAnyByteIsShieldedToStable) {
  RolloutSetup setup;
  setup.canary = R"(        shield: {on: [5xx]}
        steps:
          - setWeight: 50
          - pause: {}
)";
  RolloutRig rig(setup);
  cut_answers(rig.v2(), "close_mid=1&cut_bytes=0");  // the head, then a close
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s)) << summary(s);
  const SideCounts c = send_requests(rig.port(), 100);
  EXPECT_EQ(c.count("v1"), 100) << "every canary try is replayed on stable: " << c.describe();
  double canary_5xx = 0;
  EXPECT_TRUE(wait_until([&] {
    canary_5xx = metric_sum(parse_metrics(scrape(rig.admin())), "vane_requests_total",
                            {{"rollout", "web"}, {"target", "canary"}, {"code_class", "5xx"}});
    return canary_5xx == static_cast<double>(rig.v2().stats().requests);
  }, 5s)) << canary_5xx << " canary 5xx for " << rig.v2().stats().requests << " canary tries";
  EXPECT_GT(canary_5xx, 0) << "about half the requests tried the canary first";
}

/// Clients that send a head declaring 10 body bytes and 8 of them, then stall, `parallel` at a
/// time, until stopped.
class Stallers {
 public:
  Stallers(uint16_t port, int parallel) {
    for (int i = 0; i < parallel; ++i) {
      threads_.emplace_back([this, port] {
        while (!stop_) {
          try {
            RawClient client(port);
            const std::string head = request("POST", "/split", "web.test", "Content-Length: 10\r\n");
            if (client.send(head + "12345678") && client.read_response(5s).status == 408) ++answered_;
          } catch (const std::exception&) {
            // refused: try again
          }
        }
      });
    }
  }
  ~Stallers() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int answered() const { return answered_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> answered_{0};
  std::vector<std::thread> threads_;
};

TEST(RolloutHardeningTest, ClientStallsDoNotFailAHealthyCanary) {
  // Upstream timeouts shorter than the body timeout: a stall charged to the upstream would be
  // a 504 of the side it went to. About a sixth of the canary's requests stall.
  RolloutSetup setup;
  setup.top_extra = "limits: {requestBodyTimeout: 600ms}\n" + std::string(kSuccessRateTemplate);
  setup.canary = std::string(kAnalysisSteps);
  setup.upstream_options["v1"] = "timeout: 300ms";
  setup.upstream_options["v2"] = "timeout: 300ms";
  RolloutRig rig(setup);
  LoadLoop::Options options;
  options.connections = 1;
  options.pace = 20ms;
  LoadLoop load(rig.port(), options);
  Stallers stallers(rig.port(), 6);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 30s)) << summary(s);
  stallers.stop();
  load.stop();
  EXPECT_GT(stallers.answered(), 10) << "the stalls must have happened during the analysis";
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_GT(metric_sum(samples, "vane_requests_total",
                       {{"rollout", "web"}, {"target", "canary"}, {"code_class", "4xx"}}), 0)
      << "the canary's stalled requests are measured as the client's 408";
  EXPECT_EQ(metric_sum(samples, "vane_upstream_failures_total", {{"upstream", "v2"}}), 0);
}

}  // namespace
}  // namespace vane::it
