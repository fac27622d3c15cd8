// Config -> text, field by field, in declaration order.
#include "tests/fuzz/config_dump.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace vane::fuzz {
namespace {

using namespace vane::config;

class Dumper {
 public:
  explicit Dumper(bool with_marks) : with_marks_(with_marks) {}

  Dumper& operator()(std::string_view key, std::string_view value) {
    out_.append(key).append("=").append(std::to_string(value.size())).append(":");
    out_.append(value).append(";");
    return *this;
  }
  Dumper& operator()(std::string_view key, const std::string& value) {
    return (*this)(key, std::string_view(value));
  }
  Dumper& operator()(std::string_view key, const char* value) {
    return (*this)(key, std::string_view(value));
  }
  template <class T>
  Dumper& operator()(std::string_view key, const T& value) {
    if constexpr (std::is_enum_v<T> || std::is_same_v<T, bool>) {
      return (*this)(key, std::to_string(static_cast<long long>(value)));
    } else if constexpr (std::is_arithmetic_v<T>) {
      return (*this)(key, std::to_string(value));
    } else {
      return (*this)(key, std::to_string(value.count()));  // a Duration
    }
  }
  template <class T>
  Dumper& opt(std::string_view key, const std::optional<T>& value) {
    if (!value) return (*this)(key, "unset");
    return (*this)(key, *value);
  }
  Dumper& mark(const Mark& m) {
    if (with_marks_) (*this)("@", std::to_string(m.line) + ":" + std::to_string(m.column));
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  bool with_marks_;
  std::string out_;
};

void dump_server(Dumper& d, const Config& c) {
  d("file", c.file);
  for (const Listener& l : c.listeners) {
    d("listener", l.name)("address", l.address)("host", l.host)("port", l.port).mark(l.mark);
    if (!l.tls) continue;
    for (const TlsCertificate& t : l.tls->certificates) d("cert", t.cert_file)("key", t.key_file);
  }
  d("admin", c.admin.address)("host", c.admin.host)("port", c.admin.port);
  d("token", c.admin.token_file)("state", c.state.dir)("workers", c.workers);
  const Limits& m = c.limits;
  d("line", m.max_request_line_bytes)("header", m.max_request_header_bytes);
  d("headers", m.max_request_headers)("body", m.max_request_body_bytes);
  d("header_timeout", m.request_header_timeout)("body_timeout", m.request_body_timeout);
  d("idle", m.idle_timeout)("mirror_body", m.max_mirror_body_bytes);
  d("mirror_in_flight", m.max_mirror_in_flight);
}

void dump_upstreams(Dumper& d, const Config& c) {
  for (const Upstream& u : c.upstreams) {
    d("upstream", u.name).mark(u.mark);
    for (const Endpoint& e : u.endpoints) d("ep", e.text)("host", e.host)("port", e.port)("tls", e.tls);
    d("dns", u.dns_refresh)("connect", u.connect_timeout)("timeout", u.timeout);
    d("max_conn", u.max_connections_per_endpoint)("protocol", static_cast<int>(u.protocol));
    if (const auto& h = u.health_check) {
      d("hc", h->path)("interval", h->interval)("timeout", h->timeout);
      d("unhealthy", h->unhealthy_threshold)("healthy", h->healthy_threshold);
    }
    d("attempts", u.retries.attempts);
    for (FailureKind k : u.retries.on) d("on", k);
    if (const auto& t = u.tls) d("ca", t->ca_file)("insecure", t->insecure_skip_verify)("sni", t->server_name);
  }
  for (const Route& r : c.routes) {
    d("route", r.name)("host", r.match.host)("prefix", r.match.path_prefix);
    d("upstream", r.upstream)("rollout", r.rollout).mark(r.mark);
  }
}

void dump_match(Dumper& d, const std::optional<StringMatch>& m) {
  if (!m) d("match", "unset");
  else d("kind", m->kind)("value", m->value);
}

void dump_conditions(Dumper& d, const std::vector<RouteCondition>& conditions) {
  for (const RouteCondition& rc : conditions) {
    d("condition", "");
    dump_match(d, rc.method);
    dump_match(d, rc.path);
    for (const HeaderCondition& h : rc.headers) d("header", h.name)("kind", h.value.kind)("value", h.value.value);
  }
}

void dump_analysis(Dumper& d, const AnalysisSpec& a) {
  for (const AnalysisTemplateRef& t : a.templates) d("template", t.template_name);
  for (const Arg& arg : a.args) d("arg", arg.name).opt("value", arg.value);
  d("starting_step", a.starting_step).mark(a.mark);
}

void dump_steps(Dumper& d, const std::vector<Step>& steps) {
  for (const Step& s : steps) {
    d("step", s.kind)("weight", s.weight_centi).opt("pause", s.pause.duration).mark(s.mark);
    dump_analysis(d, s.analysis);
    d("header_route", s.header_route.name);
    dump_conditions(d, s.header_route.match);
    d("mirror_route", s.mirror_route.name)("percentage", s.mirror_route.percentage);
    dump_conditions(d, s.mirror_route.match);
    d("gate", s.gate.name)("url", s.gate.url)("interval", s.gate.interval_seconds)
        .opt("timeout", s.gate.timeout_seconds);
    d("experiment", s.experiment.name).opt("duration", s.experiment.duration);
    for (const ExperimentTemplate& t : s.experiment.templates) {
      d("template", t.name)("upstream", t.upstream)("spec_ref", t.spec_ref)("weight", t.weight_centi)(
          "slot", static_cast<uint32_t>(t.slot));
    }
    for (const ExperimentAnalysis& a : s.experiment.analyses) {
      d("experiment_analysis", a.name);
      dump_analysis(d, a.spec);
    }
  }
}

void dump_strategy(Dumper& d, const Rollout& r) {
  if (const auto& c = r.canary) {
    dump_steps(d, c->steps);
    if (c->stickiness) d("cookie", c->stickiness->cookie)("header", c->stickiness->header);
    if (c->shield) {
      for (FailureKind k : c->shield->on) d("shield_on", k);
      d("shield_timeout", c->shield->timeout);
    }
    if (c->analysis) dump_analysis(d, *c->analysis);
  }
  if (const auto& b = r.blue_green) {
    d("preview", b->preview_route)("auto", b->auto_promotion_enabled);
    d("auto_seconds", b->auto_promotion_seconds).opt("scale_down", b->scale_down_delay_seconds);
    d("abort_scale_down", b->abort_scale_down_delay_seconds);
    if (b->pre_promotion_analysis) dump_analysis(d, *b->pre_promotion_analysis);
    if (b->post_promotion_analysis) dump_analysis(d, *b->post_promotion_analysis);
  }
}

void dump_rollouts(Dumper& d, const Config& c) {
  for (const Rollout& r : c.rollouts) {
    d("rollout", r.name)("upstream", r.upstream)("deadline", r.progress_deadline_seconds);
    d("deadline_abort", r.progress_deadline_abort)("scale_down", r.scale_down_delay_seconds);
    d("canary", r.canary.has_value())("blue_green", r.blue_green.has_value()).mark(r.mark);
    dump_strategy(d, r);
  }
}

void dump_provider(Dumper& d, const Metric& m) {
  if (const auto& b = m.builtin) {
    d("builtin", b->metric)("window", b->window)("min", b->min_requests)("target", b->target);
  }
  if (const auto& p = m.prometheus) {
    d("prometheus", p->address)("query", p->query)("timeout", p->timeout_seconds);
    for (const KeyValue& kv : p->headers) d("h", kv.key)("v", kv.value);
  }
  if (const auto& w = m.web) {
    d("web", w->url)("method", w->method)("body", w->body)("timeout", w->timeout_seconds);
    d("json_path", w->json_path);
    for (const KeyValue& kv : w->headers) d("h", kv.key)("v", kv.value);
  }
  if (const auto& x = m.exec) {
    d("exec", x->timeout_seconds)("json_path", x->json_path);
    for (const std::string& word : x->command) d("arg", word);
  }
}

void dump_templates(Dumper& d, const Config& c) {
  for (const AnalysisTemplate& t : c.analysis_templates) {
    d("template", t.name).mark(t.mark);
    for (const Arg& arg : t.args) d("arg", arg.name).opt("value", arg.value);
    for (const Metric& m : t.metrics) {
      d("metric", m.name).opt("interval", m.interval)("delay", m.initial_delay).opt("count", m.count);
      d("success", m.success_condition).mark(m.success_condition_mark);
      d("failure", m.failure_condition).mark(m.failure_condition_mark);
      d("failure_limit", m.failure_limit)("inconclusive_limit", m.inconclusive_limit);
      d("error_limit", m.consecutive_error_limit)("success_limit", m.consecutive_success_limit);
      dump_provider(d, m);
      d.mark(m.mark);
    }
    for (const std::string& name : t.dry_run) d("dry_run", name);
    for (const MeasurementRetention& r : t.measurement_retention) d("retain", r.metric_name)("limit", r.limit);
  }
}

}  // namespace

std::string dump(const config::Config& config, bool with_marks) {
  Dumper d(with_marks);
  dump_server(d, config);
  dump_upstreams(d, config);
  dump_rollouts(d, config);
  dump_templates(d, config);
  return d.take();
}

}  // namespace vane::fuzz
