// AnalysisTemplate and ClusterAnalysisTemplate → a vane analysis template: args, metrics with the
// prometheus and web providers, dryRun and measurementRetention. A metric vane cannot run is left
// out (noted) and the rest of the template kept.
#include <algorithm>
#include <limits>

#include "analysis/expression.hpp"
#include "cli/argo_importer.hpp"
#include "config/validate.hpp"
#include "config/duration.hpp"

namespace vane::cli::argo {
namespace {

constexpr long long kMaxI32 = std::numeric_limits<int32_t>::max();

std::optional<config::Duration> duration(Notes& notes, const Node& at) {
  const auto text = at.text();
  auto d = text ? config::parse_duration(*text) : std::nullopt;
  if (!d) notes.add(at, "not a duration vane reads" + (text ? " ('" + *text + "')" : std::string()));
  return d;
}

/// Whether every `{{…}}` of `text` is `{{args.NAME}}` of an arg of the template (noted when not).
bool placeholders_ok(Notes& notes, const Node& at, const std::string& text, const std::set<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> values;  // what they stand for does not matter here
  for (const std::string& name : args) values.emplace_back(name, "");
  std::string error;
  (void)analysis::substitute_args(text, values, &error);
  if (!error.empty()) notes.add(at, error + ": the metric is left out");
  return error.empty();
}

/// Reads a prometheus or web provider; false (noted) when the metric must be left out.
class ProviderReader {
 public:
  ProviderReader(Notes& notes, const std::set<std::string>& args) : notes_(notes), args_(args) {}

  bool prometheus(const Node& node, config::PrometheusProvider& out) {
    Fields p(notes_, node);
    const bool has_address = text(p, "address", out.address);
    if (!text(p, "query", out.query) || !has_address) {
      notes_.add(node, "a prometheus provider needs address and query: the metric is left out");
      return false;
    }
    if (const auto t = p.take("timeout")) {
      if (const auto n = integer(notes_, *t, 1, kMaxI32)) out.timeout_seconds = static_cast<uint32_t>(*n);
    }
    headers(p, out.headers);
    return ok_;
  }

  bool web(const Node& node, config::WebProvider& out) {
    Fields w(notes_, node);
    if (!text(w, "url", out.url)) {
      notes_.add(node, "a web provider needs a url: the metric is left out");
      return false;
    }
    if (const auto method = w.take("method")) {
      const std::string m = method->text().value_or("");
      if (m != "GET" && m != "POST" && m != "PUT") {
        notes_.add(*method, "vane's web provider sends GET, POST or PUT: the metric is left out");
        return false;
      }
      out.method = m;
    }
    headers(w, out.headers);
    if (const auto body = w.take("body"); body && out.method == "GET") {
      notes_.add(*body, "a GET request has no body");
    } else if (body && body->text()) {
      out.body = *body->text();
      ok_ = ok_ && placeholders_ok(notes_, *body, out.body, args_);
    }
    w.drop("jsonBody", "write it as `body` (a JSON string) by hand");
    if (const auto t = w.take("timeoutSeconds")) {
      if (const auto n = integer(notes_, *t, 1, kMaxI32)) out.timeout_seconds = static_cast<uint32_t>(*n);
    }
    if (const auto path = w.take("jsonPath"); path && path->text()) json_path(*path, out.json_path);
    return ok_;
  }

 private:
  /// A string field whose placeholders must be args of the template; false when absent.
  bool text(Fields& fields, const char* key, std::string& into) {
    const auto v = fields.take(key);
    if (!v || !v->text()) return false;
    into = *v->text();
    ok_ = ok_ && placeholders_ok(notes_, *v, into, args_);
    return true;
  }

  void headers(Fields& fields, std::vector<config::KeyValue>& into) {
    const auto v = fields.take("headers");
    if (!v) return;
    for (const Node& item : v->items()) {
      Fields h(notes_, item);
      const auto key = h.take("key");
      const auto value = h.take("value");
      if (!key || !key->text() || !value || !value->text()) continue;
      into.push_back({*key->text(), *value->text()});
      ok_ = ok_ && placeholders_ok(notes_, *value, *value->text(), args_);
    }
  }

