// One data-plane thread: its own io_context, SO_REUSEPORT acceptors, sessions, config
// generations (with their upstream pools), the health snapshot, buffers and the deadline tick
// (which also hands the batched passive outcomes over). Shared-nothing: its members are touched
// only on its thread, except the few methods marked thread-safe (they post to it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proxy/access_log.hpp"
#include "proxy/net/buffer.hpp"
#include "proxy/net/deadline.hpp"
#include "proxy/health_snapshot.hpp"
#include "proxy/generation.hpp"
#include "proxy/http/message.hpp"
#include "proxy/idle_connection.hpp"
#include "proxy/net/types.hpp"
#include "proxy/http/request_id.hpp"
#include "proxy/tunnel.hpp"
#include "rollout/routing_table.hpp"

namespace vane::proxy {

class Worker {
 public:
  Worker(uint32_t index, uint32_t worker_count, size_t listeners, GenerationParts generation,
         std::shared_ptr<const rollout::RoutingTable> table);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  /// Binds an acceptor (SO_REUSEPORT) before start(); returns the bound address (port 0 resolved).
  tcp::endpoint listen(const tcp::endpoint& at);

  void start();
  /// Thread-safe: stop accepting, close idle connections, finish in-flight requests, then stop.
  void drain();
  /// Thread-safe: routing from now on follows `table` (requests in flight keep their decision).
  void set_table(std::shared_ptr<const rollout::RoutingTable> table);
  /// Thread-safe: a reloaded config and the table for it; requests in flight finish on the old.
  void reload(GenerationParts generation, std::shared_ptr<const rollout::RoutingTable> table);
  /// Thread-safe: which endpoints may take traffic from now on (see usable()).
  void set_health(std::shared_ptr<const HealthSnapshot> snapshot);
  /// Where this worker's passive outcomes go, a batch per tick (called on the worker thread; it
  /// posts them on). Before start(); unset: outcomes are not collected.
  using HealthReports = std::function<void(std::vector<PassiveOutcome>)>;
  void set_health_reports(HealthReports reports) { health_reports_ = std::move(reports); }
  /// Thread-safe: stop now.
  void stop() { io_.stop(); }
  void join();
  /// Thread-safe: the thread has returned.
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  /// Thread-safe: upgraded (WebSocket) connections open now, by route name, as of the last tick.
  std::map<std::string, int64_t> upgraded_connections() const;
  /// Thread-safe: open client connections of a listener.
  int64_t connections(size_t listener) const {
    return connections_[listener].load(std::memory_order_relaxed);
  }
  /// Thread-safe: HTTP/2 streams being served on a listener's connections.
  int64_t h2_streams(size_t listener) const {
    return h2_streams_[listener].load(std::memory_order_relaxed);
  }

  // ---- worker thread only ----
  Generation& generation() { return *generations_.back(); }
  /// Pins the current generation for a request or a mirror copy.
  GenerationPin pin() { return pin(*generations_.back()); }
  GenerationPin pin(Generation& generation) {
    return GenerationPin(generation, [](void* self) {
      auto* worker = static_cast<Worker*>(self);
      if (worker->generations_.size() > 1) worker->release_generations();
    }, this);
  }
  /// The current generation's snapshot, valid until the next suspension: a reload may free it
  /// then. Keep copies, or pin() the generation, across a co_await.
  const ConfigSnapshot& snapshot() const { return generations_.back()->snapshot(); }
  const rollout::RoutingTable& table() const { return *table_; }
  /// The health snapshot's row for `upstream` of `generation`, valid until the next suspension;
  /// null (every endpoint usable) when no snapshot was made for that generation's ConfigSnapshot.
  const std::vector<bool>* usable(const Generation& generation, uint32_t upstream) const;
  /// One upstream attempt's outcome on `endpoint` (a pool endpoint of `generation`), batched
  /// for the control thread: no lock, no shared atomic. `failure`: a 5xx answer, connect
  /// failure, reset or timeout.
  void report_outcome(const Generation& generation, uint32_t upstream,
                      UpstreamPool::Endpoint& endpoint, bool failure);
  BufferPool& buffers() { return buffers_; }
  /// Strings of ended exchanges' heads, kept for the next ones: an HTTP/2 stream's Downstream
  /// and head text live for one request, and their strings were an allocation each per request.
  std::string take_string();
  void give_back(std::string&& text);
  DeadlineWheel& deadlines() { return deadlines_; }
  http::Random& random() { return random_; }
  /// Scratch heads: valid only between a parse and the next suspension.
  http::RequestHead& request_scratch() { return request_; }
  http::ResponseHead& response_scratch() { return response_; }
  http::ResponseHead& mirror_response_scratch() { return mirror_response_; }
  Executor executor() { return io_.get_executor(); }
  bool draining() const { return draining_; }
  /// Serves `client` with a Session coroutine (see its constructor for `tls`).
  void serve(ClientSocket client, bool tls = false);
  /// A client connection opened (accepted) and closed: a Session's or an IdleConnection's.
  void session_opened(size_t listener);
  void session_closed(size_t listener);
  void h2_stream_opened(size_t listener) { bump(h2_streams_[listener], 1); }
  void h2_stream_closed(size_t listener) { bump(h2_streams_[listener], -1); }
  /// A pin on a generation was dropped: frees old generations nobody uses any more.
  void release_generations();

