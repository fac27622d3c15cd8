// The running process: builds the data plane from a Config, binds listeners and the admin API,
// starts the workers, and runs the control thread: signals, admin API, rollout controller ticks,
// gate polls, reloads and drain. `run()` is the control thread; the rest is called from it unless marked
// thread-safe. (server.cpp: lifecycle; server_reload.cpp: generations and reload;
// server_sources.cpp: what the admin API reads; server_health.cpp: health checks and ejection;
// server_access_log.cpp: the access log's file across reloads;
// server_cluster.cpp: one replica of a cluster, SPEC §9.)
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "config/loader.hpp"
#include "control/admin_api.hpp"
#include "control/admin_listener.hpp"
#include "control/analysis_runner.hpp"
#include "control/cluster.hpp"
#include "control/cluster_measurements.hpp"
#include "control/config_watcher.hpp"
#include "control/event_log.hpp"
#include "control/gate_poller.hpp"
#include "control/heap_release.hpp"
#include "control/notifications.hpp"
#include "control/series_ring.hpp"
#include "proxy/generation.hpp"
#include "control/clock.hpp"
#include "control/health_monitor.hpp"
#include "control/http_client.hpp"
#include "proxy/stats_layout.hpp"
#include "control/status_json.hpp"
#include "proxy/worker.hpp"
#include "rollout/controller.hpp"
#include "rollout/state_store.hpp"

namespace vane::control {

struct ServerOptions {
  std::string config_path;     ///< re-read on reload; empty: no reload
  std::string ready_file;      ///< written once bound: {"pid","admin","listeners":{name: addr}}
  bool handle_signals = true;  ///< SIGTERM/SIGINT drain, SIGHUP reload
  bool watch_config = false;   ///< reload when the file changes (inotify on its directory)
  std::string access_log;      ///< a file, "-" for stderr; wins over the config's accessLog
};

class Server {
 public:
  Server(std::shared_ptr<const config::Config> config, ServerOptions options);
  ~Server();

  /// Binds every listener and the admin API, starts the workers. Throws on a bind error.
  void start();
  /// Runs the control loop until drained. Returns the exit code (1: the cluster refused this
  /// replica).
  int run();
  /// Thread-safe: begin the graceful shutdown of SPEC §7.
  void request_stop();

  /// Re-reads the config file: applied to every worker, or rejected with every error (the old
  /// config keeps serving). Control thread.
  std::vector<config::Error> reload();

  /// Bound addresses ("127.0.0.1:41234"), after start().
  const std::map<std::string, std::string>& listener_addresses() const { return listeners_; }
  const std::string& admin_address() const { return admin_address_; }

 private:
  // server.cpp
  void drain();
  void wait_for_workers(std::chrono::steady_clock::time_point give_up);
  void write_ready_file() const;
  void watch_signals();
  void schedule_tick();
  /// Polls the gate steps the rollouts wait on now (none when not leading or draining).
  void sync_gates();
  void bind_listeners();
  void schedule_dns_refresh();
  void refresh_dns();
  void apply_snapshot(std::shared_ptr<const proxy::ConfigSnapshot> snapshot);
  // server_reload.cpp
  void start_controller();
  /// The on-config-rejected event of a reload.
  void reject(const std::vector<config::Error>& errors);
  std::vector<proxy::GenerationParts> build_generations(std::shared_ptr<const proxy::ConfigSnapshot> snapshot);
  std::vector<std::vector<bool>> used_upstreams() const;
  // server_sources.cpp
  void connect_admin_sources();
  std::optional<MeasuredWeights> measured_weights(uint32_t rollout) const;
  /// The series ids of one side of a rollout, over every upstream it may send to.
  std::vector<uint32_t> side_series(uint32_t rollout, analysis::Target target) const;
  /// Once a second (from the tick): the last few seconds of every rollout into its ring, read
  /// again each time until they can no longer change (kSeriesRereadSeconds).
  void sample_series();
  boost::json::object series_json(uint32_t rollout) const;
  analysis::WindowStats builtin_window(uint32_t rollout, const std::string& upstream,
                                       analysis::Target target, int64_t window_seconds,
                                       bool histogram) const;
  std::string metrics() const;
  std::vector<const analysis::OutcomeShard*> shards() const;  ///< the workers'
  /// What analysis and measuredWeights read: the workers' shards, or in a cluster every member's.
  std::vector<const analysis::OutcomeShard*> analysis_shards() const;
  // server_health.cpp
  void make_health_monitor();
  void start_health_monitor();
  void publish_health(std::shared_ptr<const proxy::HealthSnapshot> snapshot);
  // server_access_log.cpp
  std::string access_log_path() const;
  void open_access_log();
  void reopen_access_log();
  // server_cluster.cpp
  void make_cluster();
  void start_serving();
  void lead(bool leading);
  /// The controller follows the rollout states etcd holds.
  void follow_committed();
  Task<AdminResponse> answer(const AdminRequest& request);
  Task<std::optional<AdminResponse>> ask_leader(const AdminRequest& request,
                                                std::chrono::steady_clock::time_point deadline);
  boost::json::object cluster_json() const;
  void add_cluster_metrics(std::vector<prometheus::MetricFamily>& out) const;

