// Analysis driving rollouts from outside (SPEC §4, §5, §6): builtin success-rate and latency
// templates judging real traffic through the real binary, the Inconclusive hold, dry-run metrics,
// the web provider, background analysis, and how runs show in the API, metrics and `vane status`.
// The canary misbehaves through vane-test-upstream's /__behave (a share of 500s, a delay).
#include <gtest/gtest.h>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

RolloutSetup success_rate_setup() {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = std::string(kAnalysisSteps);
  return setup;
}

/// The first (newest) run's metric named `name`; null when absent.
json::value metric_of(const json::value& run, std::string_view name) {
  const json::value metrics = field(run, "metrics");
  if (!metrics.is_array()) return nullptr;
  for (const auto& m : metrics.get_array()) {
    if (str(field(m, "name")) == name) return m;
  }
  return nullptr;
}

TEST(RolloutAnalysisTest, AHealthyCanaryIsPromotedByBuiltinSuccessRate) {
  RolloutRig rig(success_rate_setup());
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 30s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(false)) << summary(s);

  const json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u) << json::serialize(runs);
  EXPECT_EQ(str(field(runs[0], "phase")), "Successful") << json::serialize(runs[0]);
  EXPECT_EQ(field(runs[0], "terminated"), json::value(false));
  const json::value metric = metric_of(runs[0], "success-rate");
  EXPECT_EQ(num(field(metric, "successful")), 3) << json::serialize(metric);
  EXPECT_EQ(num(field(metric, "failed")), 0) << json::serialize(metric);
  const json::value measurements = field(metric, "measurements");
  ASSERT_TRUE(measurements.is_array());
  for (const auto& m : measurements.get_array()) {
    EXPECT_EQ(str(field(m, "phase")), "Successful") << json::serialize(m);
    EXPECT_GE(std::stod(str(field(m, "value"))), 0.95) << json::serialize(m);
    EXPECT_TRUE(parse_utc(str(field(m, "startedAt")))) << json::serialize(m);
    EXPECT_TRUE(parse_utc(str(field(m, "finishedAt")))) << json::serialize(m);
  }
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_analysis_runs_total", {{"rollout", "web"}, {"phase", "Successful"}}), 1);
  EXPECT_GE(metric_sum(samples, "vane_analysis_measurement_value", {{"rollout", "web"}, {"metric", "success-rate"}}),
            0.95);
  load.stop();
  EXPECT_EQ(load.counts().count("status 500"), 0) << load.counts().describe();
}

TEST(RolloutAnalysisTest, ACanaryFailingThirtyPercentIsAbortedAndAllTrafficReturnsToStable) {
  RolloutRig rig(success_rate_setup());
  behave(rig.v2(), 30);
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0) << summary(s);
  EXPECT_NE(str(field(s, "abortReason")).find("success-rate"), std::string::npos) << summary(s);
  load.stop();
  expect_all_on(rig, "v1");

  const json::array runs = runs_of(rig);
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(str(field(runs[0], "phase")), "Failed") << json::serialize(runs[0]);
  const json::value metric = metric_of(runs[0], "success-rate");
  EXPECT_EQ(num(field(metric, "failed")), 1) << json::serialize(metric);
  const auto measurements = field(metric, "measurements");
  ASSERT_TRUE(measurements.is_array() && !measurements.get_array().empty());
  const double value = std::stod(str(field(measurements.get_array().back(), "value")));
  EXPECT_LT(value, 0.95);
  EXPECT_GT(value, 0.4) << "about 70% of the canary's answers succeed";
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_analysis_runs_total", {{"rollout", "web"}, {"phase", "Failed"}}), 1);
}

TEST(RolloutAnalysisTest, ACanaryTwoHundredMillisecondsSlowerIsAbortedOnLatencyAgainstBaseline) {
  RolloutSetup setup;
  setup.top_extra = R"(analysisTemplates:
  - name: latency
    metrics:
      - name: p95
        initialDelay: 2s
        interval: 1s
        count: 3
        successCondition: result <= baseline * 1.5
        provider:
          builtin: {metric: latency-p95, window: 3s, minRequests: 5}
)";
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: latency}]
          - setWeight: 80
)";
  RolloutRig rig(setup);
  behave(rig.v2(), 0, 200);
  LoadLoop::Options options;
  options.connections = 4;
  LoadLoop load(rig.port(), options);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  EXPECT_NE(str(field(s, "abortReason")).find("p95"), std::string::npos) << summary(s);
  load.stop();
  const json::array runs = runs_of(rig);
  ASSERT_FALSE(runs.empty());
  const json::value metric = metric_of(runs[0], "p95");
  const auto measurements = field(metric, "measurements");
  ASSERT_TRUE(measurements.is_array() && !measurements.get_array().empty()) << json::serialize(metric);
  // The histogram reports a bucket's middle (analysis/latency_histogram.hpp): at 200 ms a bucket
  // is 2 ms wide, so 200.0–200.7 ms reads 199.7 ms. Its stated precision is 1/128.
  EXPECT_GE(std::stod(str(field(measurements.get_array().back(), "value"))), 0.2 * (1 - 1.0 / 128))
      << json::serialize(metric);
  EXPECT_NE(str(field(runs[0], "message")).find("baseline"), std::string::npos) << json::serialize(runs[0]);
}

