// Listeners, admin, state, limits, workers and the access log: the process-wide part of the file.
#include <charconv>

#include "config/parse.hpp"

namespace vane::config {
namespace {

/// Reads an `address` value into its text, host and port.
void read_address(Reader& r, const Value& v, std::string& text, std::string& host,
                  uint16_t& port) {
  auto s = r.string(v);
  if (!s) return;
  HostPort hp = parse_host_port(*s, 0);  // port 0: the kernel picks one (tests)
  if (!hp.error.empty()) {
    r.error(v, hp.error);
    return;
  }
  text = std::move(*s);
  host = std::move(hp.host);
  port = hp.port;
}

}  // namespace

void read_ca_file(Reader& r, MapReader& m, std::string& out) {
  const auto ca_file = m.take("caFile");
  if (!ca_file) return;
  const auto text = r.string(*ca_file);
  if (text && !text->empty()) r.check_ca_file(*ca_file, *text);
  if (text) out = *text;
}

void read_certificate(Reader& r, MapReader& m, TlsCertificate& cert) {
  const bool has_cert = m.get("certFile", cert.cert_file, Presence::Required);
  m.get("keyFile", cert.key_file, Presence::Required);  // left empty when missing: not checked
  if (has_cert) r.check_certificate(m.self(), cert);
}

namespace {

std::optional<TlsCertificate> parse_certificate(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  TlsCertificate cert;
  read_certificate(r, m, cert);
  return cert;
}

std::optional<ListenerTls> parse_listener_tls(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  ListenerTls tls;
  const auto list = m.take("certificates");
  if (!list) {
    read_certificate(r, m, tls.certificates.emplace_back());
    return tls;
  }
  for (const char* single : {"certFile", "keyFile"}) {
    if (const auto extra = m.take(single)) r.error(*extra, "cannot be combined with certificates");
  }
  for (const Value& item : r.list(*list, Presence::Required)) {
    if (auto cert = parse_certificate(r, item)) tls.certificates.push_back(std::move(*cert));
  }
  return tls;
}

bool parse_listener(Reader& r, const Value& v, Listener& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  if (const auto address = m.require("address")) {
    read_address(r, *address, out.address, out.host, out.port);
  }
  if (const auto tls = m.take("tls")) out.tls = parse_listener_tls(r, *tls);
  if (const auto protocols = m.take("protocols")) {
    const std::vector<Value> items = r.list(*protocols);
    for (const Value& item : items) {
      const auto text = r.string(item);
      std::optional<Protocol> protocol;
      if (text == "http1") protocol = Protocol::Http1;
      if (text == "h2") protocol = Protocol::H2;
      if (text && !protocol) r.error(item, "must be http1 or h2");
      if (protocol && out.speaks(*protocol)) r.error(item, "is listed twice");
      if (protocol && !out.speaks(*protocol)) out.protocols.push_back(*protocol);
    }
    if (items.empty() && protocols->node->is_sequence()) r.error(*protocols, "must not be empty");
  } else if (out.tls) {
    out.protocols = {Protocol::H2, Protocol::Http1};
  } else {
    out.protocols = {Protocol::Http1};
  }
  return true;
}

}  // namespace

bool is_token(std::string_view text) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  if (text.empty()) return false;
  for (const char c : text) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && specials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

HostPort parse_host_port(std::string_view text, uint16_t min_port) {
  HostPort out;
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {  // [v6]:port
    const std::size_t close = text.find(']');
    if (close != std::string_view::npos && text.substr(close + 1).starts_with(':')) {
      host = text.substr(1, close - 1);
      port = text.substr(close + 2);
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) host = {};  // an IPv6 host needs brackets
  }
  if (host.empty() || port.empty() || host.find_first_of(" \t/[]") != std::string_view::npos) {
    out.error = "must be host:port ([v6]:port for IPv6)";
    return out;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value > 65535 ||
      value < min_port) {
    out.error = "port must be between " + std::to_string(min_port) + " and 65535";
    return out;
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return out;
}

void parse_listeners(Reader& r, const Value& v, std::vector<Listener>& out) {
  for (const Value& item : r.list(v)) {
    Listener listener;
    if (parse_listener(r, item, listener)) out.push_back(std::move(listener));
  }
}

void parse_admin(Reader& r, const Value& v, Admin& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  if (const auto address = m.take("address")) {
    read_address(r, *address, out.address, out.host, out.port);
  }
  m.get("tokenFile", out.token_file);
}

void parse_state(Reader& r, const Value& v, State& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  if (const auto dir = m.take("dir")) {
    const auto text = r.string(*dir);
    if (text && text->empty()) r.error(*dir, "must not be empty");
    if (text && !text->empty()) out.dir = *text;
  }
}

void parse_access_log(Reader& r, const Value& v, AccessLog& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  if (const auto path = m.require("path")) {
    if (const auto text = r.string(*path)) {
      out.path = *text;
      r.check_access_log(*path, out.path);
    }
  }
  if (const auto format = m.take("format")) {
    const auto text = r.string(*format);
    if (text && *text != "json") r.error(*format, "must be json");
  }
}

void parse_limits(Reader& r, const Value& v, Limits& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  const Range positive = Range::at_least(1);
  m.get("maxRequestLineBytes", out.max_request_line_bytes, positive);
  m.get("maxRequestHeaderBytes", out.max_request_header_bytes, positive);
  m.get("maxRequestHeaders", out.max_request_headers, positive);
  m.get("maxRequestBodyBytes", out.max_request_body_bytes, positive);
  m.get_duration("requestHeaderTimeout", out.request_header_timeout);
  m.get_duration("requestBodyTimeout", out.request_body_timeout);
  m.get_duration("idleTimeout", out.idle_timeout);
  m.get_duration("upgradedIdleTimeout", out.upgraded_idle_timeout);
  m.get("maxConcurrentStreams", out.max_concurrent_streams, positive);
  m.get("maxMirrorBodyBytes", out.max_mirror_body_bytes, positive);
  m.get("maxMirrorInFlight", out.max_mirror_in_flight, positive);
}

void parse_workers(Reader& r, const Value& v, uint32_t& out) {
  if (v.node->is_scalar() && v.node->scalar == "auto") {
    out = 0;
    return;
  }
  if (!v.node->plain) {
    r.error(v, "must be auto or a positive integer");
    return;
  }
  const auto n = r.integer(v, Range::at_least(1), std::numeric_limits<uint32_t>::max());
  if (n) out = static_cast<uint32_t>(*n);
}

}  // namespace vane::config
