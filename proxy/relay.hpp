// The bytes of one proxied request: its head and body up to an upstream (Content-Length or
// chunked, under the body limit, after a 100 Continue when asked), the response head back, then
// the response body to the client (copied by length, re-chunked, or close-delimited). The Exchange
// decides where each try goes and what a failure means; the relay only moves bytes and says what
// happened. Runs inside the Session's coroutine on its worker thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/downstream.hpp"
#include "proxy/failure.hpp"
#include "proxy/http/grpc.hpp"
#include "proxy/http/head_writer.hpp"
#include "proxy/http/message.hpp"
#include "proxy/tunnel.hpp"
#include "proxy/upstream_connection.hpp"

namespace vane::proxy {

class Generation;
class MirrorCapture;

/// Where the Exchange sends a try.
struct Attempt {
  uint32_t upstream = 0;
  const UpstreamPool::Endpoint* avoid = nullptr;  ///< the endpoint that just failed, if any
  /// The upstream `timeout`: it covers the relayed body too, but not the waits on the client
  /// (its body, its reading), which move it later by as long as they took.
  Clock::time_point deadline;
};

/// What a try did. No byte reaches the client during a try (the response head is held back
/// until relay_response()), so as far as the client goes another try is always possible.
struct AttemptResult {
  Failure failure = Failure::None;
  int status = 0;       ///< the upstream's answer, with Failure::None
  bool reused = false;  ///< it ran on a kept-alive connection from the pool
};

class Relay {
 public:
  /// `head` is read only here, before the first suspension. `request_id` and `extra_fields`
  /// (complete field lines vane adds, or nothing) go into the client's response head: the
  /// caller owns them and may set them after this; they are read when a response head arrives.
  Relay(Downstream& client, Generation& generation, const http::RequestHead& head,
        const std::string_view& request_id, const std::string& extra_fields,
        MirrorCapture& mirror);

  /// One try: a connection, the request up (the body is read from the client on the first try
  /// only: a request is tried again only when it has no body), the response head read.
  Task<AttemptResult> attempt(const Attempt& to);
  /// The held-back head and the response body to the client. A response that ends before its
  /// framing says (a reset or close before Content-Length or the last chunk, bad chunk framing,
  /// a close-delimited body ended by a reset) fails with Reset or Protocol and is never
  /// completed: no terminating chunk; the caller closes the client connection. A client that
  /// stops reading for requestBodyTimeout fails with ClientTimeout.
  Task<Failure> relay_response();
  /// The try's answer is dropped: its connection closed, ready for another try.
  void abandon();
  /// A request body still being relayed alongside the answer (duplex) is stopped, and waited
  /// for. Before abandon(), finish() or the end of the relay (when pumping()).
  Task<void> settle();
  bool pumping() const { return pumping_; }
  /// After a 101 to a WebSocket handshake: the client and the upstream connection carry bytes
  /// both ways until the tunnel ends (proxy/tunnel.hpp).
  Task<void> tunnel(const Tunnel::Target& target);
  /// The exchange is over: the upstream connection goes back to the pool when the whole
  /// response was relayed and both sides allow it, else it is closed.
  void finish();

  /// The upstream answered a WebSocket handshake with 101: tunnel() next.
  bool upgraded() const { return status_ == 101; }
  /// The upstream's status (0: none, or dropped).
  int status() const { return status_; }
  /// The status the answer is measured with: status(), or for gRPC the 5xx a failing
  /// `grpc-status` stands for (SPEC §10), from the head or the trailers.
  int measured_status() const { return http::grpc_measured_status(grpc_status_, status_); }
  /// The request is gRPC.
  bool grpc() const { return grpc_; }
  /// The endpoint of the last try (null before one had an endpoint).
  UpstreamPool::Endpoint* endpoint() const { return upstream_.endpoint(); }
  /// Response bytes reached the client: no other try, no error answer any more.
  bool response_started() const { return response_ >= Response::Sending; }
  bool response_done() const { return response_ == Response::Done; }
  /// The request body was read to its end.
  bool body_done() const { return body_ == RequestBody::Done; }
  /// The client connection may carry another request after this one's answer: the body was
  /// read, the client and the response's framing allow it, the worker is not draining, and it
  /// was no WebSocket handshake (what the client sent after one is no request).
  bool keep_alive() const;
  /// Response body bytes sent to the client.
  uint64_t bytes_sent() const { return bytes_sent_; }
  /// Request body bytes read from the client (chunked: the data, without the framing).
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  /// The request body, read from the client once (no body: Done from the start).
  ///   AwaitingContinue --100 Continue sent--> Pending --read to its end--> Done
  enum class RequestBody : uint8_t { AwaitingContinue, Pending, Done };
  /// The response to the client.
  ///   None --head read--> HeadReady --first client write--> Sending --body relayed--> Done
  ///     ^                     |
  ///     +----- abandon() -----+   (a dropped answer: nothing had reached the client)
  enum class Response : uint8_t { None, HeadReady, Sending, Done };

