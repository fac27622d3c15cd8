// Canary steps: setWeight, pause, analysis, setHeaderRoute, setMirrorRoute, gate and experiment.
#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <utility>

#include "config/parse.hpp"

namespace vane::config {
namespace {

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// "12.5" -> 1250: a percentage 0..100 with at most two decimals, in hundredths.
std::optional<uint32_t> percent_centi(std::string_view text, std::string& error) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  const bool negative = whole.starts_with('-');
  const std::string_view digits = negative ? whole.substr(1) : whole;
  if (digits.empty() || !all_digits(digits) ||
      (dot != std::string_view::npos && (fraction.empty() || !all_digits(fraction)))) {
    error = "must be a number";
    return std::nullopt;
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || value > 100 || (negative && (value > 0 || !fraction.empty()))) {
    error = "must be between 0 and 100";
    return std::nullopt;
  }
  if (fraction.size() > 2) {
    error = "must have at most two decimals";
    return std::nullopt;
  }
  const std::string hundredths = std::string(fraction) + std::string(2 - fraction.size(), '0');
  const uint32_t centi = value * 100 + static_cast<uint32_t>(std::stoi(hundredths));
  if (centi > 10000) {
    error = "must be between 0 and 100";
    return std::nullopt;
  }
  return centi;
}

std::optional<uint32_t> read_percent_centi(Reader& r, const Value& v) {
  std::string error = "must be a number";
  const auto centi = v.node->plain ? percent_centi(v.node->scalar, error) : std::nullopt;
  if (!centi) r.error(v, error);
  return centi;
}

/// A step's `duration`: integer seconds (Argo's intstr), quoted or not, or a duration string.
void read_step_duration(Reader& r, MapReader& m, std::optional<Duration>& out) {
  const auto duration = m.take("duration");
  if (!duration) return;
  const std::string text = duration->node->is_scalar() ? duration->node->scalar : "";
  // Integer seconds (Argo's intstr), quoted or not; otherwise a duration string.
  if (!text.empty() && all_digits(text)) {
    uint32_t seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{}) r.error(*duration, "is too large");
    if (ec == std::errc{}) out = Duration{int64_t{seconds} * 1000};
    return;
  }
  if (const auto d = r.duration(*duration, true)) out = *d;
}

void parse_pause(Reader& r, const Value& v, PauseStep& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  read_step_duration(r, m, out.duration);
}

void parse_experiment_template(Reader& r, const Value& v, std::vector<ExperimentTemplate>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  ExperimentTemplate t;
  m.get("name", t.name, Presence::Required);
  const auto upstream = m.take("upstream");
  const auto spec_ref = m.take("specRef");
  if (upstream.has_value() == spec_ref.has_value()) {
    r.error(v, "needs exactly one of upstream or specRef");
  } else if (upstream) {
    if (const auto text = r.string(*upstream)) t.upstream = *text;
  } else if (const auto text = r.string(*spec_ref)) {
    if (*text == "stable" || *text == "canary") {
      t.spec_ref = *text;
    } else {
      r.error(*spec_ref, "must be one of stable, canary");
    }
  }
  if (const auto weight = m.require("weight")) {
    if (const auto centi = read_percent_centi(r, *weight)) t.weight_centi = *centi;
  }
  out.push_back(std::move(t));
}

void parse_experiment_analysis(Reader& r, const Value& v, std::vector<ExperimentAnalysis>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  ExperimentAnalysis a;
  a.spec.mark = v.mark;
  m.get("name", a.name, Presence::Required);
  AnalysisTemplateRef ref;
  if (m.get("templateName", ref.template_name, Presence::Required)) a.spec.templates.push_back(ref);
  if (const auto args = m.take("args")) {
    for (const Value& item : r.list(*args)) parse_arg(r, item, Presence::Required, a.spec.args);
  }
  out.push_back(std::move(a));
}

void parse_experiment(Reader& r, const Value& v, ExperimentStep& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  m.get("name", out.name);
  read_step_duration(r, m, out.duration);
  if (const auto templates = m.require("templates")) {
    for (const Value& item : r.list(*templates, Presence::Required)) {
      parse_experiment_template(r, item, out.templates);
    }
  }
  if (const auto analyses = m.take("analyses")) {
    for (const Value& item : r.list(*analyses)) parse_experiment_analysis(r, item, out.analyses);
  }
}

std::optional<StringMatch> parse_string_match(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  using Kind = StringMatch::Kind;
  constexpr std::array<std::pair<std::string_view, Kind>, 3> kinds{
      {{"exact", Kind::Exact}, {"prefix", Kind::Prefix}, {"regex", Kind::Regex}}};
  std::optional<StringMatch> out;
  int found = 0;
  for (const auto& [key, kind] : kinds) {
    const auto value = m.take(key);
    if (!value) continue;
    if (++found > 1) {
      r.error(*value, "needs exactly one of exact, prefix or regex");
      continue;
    }
    auto text = r.string(*value);
    if (!text) continue;
    // RE2 is not a dependency of config/: patterns compile through ExternalChecks::regex.
    if (kind == Kind::Regex) r.check_regex(*value, *text);
    out = StringMatch{kind, std::move(*text)};
  }
  if (found == 0 && m.size() == 0) r.error(v, "needs one of exact, prefix or regex");
  return found == 1 ? out : std::nullopt;
}

