// Experiment steps (SPEC §14) through a real vane to real upstreams: each template takes its
// share of the route's traffic beside the canary weight, measured as target experiment:NAME; a
// canary slower than a fresh baseline fails `result <= baseline * 1.1` while the same canary
// passes against the slower warm stable; abort, promote and a new desired return the
// experiment's traffic to stable; a kill -9 mid-experiment keeps its deadline.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// setWeight 10, then an experiment: baseline on v3 and the canary (v2) at 20% each.
RolloutSetup shares_setup(std::string_view duration = "10m") {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setWeight: 10
          - experiment:
              name: compare
              duration: )" + std::string(duration) + R"(
              templates:
                - {name: baseline, upstream: v3, weight: 20}
                - {name: canary, specRef: canary, weight: 20}
          - pause: {}
)";
  return setup;
}

bool in_experiment(const json::value& s) {
  return str(field(s, "phase")) == "Progressing" && num(field(s, "currentStepIndex")) == 1 &&
         field(s, "experiment").is_object();
}

void start_experiment(RolloutRig& rig) {
  const Response reload = rig.set_desired("v2");
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), in_experiment, s)) << summary(s);
}

/// After the experiment: paused at step 2 (pause {}) with only the canary's 10% beside stable.
void expect_back_on_stable(RolloutRig& rig, const json::value& s) {
  EXPECT_TRUE(field(s, "experiment").is_null()) << json::serialize(s);
  const SideCounts counts = send_requests(rig.port(), 400);
  EXPECT_EQ(counts.count("v3"), 0) << counts.describe();
  EXPECT_EQ(counts.count("v1") + counts.count("v2"), 400) << counts.describe();
}

TEST(RolloutExperimentTest, EachTemplateTakesItsShareMeasuredAsItsTarget) {
  RolloutRig rig(shares_setup());
  start_experiment(rig);
  const json::value s = rig.status();
  const json::value e = field(s, "experiment");
  EXPECT_EQ(str(field(e, "name")), "compare");
  EXPECT_EQ(str(field(e, "phase")), "Running");
  const json::value templates = field(e, "templates");
  ASSERT_TRUE(templates.is_array() && templates.as_array().size() == 2) << json::serialize(e);
  EXPECT_EQ(str(field(templates.as_array()[0], "name")), "baseline");
  EXPECT_EQ(str(field(templates.as_array()[0], "upstream")), "v3");
  EXPECT_EQ(num(field(templates.as_array()[0], "weight")), 20);
  EXPECT_EQ(str(field(templates.as_array()[1], "upstream")), "v2");
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 10);
  EXPECT_EQ(num(field(field(s, "weights"), "stable")), 50);

  constexpr int n = 4000;
  const SideCounts counts = send_requests(rig.port(), n);
  // v2 serves the canary's 10% and the canary template's 20%; v3 the baseline's 20%.
  EXPECT_NEAR(counts.count("v2"), 0.3 * n, binomial_band(0.3, n)) << counts.describe();
  EXPECT_NEAR(counts.count("v3"), 0.2 * n, binomial_band(0.2, n)) << counts.describe();
  EXPECT_NEAR(counts.count("v1"), 0.5 * n, binomial_band(0.5, n)) << counts.describe();

  // A request is counted once its response is written: the client may read it a moment before.
  std::vector<Sample> samples;
  const auto requests = [&](const std::string& target) {
    return metric_sum(samples, "vane_requests_total", {{"rollout", "web"}, {"target", target}});
  };
  const auto total = [&] {
    return requests("experiment:baseline") + requests("experiment:canary") + requests("canary") +
           requests("stable");
  };
  EXPECT_TRUE(wait_until(
      [&] {
        samples = parse_metrics(scrape(rig.admin()));
        return total() >= n;
      },
      5s));
  EXPECT_NEAR(requests("experiment:baseline"), 0.2 * n, binomial_band(0.2, n));
  EXPECT_NEAR(requests("experiment:canary"), 0.2 * n, binomial_band(0.2, n));
  EXPECT_NEAR(requests("canary"), 0.1 * n, binomial_band(0.1, n));
  EXPECT_EQ(total(), n);
}

