// Active health checks and passive ejection for every upstream (SPEC §3 "Health"): one prober
// per resolved address of an upstream with `healthCheck` (probing through the HttpClient), the
// passive outcomes the workers report, and an immutable HealthSnapshot published on every change.
// Time (probe intervals, ejection ends) comes from a steady Clock. Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "control/asio.hpp"
#include "control/clock.hpp"
#include "control/endpoint_health.hpp"
#include "proxy/config_snapshot.hpp"

namespace vane::control {

class HttpClient;

class HealthMonitor {
 public:
  /// Probe intervals and ejection ends (probe timeouts are the HttpClient's: real time).
  using Clock = control::Clock<std::chrono::steady_clock>;
  /// Receives every new snapshot (the caller posts it to the workers). Called on the control
  /// thread, from start() and whenever what the snapshot shows changes; it must not destroy the
  /// monitor.
  using Publish = std::function<void(std::shared_ptr<const proxy::HealthSnapshot>)>;

  /// `control`, `http` (a client on `control`) and `clock` (a TimerClock on `control` in the
  /// process) must outlive the monitor. Nothing runs before start().
  HealthMonitor(boost::asio::io_context& control, HttpClient& http,
                std::shared_ptr<const proxy::ConfigSnapshot> snapshot, Publish publish,
                Clock& clock, EjectionPolicy policy = {});
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;
  ~HealthMonitor();

  /// Publishes the current snapshot, starts the probers (each probes at once, then every
  /// `interval` from the start of its last probe) and the ejection timer.
  void start();
  /// Cancels every prober and timer: no handler touches the monitor afterwards. Idempotent.
  void stop();
  /// A reloaded config or re-resolved addresses: an address keeps its history when its upstream
  /// (by name), configured endpoint and address are unchanged (probe results only while both
  /// configs probe it); probers restart, probing at once. Publishes the new snapshot.
  void reconfigure(std::shared_ptr<const proxy::ConfigSnapshot> snapshot);

  /// A request outcome on `endpoint` (index into config_snapshot()->endpoints[upstream], one resolved
  /// address): `failure` = 5xx answer, connect failure, reset or timeout. Ignored when out of
  /// range or when the monitor is not running.
  void report(uint32_t upstream, uint32_t endpoint, bool failure);
  /// A worker's batch, in order; outcomes for another ConfigSnapshot are dropped.
  void report(const std::vector<proxy::PassiveOutcome>& batch);

  std::shared_ptr<const proxy::HealthSnapshot> snapshot() const { return published_; }
  /// Some endpoint is usable; with `healthCheck`, some usable endpoint has passed a probe.
  bool canary_ready(uint32_t upstream) const { return published_->upstream_ready(upstream); }
  const EndpointHealth& health(uint32_t upstream) const { return health_[upstream]; }
  /// The snapshot the indices of report() and of the snapshots refer to.
  const std::shared_ptr<const proxy::ConfigSnapshot>& config_snapshot() const { return config_snapshot_; }

 private:
  struct Link;
  struct Prober;

  /// Builds the per-upstream state for `snapshot`, keeping what carries over; rebuilds published_.
  void reset(std::shared_ptr<const proxy::ConfigSnapshot> snapshot);
  void start_probers();
  void on_probe(uint32_t upstream, uint32_t endpoint, bool passed);
  void on_expiry();
  /// Rebuilds the snapshot; publishes it when it differs, then re-arms the ejection timer.
  void changed();
  void arm_expiry();
  std::shared_ptr<const proxy::HealthSnapshot> build() const;
  /// "upstream NAME endpoint NAME (ADDRESS)", for the log.
  std::string describe(uint32_t upstream, uint32_t endpoint) const;

  boost::asio::io_context& control_;
  HttpClient& http_;
  Clock& clock_;
  std::shared_ptr<const proxy::ConfigSnapshot> config_snapshot_;
  Publish publish_;
  EjectionPolicy policy_;
  std::vector<EndpointHealth> health_;  ///< per config upstream
  std::shared_ptr<const proxy::HealthSnapshot> published_;
  std::shared_ptr<Link> link_;  ///< what running handlers find the monitor through
  std::vector<std::shared_ptr<Prober>> probers_;
  std::unique_ptr<Alarm> expiry_;  ///< fires when the earliest ejection ends
  std::optional<EndpointHealth::TimePoint> expiry_at_;
  bool running_ = false;
};

}  // namespace vane::control
