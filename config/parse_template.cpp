// Analysis templates: args, metrics and their providers (builtin, prometheus, web, exec).
#include <algorithm>
#include <array>

#include "config/parse.hpp"

namespace vane::config {
namespace {

constexpr std::array<std::string_view, 8> builtin_metrics{
    "success-rate", "error-rate",   "request-rate", "latency-p50",
    "latency-p90",  "latency-p95",  "latency-p99",  "latency-mean"};

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

/// Reads `key` as a string that must be one of `names`; false when present and not one of them.
template <std::size_t N>
bool get_one_of(Reader& r, MapReader& m, std::string_view key,
                const std::array<std::string_view, N>& names, std::string& out,
                Presence presence = Presence::Optional) {
  const auto v = presence == Presence::Required ? m.require(key) : m.take(key);
  if (!v) return true;
  const auto text = r.string(*v);
  if (!text) return false;
  if (one_of(names, *text)) {
    out = *text;
    return true;
  }
  std::string message = "must be one of ";
  for (const std::string_view name : names) {
    if (name != names.front()) message += ", ";
    message += name;
  }
  r.error(*v, message);
  return false;
}

void get_http_url(Reader& r, MapReader& m, std::string_view key, std::string& out) {
  const auto v = m.require(key);
  const auto text = v ? r.string(*v) : std::nullopt;
  if (!text) return;
  // A URL that starts with an argument is checked once substituted (a bad one is an Error
  // measurement then), as Argo does.
  if (!text->starts_with("http://") && !text->starts_with("https://") && !text->starts_with("{{")) {
    r.error(*v, "must be an http:// or https:// URL");
    return;
  }
  out = *text;
}

/// `jsonPath` (web, exec): `$...` or Argo's `{$...}`; its syntax is checked unless it holds an arg.
void get_json_path(Reader& r, MapReader& m, std::string& out) {
  const auto v = m.take("jsonPath");
  const auto text = v ? r.string(*v) : std::nullopt;
  if (!text) return;
  if (!text->starts_with('$') && !text->starts_with("{$") && !text->starts_with("{{")) {
    r.error(*v, "must start with '$' (or Argo's '{$')");
    return;
  }
  if (text->find("{{") == std::string::npos) r.check_json_path(*v, *text);
  out = *text;
}

BuiltinProvider parse_builtin(Reader& r, const Value& v) {
  MapReader m(r, v);
  BuiltinProvider p;
  get_one_of(r, m, "metric", builtin_metrics, p.metric, Presence::Required);
  m.get_duration("window", p.window);
  m.get("minRequests", p.min_requests, Range::at_least(1));
  if (const auto target = m.take("target")) {
    const auto text = r.string(*target);
    if (!text) return p;
    const bool experiment = text->starts_with("experiment:") && text->size() > 11;
    if (!experiment && *text != "canary" && *text != "stable" && *text != "mirror") {
      r.error(*target, "must be one of canary, stable, mirror, experiment:NAME");
      return p;
    }
    p.target = *text;
    p.target_given = true;
  }
  return p;
}

PrometheusProvider parse_prometheus(Reader& r, const Value& v) {
  MapReader m(r, v);
  PrometheusProvider p;
  get_http_url(r, m, "address", p.address);
  m.get("query", p.query, Presence::Required);
  m.get("timeout", p.timeout_seconds, Range::at_least(1));
  parse_headers(r, m, p.headers);
  return p;
}

WebProvider parse_web(Reader& r, const Value& v) {
  MapReader m(r, v);
  WebProvider p;
  get_http_url(r, m, "url", p.url);
  const bool method_ok =
      get_one_of(r, m, "method", std::array<std::string_view, 3>{"GET", "POST", "PUT"}, p.method);
  parse_headers(r, m, p.headers);
  const auto body = m.take("body");
  if (body && r.string(*body)) p.body = body->node->scalar;
  if (body && method_ok && p.method == "GET") {
    r.error(*body, "a GET request has no body; use POST or PUT");
  }
  m.get("timeoutSeconds", p.timeout_seconds, Range::at_least(1));
  get_json_path(r, m, p.json_path);
  return p;
}

ExecProvider parse_exec(Reader& r, const Value& v) {
  MapReader m(r, v);
  ExecProvider p;
  if (const auto command = m.require("command")) {
    for (const Value& item : r.list(*command, Presence::Required)) {
      if (const auto word = r.string(item)) p.command.push_back(*word);
    }
    if (!p.command.empty() && p.command.front().empty()) {
      r.error_at(index_path(command->path, 0), command->mark, "the program must not be empty");
    }
  }
  m.get("timeoutSeconds", p.timeout_seconds, Range::at_least(1));
  get_json_path(r, m, p.json_path);
  return p;
}

void parse_provider(Reader& r, const Value& v, Metric& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  const auto builtin = m.take("builtin");
  const auto prometheus = m.take("prometheus");
  const auto web = m.take("web");
  const auto exec = m.take("exec");
  const int count = int{builtin.has_value()} + int{prometheus.has_value()} +
                    int{web.has_value()} + int{exec.has_value()};
  if (count != 1) {
    r.error(v, "needs exactly one of builtin, prometheus, web or exec");
    return;
  }
  if (builtin) out.builtin = parse_builtin(r, *builtin);
  if (prometheus) out.prometheus = parse_prometheus(r, *prometheus);
  if (web) out.web = parse_web(r, *web);
  if (exec) out.exec = parse_exec(r, *exec);
}

void get_condition(Reader& r, MapReader& m, std::string_view key, std::string& out, Mark& mark) {
  const auto v = m.take(key);
  if (!v || !r.string(*v)) return;
  out = v->node->scalar;
  mark = v->mark;
  r.check_condition(*v, out);
}

bool parse_metric(Reader& r, const Value& v, Metric& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  m.get_duration("interval", out.interval);
  m.get_duration("initialDelay", out.initial_delay, true);
  m.get("count", out.count, Range::at_least(1));
  get_condition(r, m, "successCondition", out.success_condition, out.success_condition_mark);
  get_condition(r, m, "failureCondition", out.failure_condition, out.failure_condition_mark);
  const bool has_failure_limit = m.get("failureLimit", out.failure_limit, Range::at_least(-1));
  m.get("inconclusiveLimit", out.inconclusive_limit, Range::at_least(0));
  m.get("consecutiveErrorLimit", out.consecutive_error_limit, Range::at_least(0));
  m.get("consecutiveSuccessLimit", out.consecutive_success_limit, Range::at_least(0));
  if (const auto provider = m.require("provider")) parse_provider(r, *provider, out);

  if (out.count && *out.count > 1 && !out.interval) {
    r.error_at(join_path(v.path, "count"), v.mark, "a count above 1 needs an interval");
  }
  if (has_failure_limit && out.failure_limit == -1 && out.consecutive_success_limit <= 0) {
    r.error_at(join_path(v.path, "failureLimit"), v.mark,
               "-1 (never fail) needs consecutiveSuccessLimit > 0");
  }
  return true;
}

/// A `[{metricName: X, ...}]` entry; returns the metric name (empty when missing).
std::string take_metric_name(MapReader& m) {
  std::string name;
  m.get("metricName", name, Presence::Required);
  return name;
}

bool parse_template(Reader& r, const Value& v, AnalysisTemplate& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  if (const auto args = m.take("args")) {
    for (const Value& item : r.list(*args)) parse_arg(r, item, Presence::Optional, out.args);
  }
  if (const auto metrics = m.require("metrics")) {
    for (const Value& item : r.list(*metrics, Presence::Required)) {
      Metric metric;
      if (parse_metric(r, item, metric)) out.metrics.push_back(std::move(metric));
    }
  }
  if (const auto dry_run = m.take("dryRun")) {
    for (const Value& item : r.list(*dry_run)) {
      MapReader entry(r, item);
      if (entry.valid()) out.dry_run.push_back(take_metric_name(entry));
    }
  }
  if (const auto retention = m.take("measurementRetention")) {
    for (const Value& item : r.list(*retention)) {
      MapReader entry(r, item);
      if (!entry.valid()) continue;
      MeasurementRetention& kept = out.measurement_retention.emplace_back();
      kept.metric_name = take_metric_name(entry);
      entry.get("limit", kept.limit, Range::at_least(1), Presence::Required);
    }
  }
  return true;
}

}  // namespace

void parse_analysis_templates(Reader& r, const Value& v, std::vector<AnalysisTemplate>& out) {
  for (const Value& item : r.list(v)) {
    AnalysisTemplate t;
    if (parse_template(r, item, t)) out.push_back(std::move(t));
  }
}

}  // namespace vane::config
