// One proxied request: route it, open (or reuse) an upstream connection, stream the request body
// up and the response back, and answer failures with 4xx/5xx. Runs inside a Session's coroutine
// on its worker thread; owns nothing beyond the request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/downstream.hpp"
#include "proxy/generation.hpp"
#include "proxy/http/head_writer.hpp"
#include "proxy/http/message.hpp"
#include "proxy/mirror.hpp"
#include "proxy/upstream_pool.hpp"
#include "rollout/routing_table.hpp"

namespace vane::proxy {

class Exchange {
 public:
  /// `head` is the parsed request at the start of `client.in`; it is read only before the first
  /// suspension (its views die when the buffer is next filled).
  Exchange(Downstream& client, const http::RequestHead& head);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;
  ~Exchange();

  /// Serves the request. True when the client connection may carry another request.
  Task<bool> run();

 private:
  /// Why an exchange failed; decides the answer (when nothing was sent yet) and what to close.
  enum class Failure : uint8_t {
    None,
    NoRoute,        ///< 404
    TooLarge,       ///< 413
    BadBody,        ///< 400: chunked framing from the client
    ShortBody,      ///< 400: the client closed before the end of its body
    ClientTimeout,  ///< 408: the client stalled sending its body
    ClientGone,     ///< the client closed or reset: nothing to answer
    NoEndpoint,     ///< 503
    PoolFull,       ///< 503 after waiting connectTimeout for a free connection
    Connect,        ///< 502
    Reset,          ///< 502: the upstream closed or reset
    Protocol,       ///< 502: malformed response
    Timeout,        ///< 504
    Status5xx,      ///< the upstream answered 5xx: only while deciding on a retry
  };

  void prepare(const http::RequestHead& head);
  Task<Failure> forward();
  Task<Failure> attempt();
  /// Whether `failure` is one of the kinds of a `retries.on` / `shield.on` list.
  static bool listed(const std::vector<config::FailureKind>& on, Failure failure);
  void record_attempt(Failure failure);
  /// Tells the worker how the endpoint of this attempt did (passive ejection, SPEC §3).
  void report_endpoint(Failure failure);
  void log_access();
  Task<Failure> open_upstream();
  Task<Failure> wait_for_slot(Clock::time_point until);
  Task<Failure> send_request();
  Task<Failure> send_length_body();
  Task<Failure> send_chunked_body();
  Task<Failure> read_client(Phase phase);
  Task<Failure> read_upstream();
  Task<Failure> write_upstream(std::string_view a, std::string_view b = {}, std::string_view c = {});
  Task<Failure> read_response_head();
  Task<Failure> relay_response();
  Task<Failure> relay_chunked(http::ClientFraming framing);
  Task<Failure> relay_until_close(http::ClientFraming framing);
  Task<Failure> write_client(std::string_view a, std::string_view b = {}, std::string_view c = {});
  Task<bool> answer(Failure failure);
  void finish_upstream(bool reusable);
  void record(Failure failure);
  void capture_for_mirror(std::string_view a, std::string_view b = {}, std::string_view c = {});
  void send_mirror();
  /// maxMirrorInFlight copies are out: this one is dropped (and counted).
  bool mirrors_full();
  Failure upstream_error(const boost::system::error_code& ec) const;
  Clock::duration until_upstream_deadline() const;

  Downstream& client_;
  GenerationPin generation_;  ///< the config this request runs on, to its end
  // What the rest of the exchange needs from the head, copied before the first suspension.
  std::optional<rollout::RoutingDecision> decision_;
  http::Framing framing_ = http::Framing::None;
  uint64_t content_length_ = 0;
  int minor_version_ = 1;
  bool keep_alive_ = true;         ///< the client connection stays open after this exchange
  bool client_keep_alive_ = true;  ///< what the client's request asked for
  bool expect_continue_ = false;
  bool head_request_ = false;
  bool idempotent_ = false;
  char request_id_buf_[128];
  std::string_view request_id_;

  UpstreamPool* pool_ = nullptr;
  UpstreamPool::Endpoint* endpoint_ = nullptr;
  const UpstreamPool::Endpoint* avoid_ = nullptr;  ///< a retry goes elsewhere when it can
  std::optional<Stream> upstream_;
  std::optional<Timer> slot_timer_;  ///< only while waiting for a free connection
  bool reused_ = false;
  Buffer from_upstream_;
  // The heads live in the connection's Downstream and are reused: no allocation per request.
  std::string& request_head_;   ///< the head sent upstream (again on a retry)
  std::string& response_head_;  ///< the head sent to the client
  std::string extra_fields_;    ///< field lines vane adds to the response (Set-Cookie)
  bool request_pending_ = false;   ///< request_head_ goes with the next upstream write
  bool response_pending_ = false;  ///< response_head_ goes with the next client write
  bool body_done_ = false;      ///< the request body was read to its end
  bool response_started_ = false;
  bool response_done_ = false;
  bool upstream_keep_alive_ = false;
  int status_ = 0;
  uint64_t response_length_ = 0;
  http::Framing response_framing_ = http::Framing::None;
  http::ClientFraming client_framing_ = http::ClientFraming::None;
  Clock::time_point upstream_deadline_;
  Clock::time_point started_;
  std::optional<MirrorCopy> mirror_;  ///< the copy being assembled while the body streams
  std::string access_method_;  ///< kept for the access log only when it is on
  std::string access_path_;
  uint64_t bytes_sent_ = 0;
};

}  // namespace vane::proxy
