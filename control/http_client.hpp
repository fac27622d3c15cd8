// The one outbound HTTP(S) client of the control plane: analysis providers, health probes, etcd
// and the CLI's admin client. Kept-alive connections pooled per origin, one deadline over each
// whole call, bounded bodies (or bodies streamed to the caller), cancellation. One per io_context
// (the control thread's, or the CLI's own), used from that io_context's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "control/asio.hpp"

namespace vane::control {

struct HttpCall {
  std::string method = "GET";  ///< GET, POST or PUT
  std::string url;             ///< http://HOST[:PORT]/PATH?QUERY or https://...
  /// Sent after the client's Host and User-Agent; one of the same name replaces the client's.
  std::vector<config::KeyValue> headers;
  std::string body;  ///< sent as application/json unless a Content-Type header says otherwise
  /// The whole call: resolve, connect, TLS handshake, write, read, and a retry if there is one
  /// (with on_body: up to the answer's head).
  std::chrono::milliseconds timeout{10'000};
  /// https: trust (`caFile`, empty: the system's store; `insecureSkipVerify`) and the name sent as
  /// SNI and verified (`serverName`, empty: the URL's host; never an address as SNI).
  config::UpstreamTls tls;
  /// https: the client certificate (PEM, with its chain) and its key, presented when the server
  /// asks for one (mutual TLS, e.g. etcd with --client-cert-auth); both or neither.
  std::string cert_file;
  std::string key_file;
  /// Connect here instead of resolving the URL's host, which stays the Host and the TLS name
  /// (a health probe of one resolved address).
  std::optional<tcp::endpoint> connect_to;
  /// Read only the answer's head, on a connection of its own closed afterwards
  /// (`Connection: close`): a health probe, which tests connecting and reads only the status.
  bool head_only = false;
  /// Whether the request may be sent again on a fresh connection when a pooled one turns out
  /// closed under it (and so whether it may take a pooled connection at all). Unset: GET and PUT
  /// may, POST may not; a POST that only reads (an etcd range) says so here.
  std::optional<bool> idempotent;
  /// Set: the answer's body is handed here piece by piece as it arrives (a response that may never
  /// end, such as an etcd watch) instead of being kept in HttpReply::body; returning false ends the
  /// call there. `timeout` then bounds the call up to the answer's head; after it the call ends
  /// when the body does, the connection fails or the call is cancelled. Such a call has a
  /// connection of its own, never pooled, and `body_limit` does not apply (the receiver bounds
  /// what it keeps).
  std::function<bool(std::string_view)> on_body;
  std::uint64_t body_limit = std::uint64_t{8} << 20;
};

struct HttpReply {
  unsigned status = 0;  ///< 0 when no answer came
  std::string body;     ///< empty when the call had on_body
  std::string error;  ///< why no answer came (bad URL, resolve, connect, TLS, timeout, ...)
  bool connected = false;  ///< a connection was made: a failure came later (no or bad answer)

  bool answered() const { return error.empty(); }
  bool success() const { return answered() && status >= 200 && status < 300; }
};

/// Lets the owner stop a call in flight (a terminated run, a stopped prober): cancel() closes
/// whatever the call has open, which then ends at once with the error "cancelled". Shared by the
/// owner and the call.
class HttpCancel {
 public:
  void cancel() {
    cancelled_ = true;
    if (close_) close_();
  }
  bool cancelled() const { return cancelled_; }
  /// Set by the call while it has something open; cleared when that goes.
  void set_close(std::function<void()> close) { close_ = std::move(close); }

 private:
  bool cancelled_ = false;
  std::function<void()> close_;
};

class HttpClient {
 public:
  /// Idle connections kept per origin (scheme, host, port, address, TLS settings) and in all.
  static constexpr size_t kMaxIdlePerOrigin = 4;
  static constexpr size_t kMaxIdle = 16;
  /// An idle connection older than this is closed instead of reused (checked at each call).
  static constexpr std::chrono::seconds kMaxIdleAge{60};

  /// `io` must outlive the client and every call.
  explicit HttpClient(boost::asio::io_context& io);
  /// Closes the idle connections. Calls in flight go on to their end (cancel them to end them
  /// sooner) and then close their connections.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `call` and reads its answer (any status). A connection from the pool that turns out
  /// closed by the server before any byte of the answer came is replaced by a new one once, for
  /// idempotent calls (GET and PUT unless the call says otherwise); others never take a pooled
  /// connection (they could not be sent again). The call holds what it needs: it may outlive the
  /// client.
  Task<HttpReply> fetch(HttpCall call, std::shared_ptr<HttpCancel> cancel = {});

  /// Idle connections in the pool now.
  size_t idle() const;

 private:
  struct Pool;
  std::shared_ptr<Pool> pool_;
};

}  // namespace vane::control