  /// The access log, when enabled: lines are batched here and handed over on each tick.
  bool access_log_enabled() const { return access_log_ != nullptr; }
  void log_access(const AccessRecord& record);
  /// Before start(): where access-log batches go (null: off).
  void set_access_log(AccessLog* log) { access_log_ = log; }
  /// Thread-safe: the same from the next turn of the worker's loop, after handing over the
  /// lines batched so far. `log` (and the one before) must outlive the worker.
  void switch_access_log(AccessLog* log);
  /// Thread-safe: access-log lines dropped because the writer fell behind.
  uint64_t access_log_dropped() const { return access_dropped_.load(std::memory_order_relaxed); }

  void tunnel_opened(Tunnel& tunnel);
  void tunnel_closed(Tunnel& tunnel);

  uint32_t mirrors_in_flight() const { return mirrors_; }
  void mirror_started() { ++mirrors_; }
  void mirror_finished() { --mirrors_; }

 private:
  Task<void> accept_loop(Acceptor& acceptor, size_t listener);
  /// A new client connection: a TLS one goes to a Session for its handshake, a plain one waits
  /// for its first bytes in an IdleConnection.
  void accepted(Socket socket, size_t listener);
  static void bump(std::atomic<int64_t>& cell, int64_t delta) {  // single writer: no RMW
    cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  Task<void> tick();
  void flush_access_log();
  void flush_outcomes();
  void publish_upgraded();
  /// The routing changed: tunnels to a canary that no longer takes traffic are cut (SPEC §10).
  void cut_tunnels_off_traffic();
  void run();

  uint32_t index_;
  uint32_t worker_count_;
  std::list<std::unique_ptr<Generation>> generations_;  ///< the current one last
  std::shared_ptr<const rollout::RoutingTable> table_;
  /// The newest health snapshot, and the newest one of the ConfigSnapshot before it (for requests on
  /// the previous generation, and for the moment between a new snapshot and its generation).
  std::shared_ptr<const HealthSnapshot> health_;
  std::shared_ptr<const HealthSnapshot> previous_health_;
  HealthReports health_reports_;
  std::vector<PassiveOutcome> outcomes_;  ///< this tick's batch
  uint64_t outcome_batch_ = 1;            ///< numbers the batches (UpstreamPool::Endpoint)
  std::list<Acceptor> acceptors_;
  std::unique_ptr<std::atomic<int64_t>[]> connections_;  ///< per listener; single writer
  std::unique_ptr<std::atomic<int64_t>[]> h2_streams_;   ///< likewise
  BufferPool buffers_;
  std::vector<std::string> spare_strings_;  ///< before io_: a Downstream gives back in its frame's end
  DeadlineWheel deadlines_;
  http::Random random_;
  http::RequestHead request_;
  http::ResponseHead response_;
  http::ResponseHead mirror_response_;
  AccessLog* access_log_ = nullptr;
  std::string access_batch_;
  uint64_t access_lines_ = 0;  ///< in access_batch_
  std::atomic<uint64_t> access_dropped_{0};  ///< single writer
  boost::intrusive::list<Tunnel, boost::intrusive::constant_time_size<false>> tunnels_;
  std::map<std::string, int64_t, std::less<>> upgraded_;  ///< by route name; kept at 0 once seen
  bool upgraded_changed_ = false;
  mutable std::mutex upgraded_mutex_;  ///< the tick's copy for the control thread
  std::map<std::string, int64_t> upgraded_published_;
  uint64_t sessions_ = 0;
  uint32_t mirrors_ = 0;
  bool draining_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  // Last, so it is destroyed first: abandoned session coroutines still find the members above.
  net::io_context io_;
};

}  // namespace vane::proxy
