// The loader's section parsers: each reads one part of vane.yaml into its struct and reports
// type, range and shape errors through the Reader. Control thread, while loading only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace vane::config {

void parse_document(Reader& r, const Value& root, Config& out);

// parse_server.cpp
void parse_listeners(Reader& r, const Value& v, std::vector<Listener>& out);
void parse_admin(Reader& r, const Value& v, Admin& out);
void parse_state(Reader& r, const Value& v, State& out);
void parse_limits(Reader& r, const Value& v, Limits& out);
void parse_workers(Reader& r, const Value& v, uint32_t& out);
void parse_cluster(Reader& r, const Value& v, Cluster& out);
void parse_access_log(Reader& r, const Value& v, AccessLog& out);
/// certFile and keyFile of `m`, checked by the plugged-in TLS checks (readable, PEM, matching).
void read_certificate(Reader& r, MapReader& m, TlsCertificate& cert);
/// `caFile` of `m` into `out`, checked by the plugged-in TLS checks (readable PEM certificates).
void read_ca_file(Reader& r, MapReader& m, std::string& out);

// parse_upstream.cpp
void parse_upstreams(Reader& r, const Value& v, std::vector<Upstream>& out);
void parse_routes(Reader& r, const Value& v, std::vector<Route>& out);
/// `retries.on` / `shield.on`: a list of connect-failure, reset, timeout, 5xx.
std::vector<FailureKind> parse_failure_kinds(Reader& r, const Value& v);

// parse_rollout.cpp
void parse_rollouts(Reader& r, const Value& v, std::vector<Rollout>& out);
/// `background`: a canary's own `analysis` (accepts startingStep).
void parse_analysis_spec(Reader& r, const Value& v, AnalysisSpec& out, bool background);

// parse_step.cpp
/// False when `v` is not a map (reported); the step is then dropped.
bool parse_step(Reader& r, const Value& v, Step& out);

// parse_template.cpp
void parse_analysis_templates(Reader& r, const Value& v, std::vector<AnalysisTemplate>& out);

// parse_notifications.cpp
void parse_notifications(Reader& r, const Value& v, std::vector<Notifier>& out);
/// The required `url` of `m` (a notifier's, a gate step's): http:// or https://.
void read_webhook_url(Reader& r, MapReader& m, std::string& out);

// parse_value.cpp: values that may come from a file, read now, surrounding whitespace dropped
// (how a Kubernetes Secret reaches vane while the config stays a ConfigMap).
/// `valueFrom: {file: PATH}`: the file's content; Argo's other sources are refused.
std::optional<std::string> value_from(Reader& r, const Value& v);
/// `headers: [{key, value | valueFrom}]` of `m` (providers and notifiers).
void parse_headers(Reader& r, MapReader& m, std::vector<KeyValue>& out);
/// An analysis arg `{name, value | valueFrom}`; `value` Required: one of them must be given.
void parse_arg(Reader& r, const Value& v, Presence value, std::vector<Arg>& out);

// ---- shared helpers (parse_server.cpp) --------------------------------------------------------

struct HostPort {
  std::string host;  ///< brackets of an IPv6 literal removed
  uint16_t port = 0;
  std::string error;  ///< empty when the text is a valid host:port
};

HostPort parse_host_port(std::string_view text, uint16_t min_port);

/// An HTTP token (RFC 9110): header names, cookie names.
bool is_token(std::string_view text);

}  // namespace vane::config
