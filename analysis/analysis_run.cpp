#include "analysis/analysis_run.hpp"

#include <utility>

namespace vane::analysis {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

/// The template's args: given by the spec, else the template's default; nullopt and *error when
/// one has neither.
std::optional<Args> resolve_args(const config::AnalysisTemplate& t,
                                 const config::AnalysisSpec& spec, std::string* error) {
  Args args;
  for (const config::Arg& arg : t.args) {
    std::optional<std::string> value = arg.value;
    for (const config::Arg& given : spec.args) {
      if (given.name == arg.name && given.value) value = given.value;
    }
    if (!value) {
      *error = "template " + quoted(t.name) + " needs arg " + quoted(arg.name) +
               ": no value given";
      return std::nullopt;
    }
    args.emplace_back(arg.name, *value);
  }
  return args;
}

bool substitute(std::string& text, const Args& args, const std::string& field,
                std::string* error) {
  if (text.find("{{") == std::string::npos) return true;
  std::string why;
  std::string out = substitute_args(text, args, &why);
  if (!why.empty()) {
    *error = field + ": " + why;
    return false;
  }
  text = std::move(out);
  return true;
}

bool substitute_headers(std::vector<config::KeyValue>& headers, const Args& args,
                        const std::string& field, std::string* error) {
  for (config::KeyValue& header : headers) {
    if (!substitute(header.value, args, field + " " + quoted(header.key), error)) return false;
  }
  return true;
}

bool parse_condition(const std::string& text, std::optional<Expression>& out,
                     const std::string& field, std::string* error) {
  if (text.empty()) return true;
  std::string why;
  auto parsed = Expression::parse(text, &why);
  if (!parsed) {
    *error = field + " " + quoted(text) + ": " + why;
    return false;
  }
  out = std::move(*parsed);
  return true;
}

/// Substitutes the metric's placeholders and parses its conditions.
bool prepare_metric(RunMetric& m, const Args& args, std::string* error) {
  config::Metric& s = m.spec;
  const std::string what = "metric " + quoted(s.name) + " ";
  if (!substitute(s.success_condition, args, what + "successCondition", error) ||
      !substitute(s.failure_condition, args, what + "failureCondition", error)) {
    return false;
  }
  if (auto& p = s.prometheus) {
    const std::string at = what + "prometheus ";
    if (!substitute(p->address, args, at + "address", error) ||
        !substitute(p->query, args, at + "query", error) ||
        !substitute_headers(p->headers, args, at + "header", error)) {
      return false;
    }
  }
  if (auto& w = s.web) {
    const std::string at = what + "web ";
    if (!substitute(w->url, args, at + "url", error) ||
        !substitute(w->body, args, at + "body", error) ||
        !substitute(w->json_path, args, at + "jsonPath", error) ||
        !substitute_headers(w->headers, args, at + "header", error)) {
      return false;
    }
  }
  if (auto& x = s.exec) {
    const std::string at = what + "exec ";
    for (std::string& word : x->command) {
      if (!substitute(word, args, at + "command", error)) return false;
    }
    if (!substitute(x->json_path, args, at + "jsonPath", error)) return false;
  }
  return parse_condition(s.success_condition, m.success, what + "successCondition", error) &&
         parse_condition(s.failure_condition, m.failure, what + "failureCondition", error);
}

std::vector<MetricResult> results_of(const AnalysisRun& run) {
  std::vector<MetricResult> results;
  results.reserve(run.metrics.size());
  for (const RunMetric& m : run.metrics) results.push_back(m.result);
  return results;
}

void write_back(AnalysisRun& run, const std::vector<MetricResult>& results) {
  for (size_t i = 0; i < results.size(); ++i) {
    run.metrics[i].result.phase = results[i].phase;
    run.metrics[i].result.message = results[i].message;
  }
}

}  // namespace

