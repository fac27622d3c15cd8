#include "analysis/judge.hpp"

#include <algorithm>

namespace vane::analysis {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// "result 0.71" or, when a condition reads it, "result 0.71 (baseline 0.98)".
std::string subject(const Value& result, const Value& baseline, bool with_baseline) {
  std::string s = "result " + to_short_text(result);
  if (with_baseline) s += " (baseline " + to_short_text(baseline) + ")";
  return s;
}

std::string limit_reason(std::string_view what, uint32_t value, std::string_view limit_name,
                         int32_t limit) {
  return std::string(what) + " " + std::to_string(value) + " > " + std::string(limit_name) + " " +
         std::to_string(limit);
}

/// A limit is broken when it is not negative (negative: never) and the value exceeds it.
bool exceeds(uint32_t value, int32_t limit) {
  return limit >= 0 && value > static_cast<uint32_t>(limit);
}

int severity(MetricPhase phase) {
  switch (phase) {
    case MetricPhase::Failed: return 3;
    case MetricPhase::Error: return 2;
    case MetricPhase::Inconclusive: return 1;
    default: return 0;
  }
}

RunPhase run_phase(MetricPhase phase) {
  switch (phase) {
    case MetricPhase::Failed: return RunPhase::Failed;
    case MetricPhase::Error: return RunPhase::Error;
    case MetricPhase::Inconclusive: return RunPhase::Inconclusive;
    case MetricPhase::Successful: return RunPhase::Successful;
    case MetricPhase::Running: return RunPhase::Running;
  }
  return RunPhase::Running;
}

}  // namespace

std::string_view to_string(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::Successful: return "Successful";
    case MeasurementPhase::Failed: return "Failed";
    case MeasurementPhase::Inconclusive: return "Inconclusive";
    case MeasurementPhase::Error: return "Error";
  }
  return "Error";
}

std::string_view to_string(MetricPhase phase) {
  switch (phase) {
    case MetricPhase::Running: return "Running";
    case MetricPhase::Successful: return "Successful";
    case MetricPhase::Failed: return "Failed";
    case MetricPhase::Inconclusive: return "Inconclusive";
    case MetricPhase::Error: return "Error";
  }
  return "Error";
}

std::string_view to_string(RunPhase phase) {
  switch (phase) {
    case RunPhase::Pending: return "Pending";
    case RunPhase::Running: return "Running";
    case RunPhase::Successful: return "Successful";
    case RunPhase::Failed: return "Failed";
    case RunPhase::Error: return "Error";
    case RunPhase::Inconclusive: return "Inconclusive";
  }
  return "Error";
}

MeasurementPhase judge_measurement(bool has_success, bool success_true, bool has_failure,
                                   bool failure_true) {
  if (has_failure && failure_true) return MeasurementPhase::Failed;
  if (has_success && has_failure) {
    return success_true ? MeasurementPhase::Successful : MeasurementPhase::Inconclusive;
  }
  if (has_success && !success_true) return MeasurementPhase::Failed;
  return MeasurementPhase::Successful;  // success true, failure false, or no condition
}

MeasurementVerdict judge_value(const Expression* success, const Expression* failure,
                               const Value& result, const Value& baseline) {
  const bool with_baseline =
      (success && success->uses_baseline()) || (failure && failure->uses_baseline());
  const std::string who = subject(result, baseline, with_baseline);
  std::optional<MeasurementVerdict> error;
  const auto evaluate = [&](const Expression* e) {
    if (!e || error) return false;
    const EvalResult r = e->eval(result, baseline);
    if (!r.ok()) {
      error = {MeasurementPhase::Error,
               who + ": cannot evaluate " + quoted(e->text()) + ": " + r.error()};
    }
    return r.value();
  };
  const bool s = evaluate(success);
  const bool f = evaluate(failure);
  if (error) return std::move(*error);
  const MeasurementPhase phase = judge_measurement(success != nullptr, s, failure != nullptr, f);
  const std::string success_text = success ? quoted(success->text()) : "";
  const std::string failure_text = failure ? "failureCondition " + quoted(failure->text()) : "";
  std::string message;
  if (!success && !failure) {
    message = who + " (no condition)";
  } else if (failure && f) {
    message = who + " met " + failure_text;
  } else if (success && s) {
    message = who + " met " + success_text;
  } else if (!failure) {
    message = who + " did not meet " + success_text;
  } else if (!success) {
    message = who + " did not meet " + failure_text;
  } else {
    message = who + " met neither " + success_text + " nor " + failure_text;
  }
  return {phase, std::move(message)};
}

void MetricCounts::add(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::Successful:
      ++successful;
      ++consecutive_successful;
      consecutive_error = 0;
      break;
    case MeasurementPhase::Failed:
      ++failed;
      consecutive_successful = 0;
      consecutive_error = 0;
      break;
    case MeasurementPhase::Inconclusive:
      ++inconclusive;
      consecutive_successful = 0;
      consecutive_error = 0;
      break;
    case MeasurementPhase::Error:
      ++error;
      ++consecutive_error;
      consecutive_successful = 0;  // an Error breaks "in a row"
      break;
  }
}

std::optional<uint32_t> effective_count(const config::Metric& spec, bool background) {
  if (spec.count && *spec.count > 0) return *spec.count;
  if (spec.interval && background) return std::nullopt;
  return 1;
}