TEST(RolloutAnalysisTest, TooLittleTrafficIsInconclusiveThenPromoteContinues) {
  RolloutSetup setup = success_rate_setup();
  setup.top_extra = R"(analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        successCondition: result >= 0.95
        provider:
          builtin: {metric: success-rate, window: 10s, minRequests: 1000}
)";
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s, 15s)) << summary(s);
  const json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Inconclusive") << json::serialize(runs[0]);

  expect_post(rig, "web/promote", 200);
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 10s)) << summary(s);
}

TEST(RolloutAnalysisTest, AFailingDryRunMetricIsReportedButDoesNotAbort) {
  RolloutSetup setup = success_rate_setup();
  setup.top_extra = std::string(kSuccessRateTemplate) + R"(      - name: strict
        initialDelay: 2s
        interval: 1s
        count: 2
        failureCondition: result >= 0
        provider:
          builtin: {metric: error-rate, window: 3s, minRequests: 5}
    dryRun: [{metricName: strict}]
)";
  RolloutRig rig(setup);
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 30s)) << summary(s);
  const json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Successful") << json::serialize(runs[0]);
  const json::value strict = metric_of(runs[0], "strict");
  EXPECT_EQ(str(field(strict, "phase")), "Failed") << json::serialize(strict);
  EXPECT_EQ(field(strict, "dryRun"), json::value(true));
  EXPECT_GE(num(field(strict, "failed")), 1);
}

/// A web check against a test upstream: `$.requests` of its /__stats, or an error status.
RolloutSetup web_setup(const std::string& url) {
  RolloutSetup setup;
  setup.top_extra = render(R"(analysisTemplates:
  - name: web-check
    args: [{name: url}]
    metrics:
      - name: check
        consecutiveErrorLimit: 0
        successCondition: result >= 0
        provider:
          web: {url: "{{args.url}}", jsonPath: $.requests, timeoutSeconds: 2}
)", {});
  setup.canary = render(R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: web-check}]
              args: [{name: url, value: "{{url}}"}]
          - pause: {}
)", {{"url", url}});
  return setup;
}

TEST(RolloutAnalysisTest, WebProviderReadsAJsonPathAndANon2xxAnswerIsAnErrorThatAborts) {
  TestUpstream checks("checks");
  {
    RolloutRig rig(web_setup("http://" + checks.address() + "/__stats"));
    ASSERT_EQ(rig.set_desired("v2").status, 200);
    json::value s;
    ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 50, s, 15s)) << summary(s);
    const json::array runs = runs_of(rig);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(field(runs[0], "phase")), "Successful") << json::serialize(runs[0]);
    const json::value m = field(metric_of(runs[0], "check"), "measurements");
    ASSERT_TRUE(m.is_array() && m.get_array().size() == 1) << json::serialize(runs[0]);
    EXPECT_EQ(str(field(m.get_array()[0], "value")), "0") << "the checks upstream served no proxied request";
  }
  RolloutRig rig(web_setup("http://" + checks.address() + "/check?status=503"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 15s)) << summary(s);
  const json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Error") << json::serialize(runs[0]);
  EXPECT_NE(json::serialize(runs[0]).find("503"), std::string::npos) << json::serialize(runs[0]);
}

TEST(RolloutAnalysisTest, BackgroundAnalysisAbortsABadCanaryDuringAPause) {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = R"(        steps:
          - setWeight: 50
          - pause: {}
        analysis:
          templates: [{templateName: success-rate}]
          startingStep: 1
)";
  RolloutRig rig(setup);
  behave(rig.v2(), 50);
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true));
  const json::array runs = runs_of(rig);
  ASSERT_FALSE(runs.empty());
  EXPECT_EQ(str(field(runs[0], "phase")), "Failed") << json::serialize(runs[0]);
}

TEST(RolloutAnalysisTest, StatusShowsTheRunsWithTheirCounts) {
  RolloutRig rig(success_rate_setup());
  behave(rig.v2(), 50);
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  load.stop();
  const json::value runs = field(s, "analysisRuns");
  ASSERT_TRUE(runs.is_array() && runs.get_array().size() == 1) << json::serialize(s);
  const CommandResult out = vane_cli(rig.admin(), {"status", "web"});
  EXPECT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("Analysis runs:"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find(str(field(runs.get_array()[0], "name"))), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("✖"), std::string::npos) << out.out;
}

}  // namespace
}  // namespace vane::it