void parse_header_route_entry(Reader& r, const Value& v, std::vector<RouteCondition>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  RouteCondition condition;
  const auto name = m.take("headerName");
  const auto value = m.take("headerValue");
  const auto method = m.take("method");
  const auto path = m.take("path");
  if (name && !value) m.missing("headerValue");
  if (value && !name) m.missing("headerName");
  const auto header = name ? r.string(*name) : std::nullopt;
  if (header && !is_token(*header)) r.error(*name, "must be a valid header name");
  const auto match = value ? parse_string_match(r, *value) : std::nullopt;
  if (header && is_token(*header) && match) condition.headers.push_back({*header, *match});
  if (method) condition.method = parse_string_match(r, *method);
  if (path) condition.path = parse_string_match(r, *path);
  if (!name && !value && !method && !path) {
    r.error(v, "a match entry needs a condition: headerName and headerValue, method or path");
  }
  out.push_back(std::move(condition));
}

void parse_mirror_route_entry(Reader& r, const Value& v, std::vector<RouteCondition>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  RouteCondition condition;
  if (const auto method = m.take("method")) condition.method = parse_string_match(r, *method);
  if (const auto path = m.take("path")) condition.path = parse_string_match(r, *path);
  if (const auto headers = m.take("headers")) {
    MapReader h(r, *headers);
    for (const auto& [name, value] : h.take_all()) {
      if (!is_token(name)) r.error(value, "must be a valid header name");
      const auto match = parse_string_match(r, value);
      if (match && is_token(name)) condition.headers.push_back({name, *match});
    }
  }
  out.push_back(std::move(condition));
}

void parse_header_route(Reader& r, const Value& v, HeaderRouteStep& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  m.get("name", out.name, Presence::Required);
  if (const auto match = m.take("match")) {
    for (const Value& item : r.list(*match)) parse_header_route_entry(r, item, out.match);
  }
}

void parse_mirror_route(Reader& r, const Value& v, MirrorRouteStep& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  m.get("name", out.name, Presence::Required);
  if (const auto percentage = m.take("percentage")) {
    if (const auto centi = read_percent_centi(r, *percentage)) out.percentage = *centi / 100.0;
  }
  if (const auto match = m.take("match")) {
    for (const Value& item : r.list(*match)) parse_mirror_route_entry(r, item, out.match);
  }
}

void parse_gate(Reader& r, const Value& v, GateStep& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  m.get("name", out.name);
  read_webhook_url(r, m, out.url);
  m.get("intervalSeconds", out.interval_seconds, Range{1, 86400});
  m.get("timeoutSeconds", out.timeout_seconds, Range{1, 31536000});
}

void parse_step_body(Reader& r, const Value& v, Step& out) {
  switch (out.kind) {
    case Step::Kind::SetWeight:
      if (const auto centi = read_percent_centi(r, v)) out.weight_centi = *centi;
      return;
    case Step::Kind::Pause: return parse_pause(r, v, out.pause);
    case Step::Kind::Analysis: return parse_analysis_spec(r, v, out.analysis, false);
    case Step::Kind::SetHeaderRoute: return parse_header_route(r, v, out.header_route);
    case Step::Kind::SetMirrorRoute: return parse_mirror_route(r, v, out.mirror_route);
    case Step::Kind::Gate: return parse_gate(r, v, out.gate);
    case Step::Kind::Experiment: return parse_experiment(r, v, out.experiment);
  }
}

}  // namespace

bool parse_step(Reader& r, const Value& v, Step& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  using Kind = Step::Kind;
  constexpr std::array<std::pair<std::string_view, Kind>, 7> kinds{
      {{"setWeight", Kind::SetWeight},
       {"pause", Kind::Pause},
       {"analysis", Kind::Analysis},
       {"setHeaderRoute", Kind::SetHeaderRoute},
       {"setMirrorRoute", Kind::SetMirrorRoute},
       {"gate", Kind::Gate},
       {"experiment", Kind::Experiment}}};
  int found = 0;
  for (const auto& [key, kind] : kinds) {
    const auto body = m.take(key);
    if (!body) continue;
    if (++found > 1) {
      r.error(*body, "a step has exactly one of setWeight, pause, analysis, setHeaderRoute, "
                     "setMirrorRoute, gate, experiment");
      continue;
    }
    out.kind = kind;
    parse_step_body(r, *body, out);
  }
  if (found == 0 && m.size() == 0) {
    r.error(v, "needs one of setWeight, pause, analysis, setHeaderRoute, setMirrorRoute, gate, "
                "experiment");
  }
  return true;
}

}  // namespace vane::config
