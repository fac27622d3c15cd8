// The upstream connection one try of a request runs on: a kept-alive one from the worker's pool,
// or a new one (after waiting up to connectTimeout for a free slot), connected under the
// request's deadline; then given back to the pool or closed. To an HTTP/2 upstream it is a
// stream on one of the pool's shared connections, which the relay reads and writes as if it were
// an HTTP/1.1 connection (proxy/h2/h2_pipe.hpp). Owned by the request's Relay. Worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "proxy/downstream.hpp"
#include "proxy/failure.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/upstream_pool.hpp"

namespace vane::proxy {

class Generation;
class H2Pipe;
class H2Upstream;

class UpstreamConnection {
 public:
  UpstreamConnection(Downstream& client, Generation& generation);
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;
  ~UpstreamConnection();

  /// A connection to `upstream`, on another endpoint than `avoid` when one can serve, in two
  /// steps: open_now() settles it without waiting when the pool has one kept alive (true; `f`
  /// is None or NoEndpoint); else open(), with the same arguments, connects under `deadline`,
  /// waiting first for a free slot: None, or NoEndpoint, PoolFull, Connect, Timeout. Most
  /// requests then take no coroutine here.
  bool open_now(uint32_t upstream, const UpstreamPool::Endpoint* avoid, Failure& f);
  Task<Failure> open(uint32_t upstream, const UpstreamPool::Endpoint* avoid,
                     Clock::time_point deadline);
  /// Back to the pool when `reusable`, else closed (an HTTP/2 stream not yet ended is
  /// cancelled). Nothing when no connection is open.
  void release(bool reusable);

  Stream& stream() { return *stream_; }
  /// A stream on a shared HTTP/2 connection (reads and writes may wait at once).
  bool multiplexed() const { return pipe_ != nullptr; }
  /// It came kept-alive from the pool (a reset may then only mean it went stale).
  bool reused() const { return reused_; }
  /// The endpoint of the last connection opened; stays set after release().
  UpstreamPool::Endpoint* endpoint() const { return endpoint_; }

 private:
  /// The try's stream on `session`, an HTTP/2 connection of the pool.
  void open_stream(std::shared_ptr<H2Upstream> session);
  /// A new connection to `endpoint_` in stream_, under the request's deadline (TLS included;
  /// `h2`: agreed by ALPN); its pool slot is released when it fails.
  Task<Failure> connect(uint32_t upstream, Clock::time_point deadline, bool h2);
  Task<Failure> wait_for_slot(Clock::time_point until);
  /// A new connection is ready: the non-blocking mode and options the data plane relies on.
  void set_up_socket();

  Downstream& client_;
  Generation& generation_;
  UpstreamPool* pool_ = nullptr;  ///< of the open connection: a shielded request changes upstream
  UpstreamPool::Endpoint* endpoint_ = nullptr;
  std::optional<Stream> stream_;
  std::shared_ptr<H2Upstream> session_;  ///< an HTTP/2 upstream's connection: stream_ is pipe_'s
  std::unique_ptr<H2Pipe> pipe_;
  std::optional<Timer> slot_timer_;  ///< only while waiting for a free connection
  UpstreamPool::Grant grant_ = UpstreamPool::Grant::NoEndpoint;  ///< open_now()'s, for open()
  bool reused_ = false;
};

}  // namespace vane::proxy
