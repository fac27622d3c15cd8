#include "cli/config_writer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "config/duration.hpp"
#include "config/validate.hpp"

namespace vane::cli {
namespace {

using namespace config;

bool is_reserved_word(std::string_view text) {
  static constexpr std::array kWords = {"true", "false", "yes", "no",  "on",  "off",
                                        "null", "~",     "y",   "n",   ".nan", ".inf"};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kWords.begin(), kWords.end(), lower) != kWords.end();
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f;
  });
}

/// Reads back as the same string in block context, unquoted.
bool plain_ok(std::string_view text) {
  if (text.empty() || is_reserved_word(text) || has_control(text)) return false;
  if (text.find('\n') != std::string_view::npos) return false;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@` ").find(text.front()) != std::string_view::npos)
    return false;
  if (text.back() == ' ' || text.back() == ':') return false;
  return text.find(": ") == std::string_view::npos && text.find(" #") == std::string_view::npos;
}

std::string double_quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// A literal block (`|`, `|-`, `|+`) for a multi-line text whose lines need no escaping.
bool literal_ok(std::string_view text) {
  if (has_control(text) || text.front() == ' ' || text.front() == '\n') return false;
  for (std::size_t pos = 0; pos < text.size();) {  // trailing spaces would be kept, but hide
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    if (end > pos && text[end - 1] == ' ') return false;
    pos = end + 1;
  }
  return true;
}

std::string literal_block(std::string_view text, int indent) {
  std::string chomp = "|-";
  if (text.ends_with("\n\n")) {
    chomp = "|+";
  } else if (text.ends_with('\n')) {
    chomp = "|";
  }
  std::string out = chomp;
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    out += "\n";
    if (end > pos) out += pad + std::string(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

/// The YAML text being written, with the comments to place.
class Writer {
 public:
  explicit Writer(const CommentedConfig& in) : in_(in) {}

  std::string run() {
    for (const auto& line : in_.header) out_ += "# " + line + "\n";
    const Config& c = in_.config;
    section("listeners", c.listeners.size(), [&](std::size_t i) { listener(c.listeners[i]); });
    section("upstreams", c.upstreams.size(), [&](std::size_t i) { upstream(c.upstreams[i]); });
    section("routes", c.routes.size(), [&](std::size_t i) { route(c.routes[i]); });
    section("rollouts", c.rollouts.size(), [&](std::size_t i) { rollout(c.rollouts[i], i); });
    section("analysisTemplates", c.analysis_templates.size(),
            [&](std::size_t i) { analysis_template(c.analysis_templates[i]); });
    return std::move(out_);
  }

 private:
  template <class F>
  void section(std::string_view name, std::size_t n, F item) {
    if (n == 0) return;
    out_ += '\n';
    out_ += name;
    out_ += ":\n";
    for (std::size_t i = 0; i < n; ++i) {
      comment_above(item_path(name, i), 2);
      first_ = true;
      item(i);
    }
  }

  void comment_above(const std::string& path, int indent) {
    const auto it = in_.comments.find(path);
    if (it == in_.comments.end()) return;
    std::size_t pos = 0;
    const std::string& text = it->second;
    while (pos <= text.size()) {  // one `#` line per line of the comment
      const std::size_t end = std::min(text.find('\n', pos), text.size());
      out_ += std::string(static_cast<std::size_t>(indent), ' ') + "# " + text.substr(pos, end - pos) + "\n";
      pos = end + 1;
    }
  }

  /// `key: value` at `indent`; the first field after an item's `- ` starts it. `value` is written
  /// as is (already a scalar, flow map or empty for a nested block).
  void field(int indent, std::string_view key, std::string_view value, const std::string& remark = "") {
    if (first_) {
      out_ += std::string(static_cast<std::size_t>(indent - 2), ' ') + "- ";
      first_ = false;
    } else {
      out_ += std::string(static_cast<std::size_t>(indent), ' ');
    }
    out_ += std::string(key) + ":";
    if (!value.empty()) out_ += " " + std::string(value);
    const auto it = remark.empty() ? in_.comments.end() : in_.comments.find(remark);
    if (it != in_.comments.end()) out_ += "  # " + it->second;
    out_ += "\n";
  }

  void text_field(int indent, std::string_view key, std::string_view value) {
    field(indent, key, yaml_scalar(value, indent + 2));
  }

  void start_item() { first_ = true; }

  void listener(const Listener& l) {
    text_field(4, "name", l.name);
    text_field(4, "address", l.address);
  }

  void upstream(const Upstream& u) {
    text_field(4, "name", u.name);
    std::string endpoints = "[";
    for (const auto& e : u.endpoints) endpoints += (endpoints.size() > 1 ? ", " : "") + double_quoted(e.text);
    field(4, "endpoints", endpoints + "]");
  }

  void route(const Route& r) {
    text_field(4, "name", r.name);
    std::string match = "{";
    if (!r.match.host.empty()) match += "host: " + flow_scalar(r.match.host) + ", ";
    field(4, "match", match + "pathPrefix: " + flow_scalar(r.match.path_prefix) + "}");
    if (!r.rollout.empty()) text_field(4, "rollout", r.rollout);
    if (!r.upstream.empty()) text_field(4, "upstream", r.upstream);
  }

  void rollout(const Rollout& r, std::size_t index) {
    const std::string path = item_path("rollouts", index);
    text_field(4, "name", r.name);
    field(4, "upstream", yaml_scalar(r.upstream), path + ".upstream");
    if (r.progress_deadline_seconds != 600)
      field(4, "progressDeadlineSeconds", std::to_string(r.progress_deadline_seconds));
    if (r.progress_deadline_abort) field(4, "progressDeadlineAbort", "true");
    if (r.scale_down_delay_seconds != 30)
      field(4, "scaleDownDelaySeconds", std::to_string(r.scale_down_delay_seconds));
    field(4, "strategy", "");
    if (r.canary) canary(*r.canary);
    if (r.blue_green) blue_green(*r.blue_green);
  }

  void canary(const CanaryStrategy& c) {
    field(6, "canary", "");
    field(8, "steps", c.steps.empty() ? "[]" : "");
    for (const Step& s : c.steps) {
      start_item();
      step(s);
    }
    if (c.analysis) {
      field(8, "analysis", "");
      analysis(10, *c.analysis, true);
    }
  }

  void step(const Step& s) {
    switch (s.kind) {
      case Step::Kind::SetWeight:
        return field(12, "setWeight", number(s.weight_centi / 100.0));
      case Step::Kind::Pause:
        return field(12, "pause",
                     s.pause.duration ? "{duration: " + format_duration(*s.pause.duration) + "}" : "{}");
      case Step::Kind::Analysis:
        field(12, "analysis", "");
        return analysis(14, s.analysis, false);
      case Step::Kind::SetHeaderRoute:
        field(12, "setHeaderRoute", "");
        text_field(14, "name", s.header_route.name);
        return match_list(14, s.header_route.match, true);
      case Step::Kind::SetMirrorRoute:
        field(12, "setMirrorRoute", "");
        text_field(14, "name", s.mirror_route.name);
        if (s.mirror_route.percentage != 100) field(14, "percentage", number(s.mirror_route.percentage));
        return match_list(14, s.mirror_route.match, false);
      case Step::Kind::Gate:        // Argo has no gate step: never imported
      case Step::Kind::Experiment:  // not imported (docs/cli.md)
        return;
    }
  }

  static std::string string_match(const StringMatch& m) {
    static constexpr std::array kKinds = {"exact", "prefix", "regex"};
    return "{" + std::string(kKinds[static_cast<std::size_t>(m.kind)]) + ": " + flow_scalar(m.value) + "}";
  }

  void match_list(int indent, const std::vector<RouteCondition>& match, bool header_route) {
    if (match.empty()) return;
    field(indent, "match", "");
    for (const RouteCondition& c : match) {
      start_item();
      if (header_route && c.headers.size() == 1) {
        text_field(indent + 4, "headerName", c.headers[0].name);
        field(indent + 4, "headerValue", string_match(c.headers[0].value));
      }
      if (c.method) field(indent + 4, "method", string_match(*c.method));
      if (c.path) field(indent + 4, "path", string_match(*c.path));
      if (header_route || c.headers.empty()) continue;
      field(indent + 4, "headers", "");
      for (const HeaderCondition& h : c.headers) field(indent + 6, yaml_scalar(h.name), string_match(h.value));
    }
  }

  void analysis(int indent, const AnalysisSpec& a, bool background) {
    std::string templates = "[";
    for (const auto& t : a.templates)
      templates += (templates.size() > 1 ? ", " : "") + std::string("{templateName: ") + flow_scalar(t.template_name) + "}";
    field(indent, "templates", templates + "]");
    args(indent, a.args);
    if (background && a.starting_step > 0) field(indent, "startingStep", std::to_string(a.starting_step));
  }

  void args(int indent, const std::vector<Arg>& list) {
    if (list.empty()) return;
    field(indent, "args", "");
    for (const Arg& arg : list) {
      start_item();
      text_field(indent + 4, "name", arg.name);
      if (arg.value) field(indent + 4, "value", double_quoted(*arg.value));
    }
  }

  void blue_green(const BlueGreenStrategy& b) {
    field(6, "blueGreen", "");
    if (!b.preview_route.empty()) text_field(8, "previewRoute", b.preview_route);
    if (!b.auto_promotion_enabled) field(8, "autoPromotionEnabled", "false");
    if (b.auto_promotion_seconds > 0)
      field(8, "autoPromotionSeconds", std::to_string(b.auto_promotion_seconds));
    if (b.pre_promotion_analysis) {
      field(8, "prePromotionAnalysis", "");
      analysis(10, *b.pre_promotion_analysis, false);
    }
    if (b.post_promotion_analysis) {
      field(8, "postPromotionAnalysis", "");
      analysis(10, *b.post_promotion_analysis, false);
    }
    if (b.scale_down_delay_seconds)
      field(8, "scaleDownDelaySeconds", std::to_string(*b.scale_down_delay_seconds));
    if (b.abort_scale_down_delay_seconds != 30)
      field(8, "abortScaleDownDelaySeconds", std::to_string(b.abort_scale_down_delay_seconds));
  }

  void analysis_template(const AnalysisTemplate& t) {
    text_field(4, "name", t.name);
    args(4, t.args);
    field(4, "metrics", "");
    for (const Metric& m : t.metrics) {
      start_item();
      metric(m);
    }
    if (!t.dry_run.empty()) {
      field(4, "dryRun", "");
      for (const auto& name : t.dry_run) {
        start_item();
        text_field(8, "metricName", name);
      }
    }
    if (!t.measurement_retention.empty()) {
      field(4, "measurementRetention", "");
      for (const auto& kept : t.measurement_retention) {
        start_item();
        text_field(8, "metricName", kept.metric_name);
        field(8, "limit", std::to_string(kept.limit));
      }
    }
  }

  void metric(const Metric& m) {
    constexpr int in = 8;
    text_field(in, "name", m.name);
    if (m.interval) field(in, "interval", format_duration(*m.interval));
    if (m.initial_delay.count() > 0) field(in, "initialDelay", format_duration(m.initial_delay));
    if (m.count) field(in, "count", std::to_string(*m.count));
    if (!m.success_condition.empty()) text_field(in, "successCondition", m.success_condition);
    if (!m.failure_condition.empty()) text_field(in, "failureCondition", m.failure_condition);
    if (m.failure_limit != 0) field(in, "failureLimit", std::to_string(m.failure_limit));
    if (m.inconclusive_limit != 0) field(in, "inconclusiveLimit", std::to_string(m.inconclusive_limit));
    if (m.consecutive_error_limit != 4)
      field(in, "consecutiveErrorLimit", std::to_string(m.consecutive_error_limit));
    if (m.consecutive_success_limit != 0)
      field(in, "consecutiveSuccessLimit", std::to_string(m.consecutive_success_limit));
    field(in, "provider", "");
    if (m.prometheus) prometheus(*m.prometheus);
    if (m.web) web(*m.web);
  }

  void headers(int indent, const std::vector<KeyValue>& list) {
    if (list.empty()) return;
    field(indent, "headers", "");
    for (const KeyValue& h : list) {
      start_item();
      text_field(indent + 4, "key", h.key);
      field(indent + 4, "value", double_quoted(h.value));
    }
  }

  void prometheus(const PrometheusProvider& p) {
    field(10, "prometheus", "");
    text_field(12, "address", p.address);
    text_field(12, "query", p.query);
    if (p.timeout_seconds != 30) field(12, "timeout", std::to_string(p.timeout_seconds));
    headers(12, p.headers);
  }

  void web(const WebProvider& w) {
    field(10, "web", "");
    text_field(12, "url", w.url);
    if (w.method != "GET") field(12, "method", w.method);
    headers(12, w.headers);
    if (!w.body.empty()) text_field(12, "body", w.body);
    if (w.timeout_seconds != 10) field(12, "timeoutSeconds", std::to_string(w.timeout_seconds));
    if (w.json_path != "$") text_field(12, "jsonPath", w.json_path);
  }

  const CommentedConfig& in_;
  std::string out_;
  bool first_ = false;
};

}  // namespace

std::string yaml_scalar(std::string_view text, int indent) {
  if (plain_ok(text)) return std::string(text);
  if (indent >= 0 && text.find('\n') != std::string_view::npos && literal_ok(text))
    return literal_block(text, indent);
  return double_quoted(text);
}

std::string flow_scalar(std::string_view text) {
  const bool simple = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_./*").find(c) != std::string_view::npos;
  });
  return simple && plain_ok(text) ? std::string(text) : double_quoted(text);
}

std::string write_config(const CommentedConfig& in) { return Writer(in).run(); }

}  // namespace vane::cli