AnalysisRun prepare_run(const config::Config& config, const config::AnalysisSpec& spec,
                        bool background, WallTime now) {
  AnalysisRun run;
  run.background = background;
  run.started_at = now;
  std::string error;
  for (const config::AnalysisTemplateRef& ref : spec.templates) {
    const config::AnalysisTemplate* t = config.find_template(ref.template_name);
    if (!t) {
      error = "unknown analysis template " + quoted(ref.template_name);
      break;
    }
    const auto args = resolve_args(*t, spec, &error);
    if (!args) break;
    for (const config::Metric& metric : t->metrics) {
      RunMetric& m = run.metrics.emplace_back();
      m.spec = metric;
      m.result.name = metric.name;
      m.result.dry_run = is_dry_run(*t, metric.name);
      m.retention = measurement_retention(*t, metric.name);
      if (!prepare_metric(m, *args, &error)) break;
    }
    if (!error.empty()) break;
  }
  if (!error.empty()) {
    run.metrics.clear();
    run.phase = RunPhase::Error;
    run.message = std::move(error);
    run.finished_at = now;
  }
  return run;
}

std::optional<WallTime> next_due(const AnalysisRun& run) {
  std::optional<WallTime> earliest;
  for (const RunMetric& m : run.metrics) {
    const auto due = next_measurement_due(m.spec, m.result.phase, run.started_at, m.last);
    if (due && (!earliest || *due < *earliest)) earliest = due;
  }
  return earliest;
}

std::vector<size_t> due_metrics(const AnalysisRun& run, WallTime now) {
  std::vector<size_t> due;
  for (size_t i = 0; i < run.metrics.size(); ++i) {
    const RunMetric& m = run.metrics[i];
    const auto at = next_measurement_due(m.spec, m.result.phase, run.started_at, m.last);
    if (at && *at <= now) due.push_back(i);
  }
  return due;
}

Measurement judge_sample(const RunMetric& metric, const Sample& sample) {
  Measurement m;
  if (!sample.error.empty()) {
    m.phase = MeasurementPhase::Error;
    m.message = sample.error;
    return m;
  }
  m.value = to_text(sample.value);
  if (!sample.failed.empty()) {
    m.phase = MeasurementPhase::Failed;
    m.message = sample.failed;
    return m;
  }
  if (!sample.inconclusive.empty()) {
    m.phase = MeasurementPhase::Inconclusive;
    m.message = "result " + to_short_text(sample.value) + ": " + sample.inconclusive;
    return m;
  }
  auto verdict = judge_value(metric.success ? &*metric.success : nullptr,
                             metric.failure ? &*metric.failure : nullptr, sample.value,
                             sample.baseline);
  m.phase = verdict.phase;
  m.message = std::move(verdict.message);
  return m;
}

void record(RunMetric& metric, Measurement measurement, bool background) {
  metric.result.counts.add(measurement.phase);
  metric.last = LastMeasurement{measurement.phase, measurement.finished_at};
  metric.measurements.push_back(std::move(measurement));
  retain_newest(metric.measurements, metric.retention);
  const auto verdict = assess_metric(metric.result.counts, metric.spec, background);
  metric.result.phase = verdict.phase;
  metric.result.message.clear();
  if (verdict.phase != MetricPhase::Running) {
    metric.result.message = metric_message(
        metric.result.name, verdict, deciding_detail(metric.measurements, verdict.phase));
  }
}

bool judge(AnalysisRun& run, WallTime now) {
  if (run.finished()) return true;
  auto results = results_of(run);
  auto verdict = judge_run(results);
  if (verdict.finished()) verdict = terminate_run(results);  // stops the others
  run.phase = verdict.phase;
  if (!verdict.finished()) return false;
  write_back(run, results);
  run.message = std::move(verdict.message);
  run.finished_at = now;
  return true;
}

void terminate_by_rollout(AnalysisRun& run, WallTime now) {
  if (run.finished()) return;
  auto results = results_of(run);
  auto verdict = terminate_run(results);
  write_back(run, results);
  run.phase = verdict.phase;
  run.message = "terminated by the rollout";
  if (!verdict.message.empty()) run.message += "; " + verdict.message;
  run.terminated = true;
  run.finished_at = now;
}

}  // namespace vane::analysis