  /// Argo's braced form `{$.x}` is vane's `$.x`.
  void json_path(const Node& at, std::string& into) {
    std::string path = *at.text();
    if (path.starts_with("{") && path.ends_with("}")) path = path.substr(1, path.size() - 2);
    if (!path.starts_with('$')) return notes_.add(at, "a jsonPath must start with $: the whole body ($) is the result");
    ok_ = ok_ && placeholders_ok(notes_, at, path, args_);
    into = std::move(path);
  }

  Notes& notes_;
  const std::set<std::string>& args_;
  bool ok_ = true;
};

/// `text` with each `{{args.NAME}}` replaced by the value the template gives NAME; nullopt when
/// one has none. Argo substitutes when a run starts; vane reads count and interval at load.
std::optional<std::string> with_arg_values(const std::string& text, const std::vector<config::Arg>& args) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const config::Arg& arg : args) {
    if (arg.value) values.emplace_back(arg.name, *arg.value);
  }
  std::string error;
  std::string out = analysis::substitute_args(text, values, &error);
  if (!error.empty()) return std::nullopt;
  return out;
}

}  // namespace

void Importer::analysis_template(const Document& doc, bool cluster) {
  const auto spec_node = spec_of(doc);
  if (!spec_node) return;
  Fields spec(notes_, *spec_node);
  config::AnalysisTemplate t;
  t.name = doc.name;
  const auto& all = out_.config.analysis_templates;
  if (std::any_of(all.begin(), all.end(), [&](const auto& other) { return other.name == t.name; }))
    t.name += cluster ? "-cluster" : "-" + doc.ns;  // an AnalysisTemplate and a ClusterAnalysisTemplate
  TemplateInfo info;
  if (const auto args = spec.take("args")) {
    for (const Node& item : args->items()) {
      Fields a(notes_, item);
      const auto name = a.take("name");
      if (!name || !name->text()) continue;
      config::Arg arg{*name->text(), std::nullopt};
      if (const auto value = a.take("value"); value && value->text()) arg.value = *value->text();
      info.args.insert(arg.name);
      if (!arg.value) info.required_args.insert(arg.name);
      t.args.push_back(std::move(arg));
    }
  }
  const auto metrics = spec.take("metrics");
  for (const Node& item : metrics ? metrics->items() : std::vector<Node>{}) {
    auto m = metric(item, info.args, t.args);
    if (!m) continue;
    info.metrics.push_back(m->name);
    if (m->interval && !m->count) info.indefinite_metrics.push_back(m->name);
    t.metrics.push_back(std::move(*m));
  }
  if (t.metrics.empty()) return notes_.add(doc.root, "no metric could be imported: the template is left out");
  const auto known = [&](const Node& at, const std::string& name) {
    if (std::find(info.metrics.begin(), info.metrics.end(), name) != info.metrics.end()) return true;
    notes_.add(at, "names metric " + name + ", which is not imported");
    return false;
  };
  if (const auto dry = spec.take("dryRun")) {
    for (const Node& item : dry->items()) {
      Fields d(notes_, item);
      const auto name = d.take("metricName");
      const std::string text = name ? name->text().value_or("") : "";
      if (text == "*") {
        t.dry_run = info.metrics;
      } else if (name && known(item, text)) {
        t.dry_run.push_back(text);
      }
    }
  }
  if (const auto kept = spec.take("measurementRetention")) {
    for (const Node& item : kept->items()) {
      Fields k(notes_, item);
      const auto name = k.take("metricName");
      const auto limit = k.take("limit");
      const auto n = limit ? integer(notes_, *limit, 1, kMaxI32) : std::nullopt;
      const std::string text = name ? name->text().value_or("") : "";
      for (const std::string& metric : info.metrics) {
        if (n && (text == "*" || text == metric)) t.measurement_retention.push_back({metric, static_cast<uint32_t>(*n)});
      }
      if (name && text != "*") (void)known(item, text);
    }
  }
  info.name = t.name;
  const std::size_t index = out_.config.analysis_templates.size();
  out_.comments[config::item_path("analysisTemplates", index)] = doc.title();
  templates_[doc.kind + "/" + doc.name] = std::move(info);
  out_.config.analysis_templates.push_back(std::move(t));
}

