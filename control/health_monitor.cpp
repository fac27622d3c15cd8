#include "control/health_monitor.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "control/asio.hpp"
#include "control/http_client.hpp"
#include "proxy/log.hpp"

namespace vane::control {
namespace {

/// A floor under `interval`: a zero interval against a refusing port would spin the thread.
constexpr std::chrono::milliseconds kMinInterval{10};

/// The address as a URL host: IPv6 in brackets.
std::string url_host(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

}  // namespace

struct HealthMonitor::Link {
  HealthMonitor* monitor;  ///< null once the monitor stopped
};

/// One address's prober: its probe request, the alarm of its next probe and the probe in flight.
struct HealthMonitor::Prober {
  Prober(std::shared_ptr<Link> l, Executor e) : link(std::move(l)), executor(e) {}

  /// Probes now (a coroutine on `executor`), then every `interval` until cancelled.
  static void start(std::shared_ptr<Prober> self);
  static Task<void> probe(std::shared_ptr<Prober> self);
  /// The prober then sees the monitor gone and ends.
  void cancel() {
    next.reset();
    if (inflight) inflight->cancel();
  }

  std::shared_ptr<Link> link;
  Executor executor;
  uint32_t upstream = 0;
  uint32_t endpoint = 0;
  HttpCall call;
  std::chrono::milliseconds interval{};
  std::unique_ptr<Alarm> next;  ///< the next probe, while waiting for it
  std::shared_ptr<HttpCancel> inflight;      ///< the probe in flight
};

void HealthMonitor::Prober::start(std::shared_ptr<Prober> self) {
  const Executor executor = self->executor;
  net::co_spawn(executor, probe(std::move(self)), net::detached);
}

Task<void> HealthMonitor::Prober::probe(std::shared_ptr<Prober> self) {
  HealthMonitor* monitor = self->link->monitor;
  if (monitor == nullptr) co_return;  // stopped before this began
  const auto started = monitor->clock_.now();
  self->inflight = std::make_shared<HttpCancel>();
  const HttpReply reply = co_await monitor->http_.fetch(self->call, self->inflight);
  self->inflight.reset();
  monitor = self->link->monitor;
  if (monitor == nullptr) co_return;
  monitor->on_probe(self->upstream, self->endpoint,
                    reply.answered() && reply.status >= 200 && reply.status < 400);
  // The alarm holds the prober until it fires or the monitor stops (which destroys the alarm).
  self->next = monitor->clock_.wake_at(started + self->interval, [self] { start(self); });
}

HealthMonitor::HealthMonitor(net::io_context& control, HttpClient& http,
                             std::shared_ptr<const proxy::ConfigSnapshot> snapshot,
                             Publish publish, Clock& clock, EjectionPolicy policy)
    : control_(control),
      http_(http),
      clock_(clock),
      publish_(std::move(publish)),
      policy_(policy) {
  reset(std::move(snapshot));
}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  if (running_) return;
  running_ = true;
  link_ = std::make_shared<Link>(Link{this});
  published_ = build();
  publish_(published_);
  start_probers();
  arm_expiry();
}

void HealthMonitor::stop() {
  if (!running_) return;
  running_ = false;
  link_->monitor = nullptr;
  for (auto& prober : probers_) prober->cancel();
  probers_.clear();
  expiry_.reset();
  expiry_at_.reset();
}

void HealthMonitor::reconfigure(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  const bool was_running = running_;
  stop();
  reset(std::move(snapshot));
  if (was_running) {
    start();
  } else {
    publish_(published_);
  }
}

void HealthMonitor::report(uint32_t upstream, uint32_t endpoint, bool failure) {
  if (!running_) return;
  if (upstream >= health_.size() || endpoint >= health_[upstream].size()) return;
  if (!failure) {
    health_[upstream].passive_success(endpoint);
    return;
  }
  const bool ejected = health_[upstream].passive_failure(endpoint, clock_.now());
  if (ejected) {
    proxy::log::warn(describe(upstream, endpoint) + " ejected after consecutive failures");
    changed();
  }
}

void HealthMonitor::report(const std::vector<proxy::PassiveOutcome>& batch) {
  for (const proxy::PassiveOutcome& outcome : batch) {
    if (outcome.config_snapshot == config_snapshot_.get()) report(outcome.upstream, outcome.endpoint, outcome.failure);
  }
}

void HealthMonitor::on_probe(uint32_t upstream, uint32_t endpoint, bool passed) {
  auto& health = health_[upstream];
  const auto now = clock_.now();
  const bool was_usable = health.usable(endpoint, now);
  const bool differs = passed ? health.probe_passed(endpoint, now)
                              : health.probe_failed(endpoint, now);
  if (!differs) return;
  if (was_usable != health.usable(endpoint, now)) {
    proxy::log::info(describe(upstream, endpoint) +
              (passed ? " passes its health check" : " fails its health check"));
  }
  changed();
}

std::string HealthMonitor::describe(uint32_t upstream, uint32_t endpoint) const {
  const proxy::ResolvedEndpoint& target = config_snapshot_->endpoints[upstream][endpoint];
  return "upstream " + config_snapshot_->config->upstreams[upstream].name + " endpoint " + target.name +
         " (" + target.address.address().to_string() + ")";
}

void HealthMonitor::on_expiry() {
  expiry_at_.reset();
  const auto now = clock_.now();
  for (auto& health : health_) health.tick(now);
  changed();
}

void HealthMonitor::changed() {
  auto next = build();
  if (*next != *published_) {
    published_ = std::move(next);
    publish_(published_);
  }
  arm_expiry();
}

void HealthMonitor::arm_expiry() {
  if (!running_) return;
  std::optional<EndpointHealth::TimePoint> next;
  for (const auto& health : health_) {
    const auto at = health.next_expiry();
    if (at && (!next || *at < *next)) next = at;
  }
  if (next == expiry_at_) return;
  expiry_at_ = next;
  if (!next) {
    expiry_.reset();
    return;
  }
  expiry_ = clock_.wake_at(*next, [link = link_] {
    if (link->monitor != nullptr) link->monitor->on_expiry();
  });
}


namespace {

/// Moves the history of the addresses `to` shares with `from` (same configured endpoint, same
/// address). Probe results only when both upstreams are probed.
void carry_over(const EndpointHealth& from, const std::vector<proxy::ResolvedEndpoint>& from_endpoints,
                EndpointHealth& to, const std::vector<proxy::ResolvedEndpoint>& to_endpoints) {
  for (size_t e = 0; e < to.size(); ++e) {
    for (size_t old = 0; old < from.size(); ++old) {
      const proxy::ResolvedEndpoint& a = from_endpoints[old];
      const proxy::ResolvedEndpoint& b = to_endpoints[e];
      if (a.name != b.name || a.address != b.address || a.resolved != b.resolved) continue;
      EndpointHealth::State state = from.state(old);
      if (!from.has_health_check() || !to.has_health_check()) {
        state.probe = EndpointHealth::Probe::Unknown;
        state.streak = 0;
        state.ever_passed = false;
      }
      to.restore(e, state);
      break;
    }
  }
}

/// The configured endpoint an address came from.
const config::Endpoint* configured(const config::Upstream& upstream,
                                   const proxy::ResolvedEndpoint& target) {
  for (const auto& endpoint : upstream.endpoints) {
    if (endpoint.text == target.name) return &endpoint;
  }
  return nullptr;
}

/// The probe of one address (decisions.md, "Probes"): GET healthCheck.path on a connection of its
/// own, Host the endpoint's host:port; for https:// endpoints over TLS with the upstream's `tls`,
/// whose name (SNI, verified) is `serverName`, else the endpoint's host: the URL's.
HttpCall probe_call(const config::Upstream& upstream, const proxy::ResolvedEndpoint& target) {
  const config::Endpoint* origin = configured(upstream, target);
  const bool tls = origin && origin->tls;
  const std::string host = origin ? url_host(origin->host) + ":" + std::to_string(origin->port)
                                  : url_host(target.address.address().to_string()) + ":" +
                                        std::to_string(target.address.port());
  HttpCall call;
  call.url = (tls ? "https://" : "http://") + host + upstream.health_check->path;
  call.headers = {{"Host", target.authority}, {"User-Agent", "vane-health-check"}};
  call.timeout = upstream.health_check->timeout;
  call.connect_to = target.address;
  call.head_only = true;
  if (tls) call.tls = upstream.tls.value_or(config::UpstreamTls{});
  return call;
}

}  // namespace

void HealthMonitor::reset(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  std::vector<EndpointHealth> health;
  const auto& upstreams = snapshot->config->upstreams;
  for (size_t u = 0; u < snapshot->endpoints.size(); ++u) {
    auto& added = health.emplace_back(snapshot->endpoints[u].size(), upstreams[u].health_check,
                                      policy_);
    if (!config_snapshot_) continue;
    const auto& old_upstreams = config_snapshot_->config->upstreams;
    for (size_t old = 0; old < health_.size(); ++old) {
      if (old_upstreams[old].name != upstreams[u].name) continue;
      carry_over(health_[old], config_snapshot_->endpoints[old], added, snapshot->endpoints[u]);
      break;
    }
  }
  health_ = std::move(health);
  config_snapshot_ = std::move(snapshot);
  published_ = build();
}

void HealthMonitor::start_probers() {
  const auto& upstreams = config_snapshot_->config->upstreams;
  for (uint32_t u = 0; u < config_snapshot_->endpoints.size(); ++u) {
    const config::Upstream& upstream = upstreams[u];
    if (!upstream.health_check) continue;
    for (uint32_t e = 0; e < config_snapshot_->endpoints[u].size(); ++e) {
      const proxy::ResolvedEndpoint& target = config_snapshot_->endpoints[u][e];
      if (!target.resolved) continue;  // never usable: nothing to probe
      auto prober = std::make_shared<Prober>(link_, control_.get_executor());
      prober->upstream = u;
      prober->endpoint = e;
      prober->call = probe_call(upstream, target);
      prober->interval = std::max(upstream.health_check->interval, kMinInterval);
      probers_.push_back(prober);
      Prober::start(std::move(prober));
    }
  }
}

std::shared_ptr<const proxy::HealthSnapshot> HealthMonitor::build() const {
  auto snapshot = std::make_shared<proxy::HealthSnapshot>();
  snapshot->config_snapshot = config_snapshot_.get();
  const auto now = clock_.now();
  for (size_t u = 0; u < health_.size(); ++u) {
    const EndpointHealth& health = health_[u];
    std::vector<bool> usable = health.usable_mask(now);
    bool ready = false;
    for (size_t e = 0; e < usable.size(); ++e) {
      usable[e] = usable[e] && config_snapshot_->endpoints[u][e].resolved;
      ready = ready || (usable[e] && (!health.has_health_check() || health.state(e).ever_passed));
    }
    snapshot->usable.push_back(std::move(usable));
    snapshot->passed_probe.push_back(health.any_passed_probe());
    snapshot->ready.push_back(ready);
  }
  return snapshot;
}

}  // namespace vane::control
