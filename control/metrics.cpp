#include "control/metrics.hpp"

#include <map>

#include <boost/json/value.hpp>
#include <prometheus/text_serializer.h>

#include "analysis/window.hpp"
#include "control/health_monitor.hpp"
#include "control/process_metrics.hpp"
#include "proxy/worker.hpp"
#include "rollout/controller.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::control {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using analysis::Target;

ClientMetric sample(std::vector<ClientMetric::Label> labels) {
  ClientMetric metric;
  metric.label = std::move(labels);
  return metric;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, double value) {
  auto metric = sample(std::move(labels));
  metric.counter.value = value;
  return metric;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double value) {
  auto metric = sample(std::move(labels));
  metric.gauge.value = value;
  return metric;
}

/// Adds the family when it has samples (SPEC §8: a family appears once it has a sample).
void add(std::vector<MetricFamily>& out, MetricFamily family) {
  if (!family.metric.empty()) out.push_back(std::move(family));
}

std::string route_rollout(const config::Config& config, uint32_t route) {
  return config.routes[route].rollout;
}

void request_families(const MetricsSources& s, std::vector<MetricFamily>& out) {
  MetricFamily requests{"vane_requests_total", "Requests answered, by route, rollout side and status class.", MetricType::Counter, {}};
  MetricFamily durations{"vane_request_duration_seconds", "Time from the request head to the last response byte.", MetricType::Histogram, {}};
  for (uint32_t route = 0; route < s.layout->routes(); ++route) {
    for (int t = 0; t < analysis::kTargetCount; ++t) {
      const auto target = static_cast<Target>(t);
      const auto stats = analysis::sum_cumulative(s.shards, s.layout->route_series(route, target));
      if (stats.counts.requests == 0) continue;
      const std::string name = s.config->routes[route].name;
      const std::string rollout = route_rollout(*s.config, route);
      const std::string side = analysis::target_label(target, s.config->find_rollout(rollout));
      for (size_t c = 1; c < analysis::kCodeClassCount; ++c) {
        if (stats.counts.by_class[c] == 0) continue;
        requests.metric.push_back(counter({{"code_class", std::string(analysis::kCodeClassLabels[c])},
                                           {"rollout", rollout}, {"route", name}, {"target", side}},
                                          static_cast<double>(stats.counts.by_class[c])));
      }
      auto h = sample({{"rollout", rollout}, {"route", name}, {"target", side}});
      h.histogram.sample_count = stats.counts.requests;
      h.histogram.sample_sum = static_cast<double>(stats.counts.latency_sum_micros) / 1e6;
      const auto cumulative = stats.cumulative_buckets();
      for (size_t b = 0; b < analysis::kDurationBoundsMicros.size(); ++b) {
        h.histogram.bucket.push_back({cumulative[b], static_cast<double>(analysis::kDurationBoundsMicros[b]) / 1e6});
      }
      h.histogram.bucket.push_back({stats.counts.requests, std::numeric_limits<double>::infinity()});
      durations.metric.push_back(std::move(h));
    }
  }
  add(out, std::move(requests));
  add(out, std::move(durations));
}