MetricVerdict assess_metric(const MetricCounts& counts, const config::Metric& spec, bool background,
                            bool terminating) {
  // Several broken limits: Error over Inconclusive over Failed (SPEC §5, as Argo).
  if (exceeds(counts.consecutive_error, spec.consecutive_error_limit)) {
    return {MetricPhase::Error,
            limit_reason("consecutive errors", counts.consecutive_error, "consecutiveErrorLimit",
                         spec.consecutive_error_limit)};
  }
  if (exceeds(counts.inconclusive, spec.inconclusive_limit)) {
    return {MetricPhase::Inconclusive, limit_reason("inconclusive", counts.inconclusive,
                                                    "inconclusiveLimit", spec.inconclusive_limit)};
  }
  if (exceeds(counts.failed, spec.failure_limit)) {
    return {MetricPhase::Failed,
            limit_reason("failed", counts.failed, "failureLimit", spec.failure_limit)};
  }
  const int32_t streak = spec.consecutive_success_limit;
  if (streak > 0 && counts.consecutive_successful >= static_cast<uint32_t>(streak)) {
    return {MetricPhase::Successful, std::to_string(counts.consecutive_successful) +
                                         " Successful in a row (consecutiveSuccessLimit " +
                                         std::to_string(streak) + ")"};
  }
  const auto count = effective_count(spec, background);
  if (count && counts.counted() >= *count) {
    const std::string reached = "count " + std::to_string(*count) + " reached";
    if (streak <= 0) return {MetricPhase::Successful, reached};
    return {spec.failure_limit < 0 ? MetricPhase::Failed : MetricPhase::Inconclusive,
            reached + " before " + std::to_string(streak) + " Successful in a row" +
                " (consecutiveSuccessLimit " + std::to_string(streak) + ")"};
  }
  if (terminating) return {MetricPhase::Successful, "terminated"};
  return {MetricPhase::Running, {}};
}

MetricPhase judge_metric(const MetricCounts& counts, const config::Metric& spec, bool background) {
  return assess_metric(counts, spec, background).phase;
}

std::string metric_message(std::string_view metric, const MetricVerdict& verdict,
                           std::string_view detail) {
  std::string m = "metric " + quoted(metric) + " " + std::string(to_string(verdict.phase));
  if (!detail.empty()) m += ": " + std::string(detail);
  if (!verdict.reason.empty()) m += (detail.empty() ? ": " : " (") + verdict.reason;
  if (!detail.empty() && !verdict.reason.empty()) m += ")";
  return m;
}

RunVerdict judge_run(std::span<const MetricResult> metrics) {
  RunVerdict verdict;
  for (size_t i = 0; i < metrics.size(); ++i) {
    const MetricResult& m = metrics[i];
    if (m.dry_run || severity(m.phase) == 0) continue;
    if (!verdict.decided_by || severity(m.phase) > severity(metrics[*verdict.decided_by].phase)) {
      verdict.decided_by = i;
    }
  }
  if (verdict.decided_by) {
    const MetricResult& m = metrics[*verdict.decided_by];
    verdict.phase = run_phase(m.phase);
    verdict.message = m.message;
    return verdict;
  }
  const auto running = [](const MetricResult& m) { return m.phase == MetricPhase::Running; };
  if (std::any_of(metrics.begin(), metrics.end(), running)) {
    const bool measured = std::any_of(metrics.begin(), metrics.end(),
                                      [](const MetricResult& m) { return m.counts.total() > 0; });
    verdict.phase = measured ? RunPhase::Running : RunPhase::Pending;
    return verdict;
  }
  verdict.phase = RunPhase::Successful;
  for (const MetricResult& m : metrics) {
    if (m.phase == MetricPhase::Successful) continue;
    if (!verdict.message.empty()) verdict.message += "; ";
    verdict.message += "dry-run " + m.message;
  }
  return verdict;
}

RunVerdict terminate_run(std::vector<MetricResult>& metrics) {
  for (MetricResult& m : metrics) {
    if (m.phase != MetricPhase::Running) continue;
    const MetricVerdict verdict{MetricPhase::Successful, "terminated"};
    m.phase = verdict.phase;
    m.message = metric_message(m.name, verdict, {});
  }
  return judge_run(metrics);
}

std::optional<WallTime> next_measurement_due(const config::Metric& spec, MetricPhase phase,
                                             WallTime run_started,
                                             const std::optional<LastMeasurement>& last) {
  if (phase != MetricPhase::Running) return std::nullopt;
  if (!last) return run_started + spec.initial_delay;
  if (last->phase == MeasurementPhase::Error) return last->finished_at + kErrorRetry;
  return last->finished_at + spec.interval.value_or(config::Duration{0});
}

uint32_t measurement_retention(const config::AnalysisTemplate& t, std::string_view metric) {
  for (const config::MeasurementRetention& r : t.measurement_retention) {
    if (r.metric_name == metric && r.limit > 0) return r.limit;
  }
  return kDefaultMeasurementRetention;
}

bool is_dry_run(const config::AnalysisTemplate& t, std::string_view metric) {
  return std::find(t.dry_run.begin(), t.dry_run.end(), metric) != t.dry_run.end();
}

}  // namespace vane::analysis
