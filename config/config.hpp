// The whole vane.yaml as plain values (SPEC §2). Built once by config::load() on the control
// thread, then only read (snapshots are shared as shared_ptr<const Config>). No behaviour here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/trigger.hpp"

namespace vane::config {

using Duration = std::chrono::milliseconds;

/// Where a value came from in the file (1-based), so later stages can report errors against it.
struct Mark {
  int line = 0;
  int column = 0;
};

struct TlsCertificate {
  std::string cert_file;
  std::string key_file;
};

struct ListenerTls {
  /// `tls: {certFile, keyFile}` is one entry; `tls: {certificates: [...]}` several (first = default).
  std::vector<TlsCertificate> certificates;
};

/// A protocol a listener speaks to clients (SPEC §10).
enum class Protocol : uint8_t { Http1, H2 };

struct Listener {
  std::string name;
  std::string address;  ///< "host:port" or "[v6]:port", as written
  std::string host;     ///< parsed host (brackets removed)
  uint16_t port = 0;
  std::optional<ListenerTls> tls;
  /// In order of preference (ALPN); default [h2, http1] with TLS, [http1] without.
  std::vector<Protocol> protocols;
  Mark mark;

  bool speaks(Protocol p) const {
    for (const Protocol q : protocols) {
      if (q == p) return true;
    }
    return false;
  }
};

struct Admin {
  std::string address = "127.0.0.1:9901";
  std::string host = "127.0.0.1";
  uint16_t port = 9901;
  std::string token_file;  ///< empty: no token needed
};

struct State {
  std::string dir = "./vane-state";
};

/// `accessLog` (SPEC §11): one JSON line per request.
struct AccessLog {
  std::string path;  ///< a file appended to; /dev/stdout and /dev/stderr are the process's own
  std::string format = "json";
};

struct Limits {
  uint32_t max_request_line_bytes = 8192;
  uint32_t max_request_header_bytes = 65536;
  uint32_t max_request_headers = 100;
  uint64_t max_request_body_bytes = 10485760;
  Duration request_header_timeout{10'000};
  Duration request_body_timeout{30'000};
  Duration idle_timeout{60'000};
  Duration upgraded_idle_timeout{3'600'000};  ///< an upgraded (WebSocket) connection, both ways silent
  uint32_t max_concurrent_streams = 100;      ///< per HTTP/2 connection
  uint64_t max_mirror_body_bytes = 1048576;
  uint32_t max_mirror_in_flight = 256;
};

struct HealthCheck {
  std::string path = "/healthz";
  Duration interval{5'000};
  Duration timeout{1'000};
  uint32_t unhealthy_threshold = 3;
  uint32_t healthy_threshold = 2;
};

/// Failure kinds named in `retries.on` and `shield.on`.
enum class FailureKind { ConnectFailure, Reset, Timeout, Status5xx };

struct Retries {
  uint32_t attempts = 0;  ///< retries after the first try
  std::vector<FailureKind> on{FailureKind::ConnectFailure, FailureKind::Reset};
};

struct UpstreamTls {
  std::string ca_file;
  bool insecure_skip_verify = false;
  std::string server_name;
};

struct Endpoint {
  std::string text;  ///< as written: "host:port" or "https://host:port"
  std::string host;
  uint16_t port = 0;
  bool tls = false;
};

struct Upstream {
  std::string name;
  std::vector<Endpoint> endpoints;
  Duration dns_refresh{5'000};
  Duration connect_timeout{1'000};
  Duration timeout{30'000};
  uint32_t max_connections_per_endpoint = 1024;
  Protocol protocol = Protocol::Http1;  ///< what vane speaks to it (SPEC §10)
  std::optional<HealthCheck> health_check;
  Retries retries;
  std::optional<UpstreamTls> tls;
  Mark mark;
};

struct RouteMatch {
  std::string host;  ///< empty: any host; stored lower-case
  std::string path_prefix = "/";
};

struct Route {
  std::string name;
  RouteMatch match;
  std::string upstream;  ///< exactly one of upstream / rollout is set
  std::string rollout;
  Mark mark;
};

// ---- rollouts -------------------------------------------------------------------------------

struct StringMatch {
  enum class Kind { Exact, Prefix, Regex };
  Kind kind = Kind::Exact;
  std::string value;

  friend bool operator==(const StringMatch&, const StringMatch&) = default;
};

struct HeaderCondition {
  std::string name;
  StringMatch value;

  friend bool operator==(const HeaderCondition&, const HeaderCondition&) = default;
};

/// One entry of a setHeaderRoute / setMirrorRoute `match` list: all present conditions AND.
struct RouteCondition {
  std::optional<StringMatch> method;
  std::optional<StringMatch> path;
  std::vector<HeaderCondition> headers;  ///< setHeaderRoute: headerName/headerValue is one entry

  friend bool operator==(const RouteCondition&, const RouteCondition&) = default;
};

struct HeaderRouteStep {
  std::string name;
  std::vector<RouteCondition> match;  ///< empty: remove the route of that name

  friend bool operator==(const HeaderRouteStep&, const HeaderRouteStep&) = default;
};

struct MirrorRouteStep {
  std::string name;
  double percentage = 100;
  std::vector<RouteCondition> match;  ///< empty: remove the route of that name

  friend bool operator==(const MirrorRouteStep&, const MirrorRouteStep&) = default;
};

struct Arg {
  std::string name;
  std::optional<std::string> value;  ///< unset: required; `valueFrom: {file}` already read
};

struct AnalysisTemplateRef {
  std::string template_name;
};

struct AnalysisSpec {
  std::vector<AnalysisTemplateRef> templates;
  std::vector<Arg> args;
  uint32_t starting_step = 0;  ///< background analysis only
  Mark mark;
};

struct PauseStep {
  std::optional<Duration> duration;  ///< unset: wait for promote
};

/// A gate step (SPEC §14): waits until an outside system's URL answers 2xx (403 aborts).
struct GateStep {
  std::string name;                ///< default gate-<step index>
  std::string url;                 ///< http:// or https:// (the system's trust store)
  uint32_t interval_seconds = 5;   ///< between polls
  std::optional<uint32_t> timeout_seconds;  ///< unset: waits until answered or promoted
};

/// One template of an experiment step (SPEC §14): an upstream that takes `weight` percent of the
/// route's traffic while the experiment runs, measured as target `experiment:NAME`.
struct ExperimentTemplate {
  std::string name;
  std::string upstream;  ///< set when given; else `spec_ref` names the side
  std::string spec_ref;  ///< "stable" or "canary" (the rollout's); "" when `upstream` is given
  uint32_t weight_centi = 0;  ///< in hundredths of a percent
  uint8_t slot = 0;  ///< its measurement slot: index in CanaryStrategy::experiment_names
};

/// An experiment's analysis: one run of one template with its args.
struct ExperimentAnalysis {
  std::string name;
  AnalysisSpec spec;  ///< `templateName` as its one template, and `args`
};

/// An experiment step (SPEC §14, Argo's `experiment`).
struct ExperimentStep {
  std::string name;  ///< default experiment-<step index>
  std::optional<Duration> duration;  ///< unset: until its analyses finish
  std::vector<ExperimentTemplate> templates;
  std::vector<ExperimentAnalysis> analyses;
};

/// At most this many distinct experiment template names per rollout: each is a measurement slot
/// (analysis::Target) of every series of the rollout's routes.
inline constexpr std::size_t kMaxExperimentNames = 4;

struct Step {
  enum class Kind { SetWeight, Pause, Analysis, SetHeaderRoute, SetMirrorRoute, Gate, Experiment };
  Kind kind = Kind::SetWeight;
  uint32_t weight_centi = 0;  ///< setWeight in hundredths of a percent: 0..10000
  PauseStep pause;
  AnalysisSpec analysis;
  HeaderRouteStep header_route;
  MirrorRouteStep mirror_route;
  GateStep gate;
  ExperimentStep experiment;
  Mark mark;
};

struct Stickiness {
  std::string cookie;  ///< exactly one of cookie / header
  std::string header;
};

struct Shield {
  std::vector<FailureKind> on;
  Duration timeout{1'000};
};

struct CanaryStrategy {
  std::vector<Step> steps;
  std::optional<Stickiness> stickiness;
  std::optional<Shield> shield;
  std::optional<AnalysisSpec> analysis;  ///< background analysis
  /// The distinct names of the experiment steps' templates, in order of first use: a template's
  /// `slot`, and the NAME of its target `experiment:NAME`.
  std::vector<std::string> experiment_names;
};

struct BlueGreenStrategy {
  std::string preview_route;  ///< empty: the new version gets no traffic before promotion
  bool auto_promotion_enabled = true;
  uint32_t auto_promotion_seconds = 0;  ///< 0: promote as soon as the preview is ready; ignored
                                        ///< when auto_promotion_enabled is false (as in Argo)
  std::optional<AnalysisSpec> pre_promotion_analysis;
  std::optional<AnalysisSpec> post_promotion_analysis;
  std::optional<uint32_t> scale_down_delay_seconds;  ///< unset: Rollout::scale_down_delay_seconds
  uint32_t abort_scale_down_delay_seconds = 30;
};

struct Rollout {
  std::string name;
  std::string upstream;  ///< the desired version
  uint32_t progress_deadline_seconds = 600;
  bool progress_deadline_abort = false;
  uint32_t scale_down_delay_seconds = 30;
  std::optional<CanaryStrategy> canary;  ///< exactly one of canary / blue_green
  std::optional<BlueGreenStrategy> blue_green;
  Mark mark;
};

// ---- analysis templates ---------------------------------------------------------------------

struct KeyValue {
  std::string key;
  std::string value;
};

struct BuiltinProvider {
  std::string metric;  ///< success-rate, error-rate, request-rate, latency-p50|p90|p95|p99|mean
  Duration window{30'000};
  uint32_t min_requests = 1;
  std::string target = "canary";  ///< canary, stable, mirror or experiment:NAME
  bool target_given = false;  ///< in an experiment's analyses, no target means its canary
                              ///< template (SPEC §14)
};

struct PrometheusProvider {
  std::string address;
  std::string query;
  uint32_t timeout_seconds = 30;
  std::vector<KeyValue> headers;
};

struct WebProvider {
  std::string url;
  std::string method = "GET";
  std::vector<KeyValue> headers;
  std::string body;
  uint32_t timeout_seconds = 10;
  std::string json_path = "$";
};

/// A local program whose exit code and stdout are the measurement (Argo's `job`, without a pod).
struct ExecProvider {
  std::vector<std::string> command;  ///< the program (looked up on PATH) and its arguments
  uint32_t timeout_seconds = 10;
  std::string json_path = "$";
};

struct Metric {
  std::string name;
  std::optional<Duration> interval;
  Duration initial_delay{0};
  std::optional<uint32_t> count;
  std::string success_condition;  ///< empty: none; `{{args.X}}` not yet substituted
  std::string failure_condition;
  Mark success_condition_mark;
  Mark failure_condition_mark;
  int32_t failure_limit = 0;  ///< -1: never fail
  int32_t inconclusive_limit = 0;
  int32_t consecutive_error_limit = 4;
  int32_t consecutive_success_limit = 0;
  std::optional<BuiltinProvider> builtin;  ///< exactly one provider
  std::optional<PrometheusProvider> prometheus;
  std::optional<WebProvider> web;
  std::optional<ExecProvider> exec;
  Mark mark;
};

struct MeasurementRetention {
  std::string metric_name;
  uint32_t limit = 10;
};

struct AnalysisTemplate {
  std::string name;
  std::vector<Arg> args;
  std::vector<Metric> metrics;
  std::vector<std::string> dry_run;  ///< metric names
  std::vector<MeasurementRetention> measurement_retention;
  Mark mark;
};

// ---- cluster (SPEC §9) --------------------------------------------------------------------------

/// TLS to etcd: trust (`caFile`, empty: the system's store) and an optional client certificate.
struct EtcdTls {
  std::string ca_file;
  std::string cert_file;  ///< with key_file, or neither
  std::string key_file;

  friend bool operator==(const EtcdTls&, const EtcdTls&) = default;
};

struct Etcd {
  std::vector<std::string> endpoints;  ///< "http://host:port" or "https://host:port"
  std::string prefix;                  ///< every key of the cluster lives under it; no trailing '/'
  Duration dial_timeout{2'000};        ///< connecting, and each call but a watch
  std::optional<EtcdTls> tls;

  friend bool operator==(const Etcd&, const Etcd&) = default;
};

struct Cluster {
  Etcd etcd;
  std::string replica_name;                     ///< default: the host name
  std::chrono::seconds lease_ttl{5};            ///< whole seconds, >= 2 s
  Duration publish_interval{1'000};
  Mark mark;
};

// ---- notifications (SPEC §11) -----------------------------------------------------------------

/// A webhook that events are POSTed to.
struct Notifier {
  enum class Format : uint8_t { Json, Slack };

  std::string name;
  std::string url;                    ///< http:// or https://
  std::vector<Trigger> events;        ///< empty: every event
  std::vector<std::string> rollouts;  ///< empty: every rollout (and the events of none)
  std::vector<KeyValue> headers;      ///< values from `valueFrom.file` already read
  Format format = Format::Json;
  std::chrono::seconds timeout{5};    ///< each attempt
  UpstreamTls tls;                    ///< `caFile` (empty: the system's store)
  Mark mark;
};

// ---- the file ---------------------------------------------------------------------------------

struct Config {
  std::string file;  ///< path as given to -c, used in error messages
  std::vector<Listener> listeners;
  Admin admin;
  State state;
  Limits limits;
  uint32_t workers = 0;  ///< 0: auto (number of cores)
  std::vector<Upstream> upstreams;
  std::vector<Route> routes;
  std::vector<Rollout> rollouts;
  std::vector<AnalysisTemplate> analysis_templates;
  std::optional<Cluster> cluster;  ///< unset: a single node (state dir)
  std::vector<Notifier> notifications;
  std::optional<AccessLog> access_log;  ///< unset: off (unless `run --access-log`)
  /// SPEC §9 `configDigest`: of upstreams, routes, rollouts and analysisTemplates as written.
  std::string digest;
  std::string content_digest;  ///< of the whole file the same way: a reload changed something

  const Upstream* find_upstream(std::string_view name) const;
  const Rollout* find_rollout(std::string_view name) const;
  const AnalysisTemplate* find_template(std::string_view name) const;
};

}  // namespace vane::config