std::optional<config::Metric> Importer::metric(const Node& node, const std::set<std::string>& args,
                                              const std::vector<config::Arg>& values) {
  Fields f(notes_, node);
  // A field vane reads at load, with the template's arg values in place of `{{args.X}}`.
  const auto take = [&](const char* key) -> std::optional<Node> {
    auto v = f.take(key);
    if (!v || !v->text() || v->text()->find("{{") == std::string::npos) return v;
    const auto text = with_arg_values(*v->text(), values);
    if (!text) notes_.add(*v, "uses an arg without a value in the template: left at its default");
    if (!text) return std::nullopt;
    v->yaml = YAML::Node(*text);
    return v;
  };
  config::Metric m;
  const auto name = f.take("name");
  if (!name || !name->text()) {
    notes_.add(node, "a metric without a name is left out");
    f.ignore_rest();
    return std::nullopt;
  }
  m.name = *name->text();
  if (const auto v = take("interval")) m.interval = duration(notes_, *v);
  if (const auto v = take("initialDelay")) m.initial_delay = duration(notes_, *v).value_or(config::Duration{0});
  if (const auto v = take("count")) {
    if (const auto n = integer(notes_, *v, 1, kMaxI32)) m.count = static_cast<uint32_t>(*n);
  }
  if (m.count > 1u && !m.interval) {
    notes_.add(node, "count " + std::to_string(*m.count) + " without an interval: one measurement is taken");
    m.count.reset();
  }
  bool ok = true;
  for (const auto& [key, out] : {std::pair{"successCondition", &m.success_condition},
                                 std::pair{"failureCondition", &m.failure_condition}}) {
    const auto v = f.take(key);
    if (!v || !v->text()) continue;
    *out = *v->text();
    const std::string why = checks_.condition ? checks_.condition(*out) : "";
    if (!why.empty()) notes_.add(*v, "a condition vane cannot read (" + why + "): the metric is left out");
    ok = ok && why.empty() && placeholders_ok(notes_, *v, *out, args);
  }
  for (const auto& [key, out] : {std::pair{"failureLimit", &m.failure_limit},
                                 std::pair{"inconclusiveLimit", &m.inconclusive_limit},
                                 std::pair{"consecutiveErrorLimit", &m.consecutive_error_limit},
                                 std::pair{"consecutiveSuccessLimit", &m.consecutive_success_limit}}) {
    auto v = take(key);
    if (!v && std::string_view(key) == "failureLimit") v = take("maxFailures");  // its old name
    const long long min = std::string_view(key) == "failureLimit" ? -1 : 0;
    if (const auto n = v ? integer(notes_, *v, min, kMaxI32) : std::nullopt) *out = static_cast<int32_t>(*n);
  }
  if (m.failure_limit == -1 && m.consecutive_success_limit <= 0) {
    notes_.add(node, "failureLimit -1 needs consecutiveSuccessLimit > 0: the default 0 is kept");
    m.failure_limit = 0;
  }
  const auto p = f.take("provider");
  if (!p) notes_.add(node, "a metric without a provider is left out");
  if (!ok || !p || !provider(*p, args, m)) return std::nullopt;
  return m;
}

bool Importer::provider(const Node& node, const std::set<std::string>& args, config::Metric& out) {
  Fields f(notes_, node);
  ProviderReader reader(notes_, args);
  if (const auto v = f.take("prometheus")) return reader.prometheus(*v, out.prometheus.emplace());
  if (const auto v = f.take("web")) return reader.web(*v, out.web.emplace());
  notes_.add(node, "no provider vane reads (builtin, prometheus, web): the metric is left out");
  return false;
}

}  // namespace vane::cli::argo
