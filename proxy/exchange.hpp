// One proxied request, as policy: route it, decide each try (retries on another endpoint, the
// canary shield, a stale pooled connection: RetryPolicy), when its mirror copy leaves, how it is
// recorded and logged, and what a failure answers. The bytes are the Relay's. Runs inside a
// Session's coroutine on its worker thread; owns nothing beyond the request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/downstream.hpp"
#include "proxy/failure.hpp"
#include "proxy/generation.hpp"
#include "proxy/http/message.hpp"
#include "proxy/mirror_capture.hpp"
#include "proxy/relay.hpp"
#include "proxy/retry_policy.hpp"
#include "rollout/routing_table.hpp"

namespace vane::proxy {

class Exchange {
 public:
  /// `head` is the parsed request at the start of `client.in`; it is read only before the first
  /// suspension (its views die when the buffer is next filled).
  Exchange(Downstream& client, const http::RequestHead& head);
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  /// Serves the request. True when the client connection may carry another request.
  Task<bool> run();

 private:
  void prepare(const http::RequestHead& head);
  void take_request_id(const http::RequestHead& head);
  /// The tries until one answers (relayed to the client) or the policy gives up.
  Task<Failure> forward();
  RetryPolicy retry_policy() const;
  /// After a 101: the upgraded connection, to its end.
  Task<void> tunnel();
  Task<bool> answer(Failure failure);
  /// Records the request (or a dropped try) with the status it is measured with.
  void record(Failure failure, int status);
  void record_attempt(Failure failure);
  /// Tells the worker how the endpoint of the last try did (passive ejection, SPEC §3).
  void report_endpoint(Failure failure);
  void log_access(int status);

  Downstream& client_;
  GenerationPin generation_;  ///< the config this request runs on, to its end
  std::optional<rollout::RoutingDecision> decision_;
  // Read by the relay when a response head arrives: set in prepare().
  char request_id_buf_[128];
  std::string_view request_id_;
  std::string extra_fields_;  ///< field lines vane adds to the response (Set-Cookie)
  MirrorCapture mirror_;
  Relay relay_;
  Replay replay_;
  Failure refusal_ = Failure::None;  ///< answered before any try: NoRoute or TooLarge
  Clock::time_point started_;
  std::string access_method_;  ///< kept for the access log only when it is on
  std::string access_host_;
  std::string access_path_;
  std::string access_user_agent_;
  std::string_view access_protocol_;
};

}  // namespace vane::proxy
