// One HTTP/2 connection to an upstream endpoint (SPEC §10, `upstreams[].protocol: h2`): prior
// knowledge on plain endpoints, ALPN h2 on https ones. The requests of its worker share it, each
// on a stream its Relay reads and writes as an HTTP/1.1 connection (an H2Pipe, Side::Client).
// Owned by its pool endpoint, its reader coroutine and the connections using it. Worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "proxy/h2/h2_pipe.hpp"
#include "proxy/h2/h2_session.hpp"
#include "proxy/net/deadline.hpp"
#include "proxy/upstream_pool.hpp"

namespace vane::proxy {

class Worker;

class H2Upstream final : public H2Session, public std::enable_shared_from_this<H2Upstream> {
 public:
  /// `stream` is connected (and through its TLS handshake, h2 agreed). A write the upstream
  /// does not take within `write_timeout` ends the connection.
  H2Upstream(Worker& worker, Stream stream, Clock::duration write_timeout);

  /// Starts the connection (preface and SETTINGS out, frames in) as one of `endpoint`'s (the
  /// caller adds it there), which it leaves when it ends.
  void start(UpstreamPool& pool, UpstreamPool::Endpoint& endpoint);
  /// A new stream may go on it now: open, no GOAWAY, under the upstream's stream limit.
  bool available() const;
  /// A stream for one request (available() first). Its request goes when the relay writes it.
  std::unique_ptr<H2Pipe> open_stream();
  /// The relay is done with `pipe`: a stream still open is cancelled (RST_STREAM CANCEL).
  void close_stream(std::unique_ptr<H2Pipe> pipe);
  /// No stream is open on it.
  bool idle() const { return pipes_.empty(); }
  /// Ends the connection (GOAWAY, then the close); streams still open are reset.
  void close();
  /// Its pool goes away first: it no longer reports to it.
  void detach() { pool_ = nullptr; endpoint_ = nullptr; }

 private:
  struct Callbacks;

  Task<void> run(std::shared_ptr<H2Upstream> self);
  void writing(bool started) override;
  static void expire(void* self);
  /// The connection ended: every stream's pipe is reset, the pool forgets it.
  void ended();

  Worker& worker_;
  Stream stream_;
  Deadline deadline_;
  Clock::duration write_timeout_;
  UpstreamPool* pool_ = nullptr;
  UpstreamPool::Endpoint* endpoint_ = nullptr;
  std::vector<H2Pipe*> pipes_;  ///< opened and not yet closed by their relay
  bool ended_ = false;
  bool goaway_ = false;   ///< no new streams: the upstream said so, or vane closes it
};

}  // namespace vane::proxy