/// The canary (v2, 30 ms) against stable (v1, 40 ms, warm) passes; against a fresh baseline
/// (v3, 20 ms) the same canary is 50% slower and fails `result <= baseline * 1.1`.
TEST(RolloutExperimentTest, ACanarySlowerThanTheBaselineFailsThoughItPassesAgainstStable) {
  RolloutSetup setup;
  setup.top_extra = R"(analysisTemplates:
  - name: latency-vs-baseline
    args: [{name: tolerance}]
    metrics:
      - name: latency
        initialDelay: 2s
        interval: 1s
        count: 2
        successCondition: result <= baseline * {{args.tolerance}}
        failureLimit: 0
        provider: {builtin: {metric: latency-mean, window: 2s, minRequests: 5}}
)";
  const std::string analyses = R"(
              analyses: [{name: latency, templateName: latency-vs-baseline, args: [{name: tolerance, value: "1.1"}]}]
)";
  setup.canary = R"(        steps:
          - setWeight: 10
          - experiment:
              name: vs-stable
              templates: [{name: canary, specRef: canary, weight: 30}])" + analyses +
                 R"(          - experiment:
              name: vs-baseline
              templates:
                - {name: baseline, upstream: v3, weight: 30}
                - {name: canary, specRef: canary, weight: 30})" + analyses +
                 R"(          - pause: {}
)";
  RolloutRig rig(setup);
  behave(rig.v1(), 0, 40);
  behave(rig.v2(), 0, 30);
  behave(rig.v3(), 0, 20);
  LoadLoop load(rig.port(), {.connections = 6, .pace = 1ms, .limit = 40s});
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& st) {
    return num(field(st, "currentStepIndex")) == 2 || field(st, "aborted").as_bool();
  }, s, 15s)) << summary(s);
  ASSERT_FALSE(field(s, "aborted").as_bool()) << "the canary failed against stable: " << summary(s);
  EXPECT_EQ(str(field(field(s, "experiment"), "name")), "vs-baseline");

  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 15s)) << summary(s);
  EXPECT_NE(str(field(s, "abortReason")).find("experiment vs-baseline analysis latency Failed"),
            std::string::npos)
      << summary(s);
  // Both experiments' runs are listed with the rollout's runs: the first Successful.
  const json::array runs = runs_of(rig);
  ASSERT_GE(runs.size(), 2u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Failed") << json::serialize(runs[0]);
  EXPECT_EQ(str(field(runs[1], "phase")), "Successful") << json::serialize(runs[1]);
  EXPECT_NE(str(field(runs[1], "name")).find("vs-stable-latency"), std::string::npos);
  load.stop();
  expect_back_on_stable(rig, s);
}

TEST(RolloutExperimentTest, AbortPromoteAndANewDesiredReturnTheExperimentsTraffic) {
  {
    RolloutRig rig(shares_setup());
    start_experiment(rig);
    ASSERT_EQ(vane_cli(rig.admin(), {"abort", "web"}).exit_code, 0);
    json::value s;
    ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s)) << summary(s);
    EXPECT_TRUE(field(s, "experiment").is_null());
    const SideCounts counts = send_requests(rig.port(), 300);
    EXPECT_EQ(counts.count("v1"), 300) << counts.describe();
  }
  {
    RolloutRig rig(shares_setup());
    start_experiment(rig);
    ASSERT_EQ(vane_cli(rig.admin(), {"promote", "web"}).exit_code, 0);
    json::value s;
    ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 10, s)) << summary(s);
    expect_back_on_stable(rig, s);
  }
  {
    RolloutRig rig(shares_setup());
    start_experiment(rig);
    ASSERT_EQ(rig.set_desired("v1").status, 200);  // undo
    json::value s;
    ASSERT_TRUE(wait_stable(rig.admin(), "v1", s)) << summary(s);
    EXPECT_TRUE(field(s, "experiment").is_null());
    const SideCounts counts = send_requests(rig.port(), 300);
    EXPECT_EQ(counts.count("v1"), 300) << counts.describe();
  }
}

TEST(RolloutExperimentTest, AKillMidExperimentKeepsItsDeadline) {
  RolloutRig rig(shares_setup("6s"));
  const auto started = Clock::now();
  start_experiment(rig);
  // Half the duration with traffic, then kill -9: a restarted deadline would end the step
  // 6 s after the restart, at least 9 s after the start.
  SideCounts before;
  while (Clock::now() - started < 3s) before = send_requests(rig.port(), 50);
  EXPECT_GT(before.count("v3"), 0) << before.describe();
  rig.restart_after_kill();
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), in_experiment, s)) << summary(s);
  const SideCounts counts = send_requests(rig.port(), 500);
  EXPECT_GT(counts.count("v3"), 0) << "the restarted experiment routes its baseline";
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 10, s, 15s)) << summary(s);
  const auto took = Clock::now() - started;
  EXPECT_GE(took, 6s);
  EXPECT_LT(took, 8500ms) << "the deadline was restarted";
  expect_back_on_stable(rig, s);
}

}  // namespace
}  // namespace vane::it