void worker_families(const MetricsSources& s, std::vector<MetricFamily>& out) {
  static constexpr const char* kKinds[] = {"connect", "timeout", "reset", "protocol"};
  static constexpr const char* kReasons[] = {"body_too_large", "in_flight_limit", "no_connection"};
  MetricFamily failures{"vane_upstream_failures_total", "Failed upstream attempts, by kind.", MetricType::Counter, {}};
  for (uint32_t u = 0; u < s.config->upstreams.size(); ++u) {
    for (int k = 0; k < proxy::kFailureKinds; ++k) {
      uint64_t total = 0;
      for (const auto* w : s.workers) total += w->failures(u, static_cast<proxy::FailureKind>(k));
      if (total > 0) failures.metric.push_back(counter({{"kind", kKinds[k]}, {"upstream", s.config->upstreams[u].name}}, static_cast<double>(total)));
    }
  }
  MetricFamily connections{"vane_connections_active", "Open client connections, by listener.", MetricType::Gauge, {}};
  for (uint32_t l = 0; l < s.config->listeners.size(); ++l) {
    int64_t total = 0;
    for (const auto* w : s.worker_threads) total += w->connections(l);
    connections.metric.push_back(gauge({{"listener", s.config->listeners[l].name}}, static_cast<double>(total)));
  }
  MetricFamily streams{"vane_http2_streams_active", "HTTP/2 streams being served, by listener.",
                       MetricType::Gauge, {}};
  for (uint32_t l = 0; l < s.config->listeners.size(); ++l) {
    int64_t total = 0;
    for (const auto* w : s.worker_threads) total += w->h2_streams(l);
    streams.metric.push_back(gauge({{"listener", s.config->listeners[l].name}}, static_cast<double>(total)));
  }
  MetricFamily upgraded{"vane_upgraded_connections_active",
                        "Upgraded (WebSocket) connections open, by route.", MetricType::Gauge, {}};
  std::map<std::string, int64_t> by_route;
  for (const auto* w : s.worker_threads) {
    for (const auto& [route, open] : w->upgraded_connections()) by_route[route] += open;
  }
  for (const auto& [route, open] : by_route) {
    upgraded.metric.push_back(gauge({{"route", route}}, static_cast<double>(open)));
  }
  MetricFamily skipped{"vane_mirror_skipped_total", "Mirror copies not sent, by reason.", MetricType::Counter, {}};
  for (uint32_t r = 0; r < s.config->rollouts.size(); ++r) {
    for (int k = 0; k < proxy::kMirrorSkipKinds; ++k) {
      uint64_t total = 0;
      for (const auto* w : s.workers) total += w->mirror_skips(r, static_cast<proxy::MirrorSkip>(k));
      if (total > 0) skipped.metric.push_back(counter({{"reason", kReasons[k]}, {"rollout", s.config->rollouts[r].name}}, static_cast<double>(total)));
    }
  }
  MetricFamily dropped{"vane_access_log_dropped_total",
                       "Access-log lines dropped because the writer fell behind.", MetricType::Counter, {}};
  uint64_t lines = 0;
  for (const auto* w : s.worker_threads) lines += w->access_log_dropped();
  dropped.metric.push_back(counter({}, static_cast<double>(lines)));
  add(out, std::move(failures));
  add(out, std::move(connections));
  add(out, std::move(streams));
  add(out, std::move(upgraded));
  add(out, std::move(skipped));
  add(out, std::move(dropped));
}

/// One series per rollout, labelled as STATUS shows it: built anew each scrape, so a label that
/// changed leaves no stale series behind.
void rollout_info(const rollout::Controller& controller, std::vector<MetricFamily>& out) {
  MetricFamily info{"vane_rollout_info", "1 per rollout, labelled with its strategy, phase and versions as STATUS shows them.", MetricType::Gauge, {}};
  for (uint32_t r = 0; r < controller.config().rollouts.size(); ++r) {
    const config::Rollout& spec = controller.config().rollouts[r];
    const auto& state = controller.state(r);
    info.metric.push_back(gauge({{"canary", state.canary}, {"desired", spec.upstream},
                                 {"phase", std::string(rollout::to_string(state.phase))},
                                 {"rollout", spec.name}, {"stable", state.stable},
                                 {"strategy", spec.canary ? "canary" : "blueGreen"}},
                                1));
  }
  add(out, std::move(info));
}

/// Argo's analysis_run_metric_phase: each metric of the latest run, 1 for its phase. Like Argo,
/// a metric not measured yet is Pending.
void run_metric_phases(const config::Config& config,
                       const std::function<boost::json::array(uint32_t)>& runs,
                       std::vector<MetricFamily>& out) {
  static constexpr const char* kPhases[] = {"Pending", "Running", "Successful", "Failed", "Error", "Inconclusive"};
  MetricFamily phases{"vane_analysis_run_metric_phase", "1 for the phase of each metric of the rollout's latest analysis run, 0 for the others.", MetricType::Gauge, {}};
  for (uint32_t r = 0; r < config.rollouts.size(); ++r) {
    const boost::json::array latest = runs(r);
    if (latest.empty() || !latest.front().is_object()) continue;
    const auto* metrics = latest.front().as_object().if_contains("metrics");
    if (!metrics || !metrics->is_array()) continue;
    for (const auto& m : metrics->as_array()) {
      const auto& metric = m.as_object();
      std::string phase(metric.at("phase").as_string());
      const auto* measured = metric.if_contains("measurements");
      if (phase == "Running" && (!measured || measured->as_array().empty())) phase = "Pending";
      const std::string name(metric.at("name").as_string());
      for (const char* p : kPhases) {
        phases.metric.push_back(gauge({{"metric", name}, {"phase", p}, {"rollout", config.rollouts[r].name}}, phase == p ? 1 : 0));
      }
    }
  }
  add(out, std::move(phases));
}

