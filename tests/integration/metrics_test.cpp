// /metrics mid-rollout (SPEC §8): a scrape taken while a canary's analysis runs passes
// `promtool check metrics`, carries the build, process, rollout-info and analysis-phase
// families, and a promote or reload leaves no stale vane_rollout_info series.
#include <gtest/gtest.h>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// A canary at 50% whose analysis step runs long: `rate` measures every second, `late` waits
/// a minute before its first measurement (Pending until then).
RolloutSetup analysing_setup() {
  RolloutSetup setup;
  setup.top_extra = R"(analysisTemplates:
  - name: slow
    metrics:
      - name: rate
        interval: 1s
        count: 100
        successCondition: result >= 0
        inconclusiveLimit: 100
        provider:
          builtin: {metric: success-rate, window: 5s}
      - name: late
        initialDelay: 60s
        successCondition: result >= 0
        provider:
          builtin: {metric: success-rate, window: 5s}
)";
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: slow}]
          - pause: {}
)";
  return setup;
}

std::vector<Sample> named(const std::vector<Sample>& samples, std::string_view name) {
  std::vector<Sample> out;
  for (const auto& s : samples) {
    if (s.name == name) out.push_back(s);
  }
  return out;
}

std::string describe(const std::vector<Sample>& samples) {
  std::string text;
  for (const auto& s : samples) {
    text += s.name + "{";
    for (const auto& [k, v] : s.labels) text += k + "=\"" + v + "\",";
    text += "} " + std::to_string(s.value) + "\n";
  }
  return text;
}

/// `promtool check metrics` on a scrape: its exit code and what it said.
CommandResult promtool_check(const std::string& scrape_text) {
  TempDir dir;
  write_file(dir.path() / "scrape.txt", scrape_text);
  return run_command({"sh", "-c", "promtool check metrics < " + (dir.path() / "scrape.txt").string()});
}

TEST(MetricsTest, AScrapeMidRolloutPassesPromtoolAndShowsTheRolloutAndItsAnalysis) {
  RolloutRig rig(analysing_setup());
  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  // Mid-rollout: the analysis step's run has measured `rate` at least once.
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& status) {
    const json::value runs = field(status, "analysisRuns");
    if (!runs.is_array() || runs.get_array().empty()) return false;
    const json::value metrics = field(runs.get_array()[0], "metrics");
    return metrics.is_array() && !metrics.get_array().empty() &&
           !field(metrics.get_array()[0], "measurements").get_array().empty();
  }, s, 20s)) << summary(s);

  const std::string text = scrape(rig.admin());
  const CommandResult check = promtool_check(text);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err << "\n" << text;
  const auto samples = parse_metrics(text);

  const auto build = named(samples, "vane_build_info");
  ASSERT_EQ(build.size(), 1U) << text;
  const CommandResult version = run_command({vane_binary(), "version"});
  EXPECT_EQ("vane " + build[0].labels.at("version") + "\n", version.out);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_EQ(named(samples, name).size(), 1U) << name;
  }
  EXPECT_GT(metric_sum(samples, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(metric_sum(samples, "process_open_fds"), 3);
  const double started = metric_sum(samples, "process_start_time_seconds");
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LT(now - started, 120);
  EXPECT_GE(now - started, -2);
  EXPECT_EQ(named(samples, "vane_access_log_dropped_total").size(), 1U);

  const auto info = named(samples, "vane_rollout_info");
  ASSERT_EQ(info.size(), 1U) << describe(info);
  EXPECT_EQ(info[0].labels, (std::map<std::string, std::string>{
      {"rollout", "web"}, {"strategy", "canary"}, {"phase", "Progressing"},
      {"stable", "v1"}, {"canary", "v2"}, {"desired", "v2"}}));
  EXPECT_EQ(info[0].value, 1);

  const auto phases = named(samples, "vane_analysis_run_metric_phase");
  EXPECT_EQ(phases.size(), 12U) << describe(phases);  // two metrics, six phases each
  EXPECT_EQ(metric_sum(phases, "vane_analysis_run_metric_phase", {{"metric", "rate"}}), 1);
  EXPECT_EQ(metric_sum(phases, "vane_analysis_run_metric_phase", {{"metric", "rate"}, {"phase", "Running"}}), 1);
  EXPECT_EQ(metric_sum(phases, "vane_analysis_run_metric_phase", {{"metric", "late"}, {"phase", "Pending"}}), 1);
  EXPECT_EQ(metric_sum(phases, "vane_analysis_run_metric_phase", {{"metric", "late"}}), 1);

  // promote --full: the canary becomes stable; the Progressing series with canary v2 is gone.
  expect_post(rig, "web/promote?full=true", 200);
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 20s)) << summary(s);
  auto after = named(parse_metrics(scrape(rig.admin())), "vane_rollout_info");
  ASSERT_EQ(after.size(), 1U) << describe(after);
  EXPECT_EQ(after[0].labels.at("phase"), "Healthy");
  EXPECT_EQ(after[0].labels.at("stable"), "v2");
  EXPECT_EQ(after[0].labels.at("canary"), "");

  // A reload to v3: one series again, for the new canary.
  ASSERT_EQ(rig.set_desired("v3").status, 200);
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& status) {
    return status.is_object() && field(status, "canary").is_string() && str(field(status, "canary")) == "v3";
  }, s, 20s)) << summary(s);
  after = named(parse_metrics(scrape(rig.admin())), "vane_rollout_info");
  ASSERT_EQ(after.size(), 1U) << describe(after);
  EXPECT_EQ(after[0].labels.at("canary"), "v3");
  EXPECT_EQ(after[0].labels.at("desired"), "v3");
  EXPECT_EQ(after[0].labels.at("stable"), "v2");
}

}  // namespace
}  // namespace vane::it
