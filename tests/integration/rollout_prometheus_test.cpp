// The prometheus provider against a real Prometheus (Debian's `prometheus`, started here on
// loopback, scraping vane's /metrics every second): a success-rate query over vane's own
// vane_requests_total passes for a good canary and fails for one answering half its requests 500.
#include <gtest/gtest.h>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/prometheus_server.hpp"

namespace vane::it {
namespace {

RolloutSetup prometheus_setup(uint16_t prometheus_port) {
  RolloutSetup setup;
  // The canary's share of non-5xx answers over the last 5 s, as Argo users write it.
  setup.top_extra = render(R"(analysisTemplates:
  - name: prom-success
    metrics:
      - name: success-rate
        initialDelay: 4s
        interval: 2s
        count: 2
        successCondition: len(result) > 0 && result[0] >= 0.95
        failureLimit: 0
        provider:
          prometheus:
            address: http://127.0.0.1:{{port}}
            query: sum(rate(vane_requests_total{rollout="web",target="canary",code_class!="5xx"}[5s])) / sum(rate(vane_requests_total{rollout="web",target="canary"}[5s]))
            timeout: 5
)", {{"port", std::to_string(prometheus_port)}});
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: prom-success}]
)";
  return setup;
}

TEST(RolloutPrometheusTest, ASuccessRateQueryPassesAGoodCanaryAndFailsABadOne) {
  const uint16_t prometheus_port = free_port();
  RolloutRig rig(prometheus_setup(prometheus_port));
  Prometheus prometheus(prometheus_port, rig.admin());
  ASSERT_TRUE(prometheus.wait_scraping(30s)) << prometheus.log();
  LoadLoop load(rig.port());

  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 40s)) << summary(s) << "\n" << json::serialize(field(s, "analysisRuns"));

  behave(rig.v3(), 50);
  ASSERT_EQ(rig.set_desired("v3").status, 200);
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 40s)) << summary(s) << "\n" << json::serialize(field(s, "analysisRuns"));
  EXPECT_EQ(str(field(s, "stable")), "v2");
  const json::value runs = field(s, "analysisRuns");
  ASSERT_TRUE(runs.is_array() && !runs.get_array().empty()) << summary(s);
  const json::value& run = runs.get_array()[0];
  EXPECT_EQ(str(field(run, "phase")), "Failed") << json::serialize(run);
  // The measured value is Prometheus' vector, shown as a list: about half succeed.
  const std::string text = json::serialize(run);
  EXPECT_NE(text.find(R"("value":"[0.)"), std::string::npos) << text;
}

}  // namespace
}  // namespace vane::it