void rollout_families(const MetricsSources& s, std::vector<MetricFamily>& out) {
  if (!s.controller) return;
  static constexpr rollout::Phase kPhases[] = {rollout::Phase::Healthy, rollout::Phase::Progressing,
                                               rollout::Phase::Paused, rollout::Phase::Degraded};
  MetricFamily phase{"vane_rollout_phase", "1 for the rollout's current phase, 0 for the others.", MetricType::Gauge, {}};
  MetricFamily weight{"vane_rollout_canary_weight", "The canary's weight in force, in percent.", MetricType::Gauge, {}};
  MetricFamily step{"vane_rollout_step_index", "The step being executed.", MetricType::Gauge, {}};
  const auto& controller = *s.controller;
  for (uint32_t r = 0; r < controller.config().rollouts.size(); ++r) {
    const std::string name = controller.config().rollouts[r].name;
    const auto& state = controller.state(r);
    for (auto p : kPhases) {
      phase.metric.push_back(gauge({{"phase", std::string(rollout::to_string(p))}, {"rollout", name}}, state.phase == p ? 1 : 0));
    }
    weight.metric.push_back(gauge({{"rollout", name}}, controller.plan(r).weight_centi / 100.0));
    step.metric.push_back(gauge({{"rollout", name}}, state.step_index));
  }
  add(out, std::move(phase));
  add(out, std::move(weight));
  add(out, std::move(step));
  rollout_info(controller, out);
  if (s.analysis_runs) run_metric_phases(controller.config(), s.analysis_runs, out);
}

/// One sample per resolved address: 1 when it may take traffic (SPEC §3: not failing its health
/// check, not ejected), as the workers see it.
void health_families(const MetricsSources& s, std::vector<MetricFamily>& out) {
  if (!s.health) return;
  const proxy::ConfigSnapshot& config = *s.health->config_snapshot();
  const proxy::HealthSnapshot& health = *s.health->snapshot();
  MetricFamily healthy{"vane_upstream_endpoint_healthy", "1 when the endpoint address may take traffic: not failing its health check, not ejected.", MetricType::Gauge, {}};
  for (size_t u = 0; u < config.endpoints.size(); ++u) {
    for (size_t e = 0; e < config.endpoints[u].size(); ++e) {
      const proxy::ResolvedEndpoint& target = config.endpoints[u][e];
      if (!target.resolved) continue;
      const auto ip = target.address.address();
      const std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
      const std::string address = host + ":" + std::to_string(target.address.port());
      healthy.metric.push_back(gauge({{"address", address}, {"endpoint", target.name},
                                      {"upstream", config.config->upstreams[u].name}},
                                     health.usable_endpoint(u, e) ? 1 : 0));
    }
  }
  add(out, std::move(healthy));
}

}  // namespace

std::string render_metrics(const MetricsSources& s) {
  std::vector<MetricFamily> families;
  families.push_back(MetricFamily{"vane_build_info", "1, labelled with the version vane was built as.", MetricType::Gauge, {gauge({{"version", VANE_VERSION}}, 1)}});
  add_process_metrics(families);
  request_families(s, families);
  worker_families(s, families);
  rollout_families(s, families);
  health_families(s, families);
  MetricFamily reloads{"vane_config_reloads_total", "Config reloads, by result.", MetricType::Counter, {}};
  // Both from the start, at 0: an alert's increase() needs the series before the first failure.
  reloads.metric.push_back(counter({{"result", "success"}}, static_cast<double>(s.reloads_succeeded)));
  reloads.metric.push_back(counter({{"result", "failure"}}, static_cast<double>(s.reloads_failed)));
  add(families, std::move(reloads));
  if (s.extra) s.extra(families);
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace vane::control
