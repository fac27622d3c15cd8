// Upstreams (endpoints, health checks, retries, TLS) and routes.
#include <algorithm>
#include <cctype>

#include "config/parse.hpp"

namespace vane::config {
namespace {

void parse_endpoint(Reader& r, const Value& v, std::vector<Endpoint>& out) {
  const auto text = r.string(v);
  if (!text) return;
  Endpoint endpoint{*text, {}, 0, false};
  std::string_view rest = *text;
  if (rest.starts_with("https://")) {
    endpoint.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    r.error(v, "scheme must be http:// or https://");
    return;
  }
  HostPort hp = parse_host_port(rest, 1);
  if (!hp.error.empty()) {
    r.error(v, hp.error);
    return;
  }
  endpoint.host = std::move(hp.host);
  endpoint.port = hp.port;
  out.push_back(std::move(endpoint));
}

std::optional<HealthCheck> parse_health_check(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  HealthCheck hc;
  if (const auto path = m.take("path")) {
    const auto text = r.string(*path);
    if (text && !text->starts_with('/')) r.error(*path, "must start with '/'");
    if (text && text->starts_with('/')) hc.path = *text;
  }
  m.get_duration("interval", hc.interval);
  m.get_duration("timeout", hc.timeout);
  m.get("unhealthyThreshold", hc.unhealthy_threshold, Range::at_least(1));
  m.get("healthyThreshold", hc.healthy_threshold, Range::at_least(1));
  return hc;
}

void parse_retries(Reader& r, const Value& v, Retries& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  m.get("attempts", out.attempts, Range::at_least(0));
  if (const auto on = m.take("on")) out.on = parse_failure_kinds(r, *on);
}

std::optional<UpstreamTls> parse_upstream_tls(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  UpstreamTls tls;
  read_ca_file(r, m, tls.ca_file);
  m.get("insecureSkipVerify", tls.insecure_skip_verify);
  m.get("serverName", tls.server_name);
  return tls;
}

bool parse_upstream(Reader& r, const Value& v, Upstream& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  if (const auto endpoints = m.require("endpoints")) {
    for (const Value& item : r.list(*endpoints, Presence::Required)) {
      parse_endpoint(r, item, out.endpoints);
    }
  }
  m.get_duration("dnsRefresh", out.dns_refresh);
  m.get_duration("connectTimeout", out.connect_timeout);
  m.get_duration("timeout", out.timeout);
  m.get("maxConnectionsPerEndpoint", out.max_connections_per_endpoint, Range::at_least(1));
  if (const auto protocol = m.take("protocol")) {
    const auto text = r.string(*protocol);
    if (text == "h2") out.protocol = Protocol::H2;
    else if (text && *text != "http1") r.error(*protocol, "must be http1 or h2");
  }
  if (const auto hc = m.take("healthCheck")) out.health_check = parse_health_check(r, *hc);
  if (const auto retries = m.take("retries")) parse_retries(r, *retries, out.retries);
  if (const auto tls = m.take("tls")) out.tls = parse_upstream_tls(r, *tls);
  return true;
}

void parse_route_match(Reader& r, const Value& v, RouteMatch& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  // Invalid values are kept as written, so that they cause no follow-up duplicate errors.
  if (const auto host = m.take("host")) {
    auto text = r.string(*host);
    if (text && (text->empty() || text->find_first_of(" \t/") != std::string::npos)) {
      r.error(*host, "must be a host name without scheme or path");
    }
    // SPEC §3: `*.example.com` takes exactly one more label; '*' nowhere else.
    const auto star = text ? text->rfind('*') : std::string::npos;
    if (star != std::string::npos && (star != 0 || !text->starts_with("*.") || text->size() < 3)) {
      r.error(*host, "a wildcard host is *.DOMAIN: '*' only as the whole first label");
    }
    if (text) {
      std::transform(text->begin(), text->end(), text->begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      out.host = std::move(*text);
    }
  }
  if (const auto prefix = m.take("pathPrefix")) {
    const auto text = r.string(*prefix);
    if (text && !text->starts_with('/')) r.error(*prefix, "must start with '/'");
    if (text) out.path_prefix = *text;
  }
}

bool parse_route(Reader& r, const Value& v, Route& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  if (const auto match = m.take("match")) parse_route_match(r, *match, out.match);
  const bool has_upstream = m.get("upstream", out.upstream, Presence::Optional);
  if (const auto rollout = m.take("rollout")) {
    const auto text = r.string(*rollout);
    if (text) out.rollout = *text;
    if (has_upstream) r.error(*rollout, "a route has either upstream or rollout, not both");
  } else if (!m.has("upstream")) {
    r.error(v, "needs upstream or rollout");
  }
  return true;
}

}  // namespace

std::vector<FailureKind> parse_failure_kinds(Reader& r, const Value& v) {
  std::vector<FailureKind> kinds;
  for (const Value& item : r.list(v)) {
    const auto text = r.string(item);
    std::optional<FailureKind> kind;
    if (text == "connect-failure") kind = FailureKind::ConnectFailure;
    if (text == "reset") kind = FailureKind::Reset;
    if (text == "timeout") kind = FailureKind::Timeout;
    if (text == "5xx") kind = FailureKind::Status5xx;
    if (text && !kind) r.error(item, "must be one of connect-failure, reset, timeout, 5xx");
    if (kind && std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
  }
  return kinds;
}

void parse_upstreams(Reader& r, const Value& v, std::vector<Upstream>& out) {
  for (const Value& item : r.list(v)) {
    Upstream upstream;
    if (parse_upstream(r, item, upstream)) out.push_back(std::move(upstream));
  }
}

void parse_routes(Reader& r, const Value& v, std::vector<Route>& out) {
  for (const Value& item : r.list(v)) {
    Route route;
    if (parse_route(r, item, route)) out.push_back(std::move(route));
  }
}

}  // namespace vane::config
