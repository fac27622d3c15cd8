// Argo's decision tables (SPEC §5): every row of the measurement table, the metric limits and
// their interplay (count, consecutiveSuccessLimit, -1), run aggregation with dry-run metrics,
// termination, scheduling (initialDelay, interval, error retry) and retention.
#include "analysis/judge.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <limits>
#include <string>
#include <vector>

namespace vane::analysis {
namespace {

using std::chrono::seconds;
using MP = MeasurementPhase;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(JudgeMeasurement, EveryRowOfTheTable) {
  struct Row {
    bool has_success, success_true, has_failure, failure_true;
    MP expected;
  };
  const Row rows[] = {
      // none: Successful (whatever the unused flags say)
      {false, false, false, false, MP::Successful},
      {false, true, false, true, MP::Successful},
      // only successCondition
      {true, true, false, false, MP::Successful},
      {true, false, false, false, MP::Failed},
      {true, false, false, true, MP::Failed},  // an absent failure condition is not read
      // only failureCondition
      {false, false, true, true, MP::Failed},
      {false, false, true, false, MP::Successful},
      {false, true, true, true, MP::Failed},
      // both
      {true, true, true, true, MP::Failed},  // failure wins
      {true, false, true, true, MP::Failed},
      {true, true, true, false, MP::Successful},
      {true, false, true, false, MP::Inconclusive},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(judge_measurement(r.has_success, r.success_true, r.has_failure, r.failure_true),
              r.expected)
        << r.has_success << r.success_true << r.has_failure << r.failure_true;
  }
}

Expression parse(std::string_view text) {
  std::string error;
  auto e = Expression::parse(text, &error);
  EXPECT_TRUE(e) << text << ": " << error;
  return *e;
}

TEST(JudgeValue, NamesTheValueAndTheCondition) {
  const Expression success = parse("result >= 0.99");
  const Expression failure = parse("result < 0.9");
  const Expression relative = parse("result <= baseline * 1.2");
  const Expression broken = parse("result[0] > 1");
  struct Case {
    const Expression* success;
    const Expression* failure;
    Value result;
    Value baseline;
    MP phase;
    std::string message;
  };
  const Value none;
  const auto n = [](double v) { return Value::number(v); };
  // clang-format off
  const Case cases[] = {
      {&success, nullptr, n(0.995), none, MP::Successful,
       R"(result 0.995 met "result >= 0.99")"},
      {&success, nullptr, n(0.71), none, MP::Failed,
       R"(result 0.71 did not meet "result >= 0.99")"},
      {&success, nullptr, n(kNaN), none, MP::Failed,
       R"(result NaN did not meet "result >= 0.99")"},
      {nullptr, &failure, n(0.5), none, MP::Failed,
       R"(result 0.5 met failureCondition "result < 0.9")"},
      {nullptr, &failure, n(0.95), none, MP::Successful,
       R"(result 0.95 did not meet failureCondition "result < 0.9")"},
      {&success, &failure, n(0.5), none, MP::Failed,
       R"(result 0.5 met failureCondition "result < 0.9")"},
      {&success, &failure, n(0.995), none, MP::Successful,
       R"(result 0.995 met "result >= 0.99")"},
      {&success, &failure, n(0.95), none, MP::Inconclusive,
       R"(result 0.95 met neither "result >= 0.99" nor failureCondition "result < 0.9")"},
      {&success, &failure, n(kNaN), none, MP::Inconclusive,  // NaN meets neither
       R"(result NaN met neither "result >= 0.99" nor failureCondition "result < 0.9")"},
      {nullptr, nullptr, n(0.5), none, MP::Successful,
       "result 0.5 (no condition)"},
      {&relative, nullptr, n(0.3), n(0.2), MP::Failed,
       R"(result 0.3 (baseline 0.2) did not meet "result <= baseline * 1.2")"},
      {&success, nullptr, Value::string("up"), none, MP::Error,
       R"(result up: cannot evaluate "result >= 0.99": column 8: >= needs two numbers or two )"
       "strings, got string and number"},
      {&broken, nullptr, Value::numbers({}), none, MP::Error,
       R"(result []: cannot evaluate "result[0] > 1": column 7: index 0 out of range (list of 0))"},
      {&success, &broken, n(1), none, MP::Error,  // the failure condition errs
       R"(result 1: cannot evaluate "result[0] > 1": column 7: cannot index number)"},
  };
  // clang-format on
  for (const Case& c : cases) {
    const MeasurementVerdict v = judge_value(c.success, c.failure, c.result, c.baseline);
    EXPECT_EQ(v.phase, c.phase) << c.message;
    EXPECT_EQ(v.message, c.message);
  }
}

TEST(MetricCounts, CountsAndStreaks) {
  MetricCounts c;
  for (const MP p : {MP::Successful, MP::Successful, MP::Error, MP::Error, MP::Successful,
                     MP::Failed, MP::Inconclusive, MP::Successful}) {
    c.add(p);
  }
  EXPECT_EQ(c.successful, 4u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.inconclusive, 1u);
  EXPECT_EQ(c.error, 2u);
  EXPECT_EQ(c.counted(), 6u);  // Errors are not counted
  EXPECT_EQ(c.total(), 8u);
  EXPECT_EQ(c.consecutive_successful, 1u);
  EXPECT_EQ(c.consecutive_error, 0u);
  c.add(MP::Error);
  EXPECT_EQ(c.consecutive_error, 1u);
  EXPECT_EQ(c.consecutive_successful, 0u);  // an Error breaks "in a row"
}

struct Limits {
  std::optional<uint32_t> count = std::nullopt;
  bool interval = false;
  int32_t failure = 0;
  int32_t inconclusive = 0;
  int32_t consecutive_error = 4;
  int32_t consecutive_success = 0;
};

config::Metric metric(const Limits& l) {
  config::Metric m;
  m.name = "success-rate";
  m.count = l.count;
  if (l.interval) m.interval = config::Duration{10'000};
  m.failure_limit = l.failure;
  m.inconclusive_limit = l.inconclusive;
  m.consecutive_error_limit = l.consecutive_error;
  m.consecutive_success_limit = l.consecutive_success;
  return m;
}

/// Feeds `sequence` (S F I E) one measurement at a time, judging after each, as the run does;
/// returns "PHASE@N" for the first decided phase (N measurements in), or "Running".
std::string replay(const Limits& limits, std::string_view sequence, bool background = false) {
  const config::Metric spec = metric(limits);
  MetricCounts counts;
  for (size_t i = 0; i < sequence.size(); ++i) {
    const char c = sequence[i];
    counts.add(c == 'S'   ? MP::Successful
               : c == 'F' ? MP::Failed
               : c == 'I' ? MP::Inconclusive
                          : MP::Error);
    const MetricPhase phase = judge_metric(counts, spec, background);
    if (phase != MetricPhase::Running) {
      return std::string(to_string(phase)) + "@" + std::to_string(i + 1);
    }
  }
  return "Running";
}

TEST(JudgeMetric, LimitsCountsAndStreaks) {
  struct Case {
    Limits limits;
    std::string_view sequence;
    bool background;
    std::string expected;
  };
  const Limits once{};  // no count, no interval: one measurement; Argo's default limits
  const Limits count3{.count = 3, .interval = true, .failure = 1};
  const Limits count4_inconclusive1{.count = 4, .interval = true, .inconclusive = 1};
  const Limits count5_failure2{.count = 5, .interval = true, .failure = 2};
  const Limits errors0{.count = 2, .interval = true, .consecutive_error = 0};
  const Limits errors2{.count = 3, .interval = true, .consecutive_error = 2};
  const Limits errors_never{.count = 3, .interval = true, .consecutive_error = -1};
  const Limits never_fail{.count = 3, .interval = true, .failure = -1};
  const Limits streak3{.count = 10, .interval = true, .failure = 3, .consecutive_success = 3};
  const Limits streak3_never_fail{
      .count = 5, .interval = true, .failure = -1, .consecutive_success = 3};
  const Limits endless{.interval = true};
  const Limits endless_streak2{.interval = true, .failure = -1, .consecutive_success = 2};
  const Case cases[] = {
      {once, "S", false, "Successful@1"},
      {once, "F", false, "Failed@1"},
      {once, "I", false, "Inconclusive@1"},
      {once, "EEEE", false, "Running"},        // 4 errors = consecutiveErrorLimit: retried
      {once, "EEEEE", false, "Error@5"},       // 5 > 4
      {once, "EEEES", false, "Successful@5"},  // errors do not count, then one measurement
      {count3, "SFS", false, "Successful@3"},  // failureLimit 1
      {count3, "SFF", false, "Failed@3"},
      {count3, "FF", false, "Failed@2"},         // decided before count
      {count3, "SESES", false, "Successful@5"},  // errors are not counted toward count
      {count3, "SII", false, "Inconclusive@2"},  // inconclusiveLimit 0
      {count4_inconclusive1, "ISSS", false, "Successful@4"},
      {count4_inconclusive1, "ISIS", false, "Inconclusive@3"},
      {count5_failure2, "FFSSS", false, "Successful@5"},
      {count5_failure2, "FFSF", false, "Failed@4"},
      {errors0, "E", false, "Error@1"},
      {errors2, "EESEE", false, "Running"},  // a measurement resets the streak of errors
      {errors2, "EESEEE", false, "Error@6"},
      {errors_never, "EEEEEEEEEE", false, "Running"},
      {never_fail, "FFF", false, "Successful@3"},  // failureLimit -1: failures never fail it
      // consecutiveSuccessLimit: succeeds early after N in a row ...
      {streak3, "SSS", false, "Successful@3"},
      {streak3, "SFSSS", false, "Successful@5"},
      {streak3, "SSESS", false, "Running"},  // an Error breaks the streak
      {streak3, "FFFF", false, "Failed@4"},  // failureLimit 3 still holds
      // ... and when count comes first: Inconclusive, or Failed with failureLimit -1
      {streak3, "SSFSSFSSFS", false, "Inconclusive@10"},
      {streak3_never_fail, "SFSFS", false, "Failed@5"},
      {streak3_never_fail, "FFFFFFF", false, "Failed@5"},
      {streak3_never_fail, "FFSSS", false, "Successful@5"},    // both at once: the streak wins
      {streak3_never_fail, "IIIII", false, "Inconclusive@1"},  // inconclusiveLimit 0 holds
      // background, interval, no count: until terminated (or a limit, or the streak)
      {endless, "SSSSSSSSSSSS", true, "Running"},
      {endless, "SSSF", true, "Failed@4"},
      {endless_streak2, "FSFSS", true, "Successful@5"},
      // not background, interval and no count (config refuses it): one measurement, no hang
      {endless, "S", false, "Successful@1"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(replay(c.limits, c.sequence, c.background), c.expected) << c.sequence;
  }
}

TEST(JudgeMetric, SeveralBrokenLimitsErrorOverInconclusiveOverFailed) {
  const config::Metric spec = metric({.count = 10, .interval = true});
  struct Case {
    MetricCounts counts;
    MetricPhase expected;
  };
  const Case cases[] = {
      {{.failed = 1, .inconclusive = 1, .consecutive_error = 5}, MetricPhase::Error},
      {{.failed = 1, .inconclusive = 1}, MetricPhase::Inconclusive},
      {{.inconclusive = 1, .consecutive_error = 5}, MetricPhase::Error},
      {{.failed = 1, .consecutive_error = 5}, MetricPhase::Error},
      {{.failed = 1}, MetricPhase::Failed},
      {{.successful = 10, .failed = 1}, MetricPhase::Failed},  // a limit beats the count
      {{.successful = 9, .error = 4, .consecutive_error = 4}, MetricPhase::Running},
  };
  for (const Case& c : cases) EXPECT_EQ(judge_metric(c.counts, spec, false), c.expected);
}

TEST(JudgeMetric, ReasonsAndMessages) {
  struct Case {
    Limits limits;
    MetricCounts counts;
    bool terminating;
    MetricPhase phase;
    std::string reason;
  };
  using M = MetricPhase;
  const Limits count6{.count = 6, .interval = true, .failure = 1};
  const Limits streak3{.count = 6, .interval = true, .consecutive_success = 3};
  const Limits streak3_count4{.count = 4, .interval = true, .failure = 2, .consecutive_success = 3};
  const Limits endless{.interval = true};
  const Limits count3{.count = 3, .interval = true};
  // clang-format off
  const Case cases[] = {
      {count6, {.failed = 2}, false, M::Failed, "failed 2 > failureLimit 1"},
      {{}, {.inconclusive = 1}, false, M::Inconclusive, "inconclusive 1 > inconclusiveLimit 0"},
      {{}, {.error = 5, .consecutive_error = 5}, false, M::Error,
       "consecutive errors 5 > consecutiveErrorLimit 4"},
      {count6, {.successful = 6}, false, M::Successful, "count 6 reached"},
      {streak3, {.successful = 3, .consecutive_successful = 3}, false, M::Successful,
       "3 Successful in a row (consecutiveSuccessLimit 3)"},
      {streak3, {.successful = 2, .consecutive_successful = 2}, false, M::Running, ""},
      {streak3_count4, {.successful = 2, .failed = 2}, false, M::Inconclusive,
       "count 4 reached before 3 Successful in a row (consecutiveSuccessLimit 3)"},
      // terminating: Running ends Successful; a broken limit still decides
      {endless, {.successful = 7}, true, M::Successful, "terminated"},
      {count3, {}, true, M::Successful, "terminated"},
      {count3, {.failed = 1}, true, M::Failed, "failed 1 > failureLimit 0"},
  };
  // clang-format on
  for (const Case& c : cases) {
    const MetricVerdict v = assess_metric(c.counts, metric(c.limits), true, c.terminating);
    EXPECT_EQ(v.phase, c.phase) << c.reason;
    EXPECT_EQ(v.reason, c.reason);
  }
  // SPEC §6's example, word for word.
  EXPECT_EQ(metric_message("success-rate", {MetricPhase::Failed, "failed 2 > failureLimit 1"},
                           R"(result 0.71 did not meet "result >= 0.99")"),
            R"(metric "success-rate" Failed: result 0.71 did not meet "result >= 0.99" )"
            "(failed 2 > failureLimit 1)");
  EXPECT_EQ(metric_message("m", {MetricPhase::Successful, "terminated"}, ""),
            R"(metric "m" Successful: terminated)");
  EXPECT_EQ(metric_message("m", {MetricPhase::Error, ""}, "no data"),
            R"(metric "m" Error: no data)");
}

TEST(JudgeMetric, EffectiveCount) {
  EXPECT_EQ(effective_count(metric({}), false), 1u);
  EXPECT_EQ(effective_count(metric({}), true), 1u);
  EXPECT_EQ(effective_count(metric({.count = 6, .interval = true}), true), 6u);
  EXPECT_EQ(effective_count(metric({.interval = true}), true), std::nullopt);
  EXPECT_EQ(effective_count(metric({.interval = true}), false), 1u);
}

struct Measured {
  MP phase;
  std::string message;
};

TEST(JudgeMetric, DecidingDetailIsTheNewestOfThePhase) {
  const std::vector<Measured> ms{
      {MP::Failed, "f1"}, {MP::Successful, "s1"}, {MP::Failed, "f2"}, {MP::Successful, "s2"}};
  EXPECT_EQ(deciding_detail(ms, MetricPhase::Failed), "f2");
  EXPECT_EQ(deciding_detail(ms, MetricPhase::Successful), "s2");
  EXPECT_EQ(deciding_detail(ms, MetricPhase::Inconclusive), "s2");  // none: the newest
  EXPECT_EQ(deciding_detail(std::vector<Measured>{}, MetricPhase::Failed), "");
}

/// The whole path of SPEC §6's example: conditions, measurements, counts, limits, message.
TEST(JudgeMetric, FromValuesToTheSpecMessage) {
  const config::Metric spec = metric({.count = 6, .interval = true, .failure = 1});
  const Expression success = parse("result >= 0.99");
  MetricCounts counts;
  std::vector<Measured> measurements;
  MetricVerdict verdict;
  for (const double v : {0.995, 0.8, 0.999, 0.71}) {
    const MeasurementVerdict m = judge_value(&success, nullptr, Value::number(v), {});
    counts.add(m.phase);
    measurements.push_back({m.phase, m.message});
    verdict = assess_metric(counts, spec, false);
    if (verdict.phase != MetricPhase::Running) break;
  }
  ASSERT_EQ(verdict.phase, MetricPhase::Failed);
  EXPECT_EQ(metric_message("success-rate", verdict, deciding_detail(measurements, verdict.phase)),
            R"(metric "success-rate" Failed: result 0.71 did not meet "result >= 0.99" )"
            "(failed 2 > failureLimit 1)");
}

MetricResult result(std::string name, MetricPhase phase, bool dry_run = false,
                    uint32_t measured = 1) {
  MetricResult m;
  m.name = std::move(name);
  m.phase = phase;
  m.dry_run = dry_run;
  m.counts.successful = measured;
  m.message = "metric \"" + m.name + "\" " + std::string(to_string(phase));
  return m;
}

/// Metrics from a compact notation, one letter each in order: S F I E (decided), R (running,
/// measured), P (running, nothing measured yet); a leading `d` marks a dry-run metric.
std::vector<MetricResult> metrics(std::string_view spec) {
  std::vector<MetricResult> out;
  bool dry_run = false;
  for (const char c : spec) {
    if (c == ' ') continue;
    if (c == 'd') {
      dry_run = true;
      continue;
    }
    const MetricPhase phase = c == 'S'   ? MetricPhase::Successful
                              : c == 'F' ? MetricPhase::Failed
                              : c == 'I' ? MetricPhase::Inconclusive
                              : c == 'E' ? MetricPhase::Error
                                         : MetricPhase::Running;
    out.push_back(result(std::string(1, static_cast<char>('a' + out.size())), phase, dry_run,
                         c == 'P' ? 0 : 1));
    dry_run = false;
  }
  return out;
}

TEST(JudgeRun, WorstNonDryRunMetricDecides) {
  struct Case {
    std::string_view metrics;
    RunPhase phase;
    std::optional<size_t> decided_by;
  };
  const Case cases[] = {
      {"", RunPhase::Successful, std::nullopt},
      {"P", RunPhase::Pending, std::nullopt},  // nothing measured yet (initialDelay)
      {"P P", RunPhase::Pending, std::nullopt},
      {"R", RunPhase::Running, std::nullopt},
      {"S P", RunPhase::Running, std::nullopt},
      {"S S", RunPhase::Successful, std::nullopt},
      // a bad metric stops the run at once, others still running
      {"R F", RunPhase::Failed, 1},
      {"I R", RunPhase::Inconclusive, 0},
      {"E P", RunPhase::Error, 0},
      // the worst: Failed > Error > Inconclusive; the first on a tie
      {"I E", RunPhase::Error, 1},
      {"E F", RunPhase::Failed, 1},
      {"I F E", RunPhase::Failed, 1},
      {"F F", RunPhase::Failed, 0},
      // dry-run metrics never decide, but the run waits for them (SPEC: "every metric")
      {"dF S", RunPhase::Successful, std::nullopt},
      {"dF R", RunPhase::Running, std::nullopt},
      {"S dR", RunPhase::Running, std::nullopt},
      {"dE I", RunPhase::Inconclusive, 1},
      {"dF", RunPhase::Successful, std::nullopt},
      {"dF dE", RunPhase::Successful, std::nullopt},
  };
  for (const Case& c : cases) {
    const std::vector<MetricResult> ms = metrics(c.metrics);
    const RunVerdict v = judge_run(ms);
    EXPECT_EQ(v.phase, c.phase) << c.metrics;
    EXPECT_EQ(v.decided_by, c.decided_by) << c.metrics;
    if (v.decided_by) {
      EXPECT_EQ(v.message, ms[*v.decided_by].message);
    }
    EXPECT_EQ(v.finished(), v.phase != RunPhase::Running && v.phase != RunPhase::Pending);
  }
}

TEST(JudgeRun, SuccessfulRunNamesDryRunMetricsThatDidNotSucceed) {
  const std::vector<MetricResult> ms{result("a", MetricPhase::Failed, true),
                                     result("b", MetricPhase::Successful),
                                     result("c", MetricPhase::Error, true)};
  const RunVerdict v = judge_run(ms);
  EXPECT_EQ(v.phase, RunPhase::Successful);
  EXPECT_EQ(v.message, R"(dry-run metric "a" Failed; dry-run metric "c" Error)");
  EXPECT_EQ(judge_run(std::vector{result("b", MetricPhase::Successful)}).message, "");
}

TEST(TerminateRun, UnfinishedMetricsEndSuccessful) {
  std::vector<MetricResult> ms{result("a", MetricPhase::Running),
                               result("b", MetricPhase::Successful),
                               result("c", MetricPhase::Running, true, 0)};
  RunVerdict v = terminate_run(ms);
  EXPECT_EQ(v.phase, RunPhase::Successful);
  EXPECT_EQ(ms[0].phase, MetricPhase::Successful);
  EXPECT_EQ(ms[0].message, R"(metric "a" Successful: terminated)");
  EXPECT_EQ(ms[2].phase, MetricPhase::Successful);
  EXPECT_EQ(ms[1].message, R"(metric "b" Successful)");  // decided metrics are left alone

  // A run stopped by its Failed metric: the others end Successful, the run stays Failed.
  ms = {result("a", MetricPhase::Running), result("b", MetricPhase::Failed),
        result("c", MetricPhase::Inconclusive)};
  v = terminate_run(ms);
  EXPECT_EQ(v.phase, RunPhase::Failed);
  EXPECT_EQ(v.decided_by, 1u);
  EXPECT_EQ(ms[0].phase, MetricPhase::Successful);
  EXPECT_EQ(ms[2].phase, MetricPhase::Inconclusive);
}

TEST(NextMeasurementDue, InitialDelayIntervalAndErrorRetry) {
  const WallTime start = WallTime{} + seconds(1'700'000'000);
  const WallTime last = start + seconds(100);
  config::Metric spec = metric({.count = 6, .interval = true});  // interval 10 s
  spec.initial_delay = config::Duration{5'000};
  config::Metric once = metric({});
  struct Case {
    const config::Metric* spec;
    MetricPhase phase;
    std::optional<LastMeasurement> last;
    std::optional<WallTime> expected;
  };
  const Case cases[] = {
      {&spec, MetricPhase::Running, std::nullopt, start + seconds(5)},
      {&once, MetricPhase::Running, std::nullopt, start},
      {&spec, MetricPhase::Running, LastMeasurement{MP::Successful, last}, last + seconds(10)},
      {&spec, MetricPhase::Running, LastMeasurement{MP::Failed, last}, last + seconds(10)},
      {&spec, MetricPhase::Running, LastMeasurement{MP::Error, last}, last + kErrorRetry},
      {&once, MetricPhase::Running, LastMeasurement{MP::Error, last}, last + seconds(10)},
      {&once, MetricPhase::Running, LastMeasurement{MP::Successful, last}, last},
      {&spec, MetricPhase::Successful, LastMeasurement{MP::Successful, last}, std::nullopt},
      {&spec, MetricPhase::Failed, std::nullopt, std::nullopt},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    const Case& c = cases[i];
    EXPECT_EQ(next_measurement_due(*c.spec, c.phase, start, c.last), c.expected) << "case " << i;
  }
  config::Metric minute = metric({.count = 6, .interval = true});
  minute.interval = config::Duration{60'000};
  EXPECT_EQ(
      next_measurement_due(minute, MetricPhase::Running, start, LastMeasurement{MP::Error, last}),
      last + seconds(10));  // errors retry sooner than the interval
  EXPECT_EQ(kErrorRetry, seconds(10));
}

TEST(Retention, LimitsAndDryRunFromTheTemplate) {
  config::AnalysisTemplate t;
  t.metrics = {metric({}), metric({})};
  t.metrics[1].name = "latency";
  t.measurement_retention = {{"success-rate", 20}, {"ignored", 0}};
  t.dry_run = {"latency"};
  EXPECT_EQ(measurement_retention(t, "success-rate"), 20u);
  EXPECT_EQ(measurement_retention(t, "latency"), kDefaultMeasurementRetention);
  EXPECT_EQ(measurement_retention(t, "ignored"), 10u);  // 0: the default, as Argo
  EXPECT_TRUE(is_dry_run(t, "latency"));
  EXPECT_FALSE(is_dry_run(t, "success-rate"));
}

TEST(Retention, KeepsTheNewest) {
  std::vector<int> v;
  for (int i = 1; i <= 15; ++i) v.push_back(i);
  retain_newest(v, 10);
  EXPECT_EQ(v, (std::vector<int>{6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
  retain_newest(v, 20);
  EXPECT_EQ(v.size(), 10u);
  std::deque<int> d{1, 2, 3};
  retain_newest(d, 1);
  EXPECT_EQ(d, (std::deque<int>{3}));
  retain_newest(d, 0);
  EXPECT_TRUE(d.empty());
}

TEST(PhaseNames, MatchRunJson) {
  EXPECT_EQ(to_string(MP::Inconclusive), "Inconclusive");
  EXPECT_EQ(to_string(MetricPhase::Running), "Running");
  EXPECT_EQ(to_string(RunPhase::Pending), "Pending");
  EXPECT_EQ(to_string(RunPhase::Error), "Error");
}

}  // namespace
}  // namespace vane::analysis