  std::shared_ptr<const config::Config> config_;
  ServerOptions options_;
  boost::asio::io_context control_;
  HttpClient http_;  ///< the control thread's outbound HTTP: analysis providers, health probes
  TimerClock<std::chrono::system_clock> wall_clock_{control_};    ///< analysis runs
  TimerClock<std::chrono::steady_clock> steady_clock_{control_};  ///< health probes, ejections
  AdminApi api_;
  std::unique_ptr<AdminListener> admin_;
  std::unique_ptr<ConfigWatcher> watcher_;
  EventLog events_;  ///< before the controller, whose transitions it records
  Notifications notifications_{control_, http_};  ///< after http_, which its deliveries use
  std::unique_ptr<AnalysisRunner> runner_;  ///< before the controller, whose effects it carries out
  std::unique_ptr<HealthMonitor> health_;  ///< before the controller, whose `healthy` hook reads it
  /// Where the controller keeps progress (before it): the state dir, or the cluster's etcd.
  std::unique_ptr<rollout::StateStore> store_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<ClusterMeasurements> measurements_;  ///< with cluster_
  std::unique_ptr<rollout::Controller> controller_;
  std::unique_ptr<GatePoller> gates_;  ///< reports to the controller; stopped before it goes
  std::unique_ptr<proxy::AccessLog> access_log_;  ///< outlives the workers (declared before them)
  std::map<std::string, SeriesRing> series_;  ///< by rollout name: kept across reloads
  int64_t series_second_ = 0;                 ///< the steady second sampled last
  std::shared_ptr<const proxy::ConfigSnapshot> snapshot_;
  std::shared_ptr<const proxy::StatsLayout> layout_;
  std::vector<proxy::GenerationParts> generations_;  ///< the current one of each worker
  std::vector<std::unique_ptr<proxy::Worker>> workers_;
  std::map<std::string, std::string> listeners_;
  std::string admin_address_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer tick_timer_;
  HeapRelease heap_release_;  ///< the allocator's pages a burst left, given back (from the tick)
  boost::asio::steady_timer dns_timer_;
  boost::asio::ip::tcp::resolver resolver_;
  uint64_t reloads_succeeded_ = 0;
  uint64_t reloads_failed_ = 0;
  bool draining_ = false;
  bool serving_ = false;  ///< workers accept (in a cluster: once its state was read)
  int exit_code_ = 0;
};

/// The steady clock in whole seconds, as workers record outcomes.
int64_t steady_seconds();

/// "127.0.0.1:8080" / "[::1]:8080" for an endpoint.
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);
/// http://ADDRESS of a bound admin listener as other replicas reach it (the host name when it
/// is bound to every address).
std::string advertised_admin_url(const boost::asio::ip::tcp::endpoint& bound);

}  // namespace vane::control