  Task<Failure> send_request();
  /// Duplex: the request body goes up in a coroutine of its own while the answer comes back.
  void start_pump();
  Task<Failure> send_length_body();
  Task<Failure> send_chunked_body();
  Task<Failure> read_client();
  /// Writes to the upstream: the request head first while it is due, then the pieces.
  Task<Failure> write_upstream(std::string_view a, std::string_view b = {}, std::string_view c = {});
  /// What write_upstream() and write_client() write, their deadline armed. The caller writes
  /// them with write_now(), and awaits a *_rest() only for what the socket did not take: a
  /// small answer's one write then costs no coroutine.
  std::array<std::string_view, 4> to_upstream(std::string_view a, std::string_view b = {},
                                              std::string_view c = {});
  std::array<std::string_view, 4> to_client(std::string_view a, std::string_view b = {},
                                            std::string_view c = {});
  Task<Failure> write_client_rest(std::array<std::string_view, 4> pieces);
  /// A failed write to the client: a client that stopped reading, or one that went away.
  Failure client_write_error() const;
  /// Reads what the upstream sends into from_upstream_: the stream's own read, with no coroutine
  /// of the relay's around it; upstream_read_done() takes its result. `fin`, when given, tells
  /// a clean end of the upstream's stream (FIN, TLS close) from a reset.
  Task<ReadResult> read_upstream();
  /// Room in from_upstream_ for the next read (the caller arms the upstream deadline).
  net::mutable_buffer upstream_room();
  Failure upstream_read_done(const ReadResult& read, bool* fin = nullptr);
  Task<Failure> read_response_head();
  Task<Failure> relay_chunked(http::ClientFraming framing);
  Task<Failure> relay_until_close(http::ClientFraming framing);
  Task<Failure> write_client(std::string_view a, std::string_view b = {}, std::string_view c = {});
  /// A gRPC answer's status, from its head's fields or its trailer section.
  void find_grpc_status(std::string_view name, std::string_view value);
  Failure upstream_error(const boost::system::error_code& ec) const;
  /// The worker's tick time: measures the waits on the client without a clock read.
  Clock::time_point tick_now() const;

  Downstream& client_;
  Generation& generation_;
  MirrorCapture& mirror_;
  const std::string_view& request_id_;
  const std::string& extra_fields_;
  UpstreamConnection upstream_;
  Buffer from_upstream_;
  Clock::time_point deadline_;
  Clock::duration client_stall_;  ///< requestBodyTimeout: the longest wait on the client
  // The request, copied from its head.
  uint64_t content_length_;
  http::Framing framing_;
  int minor_version_;
  bool client_keep_alive_;  ///< what the request asked for
  bool head_request_;
  bool websocket_;  ///< a WebSocket handshake: a 101 is relayed; the connection never kept
  bool grpc_;       ///< a gRPC request: its answer's grpc-status is read
  /// The body goes up while the answer comes down (a gRPC request to an HTTP/2 upstream: a
  /// streaming call answers before its request ends). Waits on the client then arm no deadline
  /// of their own: the upstream's `timeout` bounds the call.
  bool duplex_ = false;
  bool pumping_ = false;          ///< the duplex body coroutine runs
  Failure pump_failure_ = Failure::None;
  std::optional<Timer> pump_done_;  ///< cancelled when the pump ends
  // The state of the relay.
  RequestBody body_;
  Response response_ = Response::None;
  bool head_due_ = true;  ///< the request head goes with the next upstream write (once per try)
  bool upstream_keep_alive_ = false;  ///< the response lets its connection be reused
  int status_ = 0;
  int grpc_status_ = -1;  ///< the answer's grpc-status (-1: none, or not gRPC)
  http::Framing response_framing_ = http::Framing::None;
  http::ClientFraming client_framing_ = http::ClientFraming::None;
  uint64_t response_length_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
};

}  // namespace vane::proxy
