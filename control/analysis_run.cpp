#include "control/analysis_run.hpp"

#include <boost/json/array.hpp>
#include <utility>

namespace vane::control {
namespace {

using analysis::WallTime;
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
  std::string out = analysis::substitute_args(text, args, &why);
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

bool parse_condition(const std::string& text, std::optional<analysis::Expression>& out,
                     const std::string& field, std::string* error) {
  if (text.empty()) return true;
  std::string why;
  auto parsed = analysis::Expression::parse(text, &why);
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
  return parse_condition(s.success_condition, m.success, what + "successCondition", error) &&
         parse_condition(s.failure_condition, m.failure, what + "failureCondition", error);
}

std::vector<analysis::MetricResult> results_of(const AnalysisRun& run) {
  std::vector<analysis::MetricResult> results;
  results.reserve(run.metrics.size());
  for (const RunMetric& m : run.metrics) results.push_back(m.result);
  return results;
}

void write_back(AnalysisRun& run, const std::vector<analysis::MetricResult>& results) {
  for (size_t i = 0; i < results.size(); ++i) {
    run.metrics[i].result.phase = results[i].phase;
    run.metrics[i].result.message = results[i].message;
  }
}

boost::json::value time_json(const std::optional<WallTime>& time) {
  if (!time) return nullptr;
  return boost::json::string(rollout::format_time(*time));
}

boost::json::object to_json(const Measurement& m) {
  return {{"phase", std::string(analysis::to_string(m.phase))},
          {"value", m.value},
          {"startedAt", time_json(m.started_at)},
          {"finishedAt", time_json(m.finished_at)},
          {"message", m.message}};
}

boost::json::object to_json(const RunMetric& m) {
  boost::json::array measurements;
  for (const Measurement& measurement : m.measurements) {
    measurements.push_back(to_json(measurement));
  }
  const analysis::MetricCounts& c = m.result.counts;
  return {{"name", m.result.name},
          {"phase", std::string(analysis::to_string(m.result.phase))},
          {"message", m.result.message},
          {"dryRun", m.result.dry_run},
          {"successful", static_cast<int64_t>(c.successful)},
          {"failed", static_cast<int64_t>(c.failed)},
          {"inconclusive", static_cast<int64_t>(c.inconclusive)},
          {"error", static_cast<int64_t>(c.error)},
          {"measurements", std::move(measurements)}};
}

}  // namespace

const config::AnalysisSpec* analysis_spec(const config::Rollout& r, rollout::AnalysisKind kind,
                                          uint32_t step) {
  switch (kind) {
    case rollout::AnalysisKind::Step:
      if (!r.canary || step >= r.canary->steps.size()) return nullptr;
      if (r.canary->steps[step].kind != config::Step::Kind::Analysis) return nullptr;
      return &r.canary->steps[step].analysis;
    case rollout::AnalysisKind::Background:
      return r.canary && r.canary->analysis ? &*r.canary->analysis : nullptr;
    case rollout::AnalysisKind::PrePromotion:
      return r.blue_green && r.blue_green->pre_promotion_analysis
                 ? &*r.blue_green->pre_promotion_analysis
                 : nullptr;
    case rollout::AnalysisKind::PostPromotion:
      return r.blue_green && r.blue_green->post_promotion_analysis
                 ? &*r.blue_green->post_promotion_analysis
                 : nullptr;
  }
  return nullptr;
}

std::string kind_label(rollout::AnalysisKind kind, uint32_t step) {
  switch (kind) {
    case rollout::AnalysisKind::Step: return "step" + std::to_string(step);
    case rollout::AnalysisKind::Background: return "background";
    case rollout::AnalysisKind::PrePromotion: return "prepromotion";
    case rollout::AnalysisKind::PostPromotion: return "postpromotion";
  }
  return "run";
}

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
      m.result.dry_run = analysis::is_dry_run(*t, metric.name);
      m.retention = analysis::measurement_retention(*t, metric.name);
      if (!prepare_metric(m, *args, &error)) break;
    }
    if (!error.empty()) break;
  }
  if (!error.empty()) {
    run.metrics.clear();
    run.phase = analysis::RunPhase::Error;
    run.message = std::move(error);
    run.finished_at = now;
  }
  return run;
}

std::optional<WallTime> next_due(const AnalysisRun& run) {
  std::optional<WallTime> earliest;
  for (const RunMetric& m : run.metrics) {
    const auto due = analysis::next_measurement_due(m.spec, m.result.phase, run.started_at, m.last);
    if (due && (!earliest || *due < *earliest)) earliest = due;
  }
  return earliest;
}

std::vector<size_t> due_metrics(const AnalysisRun& run, WallTime now) {
  std::vector<size_t> due;
  for (size_t i = 0; i < run.metrics.size(); ++i) {
    const RunMetric& m = run.metrics[i];
    const auto at = analysis::next_measurement_due(m.spec, m.result.phase, run.started_at, m.last);
    if (at && *at <= now) due.push_back(i);
  }
  return due;
}

void record(RunMetric& metric, Measurement measurement, bool background) {
  metric.result.counts.add(measurement.phase);
  metric.last = analysis::LastMeasurement{measurement.phase, measurement.finished_at};
  metric.measurements.push_back(std::move(measurement));
  analysis::retain_newest(metric.measurements, metric.retention);
  const auto verdict = analysis::assess_metric(metric.result.counts, metric.spec, background);
  metric.result.phase = verdict.phase;
  metric.result.message.clear();
  if (verdict.phase != analysis::MetricPhase::Running) {
    metric.result.message = analysis::metric_message(
        metric.result.name, verdict, analysis::deciding_detail(metric.measurements, verdict.phase));
  }
}

bool judge(AnalysisRun& run, WallTime now) {
  if (run.finished()) return true;
  auto results = results_of(run);
  auto verdict = analysis::judge_run(results);
  if (verdict.finished()) verdict = analysis::terminate_run(results);  // stops the others
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
  auto verdict = analysis::terminate_run(results);
  write_back(run, results);
  run.phase = verdict.phase;
  run.message = "terminated by the rollout";
  if (!verdict.message.empty()) run.message += "; " + verdict.message;
  run.terminated = true;
  run.finished_at = now;
}

boost::json::object to_json(const AnalysisRun& run) {
  boost::json::array metrics;
  for (const RunMetric& m : run.metrics) metrics.push_back(to_json(m));
  return {{"name", run.name},
          {"phase", std::string(analysis::to_string(run.phase))},
          {"message", run.message},
          {"terminated", run.terminated},
          {"startedAt", time_json(run.started_at)},
          {"finishedAt", time_json(run.finished_at)},
          {"metrics", std::move(metrics)}};
}

}  // namespace vane::control
