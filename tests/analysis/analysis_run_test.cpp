// An analysis run as data: preparing it from a spec (args, placeholders, conditions, the errors
// that make an Error run), which measurements fall due together, a sample judged into a
// measurement, recording (counts, retention), judging and termination. Time is given.
#include "analysis/analysis_run.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace vane::analysis {
namespace {

using namespace std::chrono_literals;

const WallTime kT0 = WallTime{} + 1'000'000s;

config::Metric builtin_metric(std::string name, std::string success_condition) {
  config::Metric m;
  m.name = std::move(name);
  m.success_condition = std::move(success_condition);
  m.builtin = config::BuiltinProvider{"success-rate", config::Duration{30'000}, 1, "canary"};
  return m;
}

/// Template "t": arg `threshold` (required) and `path` (default "/health"); a builtin metric
/// whose condition reads the threshold, and a web one whose url, header, body and jsonPath use
/// the args.
config::Config config_with_template() {
  config::Metric web;
  web.name = "smoke";
  web.success_condition = "result == true";
  web.web = config::WebProvider{};
  web.web->url = "http://checks{{args.path}}?min={{args.threshold}}";
  web.web->headers = {{"X-Min", "{{args.threshold}}"}};
  web.web->body = R"({"min": {{args.threshold}}})";
  web.web->json_path = "$.{{args.path}}";
  config::AnalysisTemplate t;
  t.name = "t";
  t.args = {{"threshold", std::nullopt}, {"path", "/health"}};
  t.metrics = {builtin_metric("rate", "result >= {{args.threshold}}"), web};
  t.dry_run = {"smoke"};
  t.measurement_retention = {{"rate", 2}};
  config::Config c;
  c.analysis_templates.push_back(std::move(t));
  return c;
}

config::AnalysisSpec spec_of(std::string template_name, std::vector<config::Arg> args) {
  config::AnalysisSpec spec;
  spec.templates = {{std::move(template_name)}};
  spec.args = std::move(args);
  return spec;
}

Measurement measurement(MeasurementPhase phase, WallTime at) {
  Measurement m;
  m.phase = phase;
  m.started_at = at;
  m.finished_at = at;
  return m;
}

TEST(PrepareRun, ResolvesArgsAndSubstitutesEveryPlaceholder) {
  const config::Config c = config_with_template();
  const AnalysisRun run =
      prepare_run(c, spec_of("t", {{"threshold", "0.95"}, {"path", "/ready"}}), false, kT0);
  EXPECT_FALSE(run.finished()) << run.message;
  EXPECT_EQ(run.phase, RunPhase::Pending);
  EXPECT_EQ(run.started_at, kT0);
  ASSERT_EQ(run.metrics.size(), 2u);
  const RunMetric& rate = run.metrics[0];
  EXPECT_EQ(rate.spec.success_condition, "result >= 0.95");
  ASSERT_TRUE(rate.success);
  EXPECT_FALSE(rate.failure);
  EXPECT_EQ(rate.retention, 2u);
  EXPECT_FALSE(rate.result.dry_run);
  EXPECT_TRUE(rate.running());
  const RunMetric& smoke = run.metrics[1];
  EXPECT_EQ(smoke.result.name, "smoke");
  EXPECT_TRUE(smoke.result.dry_run);
  EXPECT_EQ(smoke.retention, kDefaultMeasurementRetention);
  EXPECT_EQ(smoke.spec.web->url, "http://checks/ready?min=0.95");  // the spec's arg wins
  EXPECT_EQ(smoke.spec.web->headers.at(0).value, "0.95");
  EXPECT_EQ(smoke.spec.web->body, R"({"min": 0.95})");
  EXPECT_EQ(smoke.spec.web->json_path, "$./ready");
}

TEST(PrepareRun, TemplateDefaultsFillArgsNotGiven) {
  const AnalysisRun run =
      prepare_run(config_with_template(), spec_of("t", {{"threshold", "0.9"}}), false, kT0);
  ASSERT_EQ(run.metrics.size(), 2u) << run.message;
  EXPECT_EQ(run.metrics[1].spec.web->url, "http://checks/health?min=0.9");
}

TEST(PrepareRun, ProblemsMakeAFinishedErrorRun) {
  config::Config bad_condition = config_with_template();
  bad_condition.analysis_templates[0].metrics[0].success_condition = "result >=";
  const struct {
    config::Config config;
    config::AnalysisSpec spec;
    std::string message;
  } cases[] = {
      {config_with_template(), spec_of("nope", {}), "unknown analysis template \"nope\""},
      {config_with_template(), spec_of("t", {}),
       "template \"t\" needs arg \"threshold\": no value given"},
      {bad_condition, spec_of("t", {{"threshold", "1"}}),
       "metric \"rate\" successCondition \"result >=\""},
  };
  for (const auto& c : cases) {
    const AnalysisRun run = prepare_run(c.config, c.spec, false, kT0);
    EXPECT_EQ(run.phase, RunPhase::Error) << c.message;
    EXPECT_TRUE(run.metrics.empty());
    EXPECT_EQ(run.finished_at, kT0);
    EXPECT_EQ(run.message.rfind(c.message, 0), 0u) << run.message;
  }
}

/// Two builtin metrics every 50 ms after an initial delay of 50 ms.
AnalysisRun run_of_two() {
  config::AnalysisTemplate t;
  t.name = "t";
  for (const char* name : {"a", "b"}) {
    config::Metric m = builtin_metric(name, "result >= 0.9");
    m.interval = 50ms;
    m.initial_delay = 50ms;
    m.count = 3;
    t.metrics.push_back(std::move(m));
  }
  config::Config c;
  c.analysis_templates.push_back(std::move(t));
  return prepare_run(c, spec_of("t", {}), false, kT0);
}

TEST(RunSchedule, MetricsDueAtTheSameTimeAreDueTogether) {
  AnalysisRun run = run_of_two();
  EXPECT_EQ(next_due(run), kT0 + 50ms);
  EXPECT_TRUE(due_metrics(run, kT0 + 49ms).empty());
  EXPECT_EQ(due_metrics(run, kT0 + 50ms), (std::vector<size_t>{0, 1}));
  // "b" measured later than "a": each goes by the end of its own last measurement.
  record(run.metrics[0], measurement(MeasurementPhase::Successful, kT0 + 50ms), false);
  record(run.metrics[1], measurement(MeasurementPhase::Successful, kT0 + 60ms), false);
  EXPECT_EQ(next_due(run), kT0 + 100ms);
  EXPECT_EQ(due_metrics(run, kT0 + 100ms), (std::vector<size_t>{0}));
  EXPECT_EQ(due_metrics(run, kT0 + 110ms), (std::vector<size_t>{0, 1}));
}

TEST(RunSchedule, ErrorIsRetriedAfterTenSecondsWhateverTheInterval) {
  AnalysisRun run = run_of_two();
  record(run.metrics[0], measurement(MeasurementPhase::Error, kT0 + 50ms), false);
  record(run.metrics[1], measurement(MeasurementPhase::Successful, kT0 + 50ms), false);
  EXPECT_EQ(next_due(run), kT0 + 100ms);  // "b"
  record(run.metrics[1], measurement(MeasurementPhase::Successful, kT0 + 100ms), false);
  record(run.metrics[1], measurement(MeasurementPhase::Successful, kT0 + 150ms), false);
  EXPECT_FALSE(run.metrics[1].running());  // count 3 reached
  EXPECT_EQ(next_due(run), kT0 + 50ms + kErrorRetry);
  EXPECT_EQ(due_metrics(run, kT0 + 50ms + kErrorRetry), (std::vector<size_t>{0}));
}

TEST(JudgeSample, ErrorInconclusiveOrJudgedByTheConditions) {
  const AnalysisRun run = run_of_two();
  const RunMetric& metric = run.metrics[0];  // result >= 0.9
  Measurement m = judge_sample(metric, Sample{Value::nil(), Value::nil(), "HTTP 503", {}, {}});
  EXPECT_EQ(m.phase, MeasurementPhase::Error);
  EXPECT_EQ(m.message, "HTTP 503");
  EXPECT_EQ(m.value, "");
  m = judge_sample(metric, Sample{Value::number(0.8), Value::nil(), {}, "too few requests", {}});
  EXPECT_EQ(m.phase, MeasurementPhase::Inconclusive);
  EXPECT_EQ(m.value, "0.8");
  EXPECT_EQ(m.message, "result 0.8: too few requests");
  m = judge_sample(metric, Sample{Value::number(0.8), Value::nil(), {}, {}, {}});
  EXPECT_EQ(m.phase, MeasurementPhase::Failed);
  EXPECT_NE(m.message.find("did not meet \"result >= 0.9\""), std::string::npos) << m.message;
  m = judge_sample(metric, Sample{Value::number(0.95), Value::nil(), {}, {}, {}});
  EXPECT_EQ(m.phase, MeasurementPhase::Successful);
}

TEST(Record, CountsEveryMeasurementAndKeepsTheNewest) {
  AnalysisRun run = prepare_run(config_with_template(), spec_of("t", {{"threshold", "1"}}),
                                true, kT0);
  RunMetric& rate = run.metrics[0];  // measurementRetention 2
  for (int i = 0; i < 3; ++i) {
    record(rate, measurement(MeasurementPhase::Successful, kT0 + i * 1s), run.background);
  }
  EXPECT_EQ(rate.result.counts.successful, 3u);
  ASSERT_EQ(rate.measurements.size(), 2u);
  EXPECT_EQ(rate.measurements.front().finished_at, kT0 + 1s);
  ASSERT_TRUE(rate.last);
  EXPECT_EQ(rate.last->finished_at, kT0 + 2s);
}

TEST(Judge, AFailedMetricEndsTheRunAndStopsTheOthers) {
  AnalysisRun run = run_of_two();
  record(run.metrics[1], measurement(MeasurementPhase::Successful, kT0 + 50ms), false);
  EXPECT_FALSE(judge(run, kT0 + 50ms));
  EXPECT_EQ(run.phase, RunPhase::Running);
  record(run.metrics[0], measurement(MeasurementPhase::Failed, kT0 + 50ms), false);
  EXPECT_TRUE(judge(run, kT0 + 51ms));
  EXPECT_EQ(run.phase, RunPhase::Failed);
  EXPECT_EQ(run.finished_at, kT0 + 51ms);
  EXPECT_EQ(run.message, run.metrics[0].result.message);
  EXPECT_EQ(run.metrics[1].result.phase, MetricPhase::Successful);  // stopped
  EXPECT_FALSE(run.terminated);
  EXPECT_FALSE(next_due(run));
  EXPECT_TRUE(judge(run, kT0 + 1s));  // once finished, stays as it ended
  EXPECT_EQ(run.finished_at, kT0 + 51ms);
}

TEST(TerminateByRollout, EndsARunningRunAsTerminated) {
  AnalysisRun run = run_of_two();
  record(run.metrics[0], measurement(MeasurementPhase::Successful, kT0 + 50ms), false);
  terminate_by_rollout(run, kT0 + 70ms);
  EXPECT_TRUE(run.terminated);
  EXPECT_EQ(run.phase, RunPhase::Successful);
  EXPECT_EQ(run.message, "terminated by the rollout");
  EXPECT_EQ(run.finished_at, kT0 + 70ms);
  EXPECT_FALSE(next_due(run));
  terminate_by_rollout(run, kT0 + 90ms);  // a finished run is left alone
  EXPECT_EQ(run.finished_at, kT0 + 70ms);
}

}  // namespace
}  // namespace vane::analysis
