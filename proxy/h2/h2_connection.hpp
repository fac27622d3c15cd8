// An HTTP/2 client connection (SPEC §10), served with nghttp2: framing, HPACK, flow control and
// the flood defences are the library's; each stream becomes an H2Pipe served by an Exchange of
// its own, on this worker. Runs inside the Session's coroutine, which it outlives no stream of.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/downstream.hpp"
#include "proxy/h2/h2_pipe.hpp"
#include "proxy/h2/h2_session.hpp"

namespace vane::proxy {

class H2Connection final : public H2Session {
 public:
  /// `client` has passed its TLS handshake (ALPN h2) or holds the start of the preface in `in`.
  H2Connection(Downstream& client, size_t listener);

  /// Serves streams until the client or vane ends the connection, and every stream's exchange
  /// has ended.
  Task<void> run();

  Worker& worker() { return client_.worker; }

 private:
  struct Callbacks;

  /// Hands client bytes to nghttp2. False when the connection must end (a GOAWAY is queued).
  bool receive(std::string_view bytes);
  void writing(bool started) override;
  Task<void> serve(std::shared_ptr<H2Pipe> pipe);
  void start(H2Pipe& pipe);
  /// The connection's deadline: idle between streams (first kTrimAfter, then trimmed, the rest
  /// of idleTimeout), none while one is open.
  void rearm();

  /// How long a connection idles before its buffers are given back (H2Session::trim()): long
  /// enough that a busy connection never pays for it.
  static constexpr Clock::duration kTrimAfter = std::chrono::seconds(1);
  /// No stream, nothing being written or waiting to be.
  bool idle() const;
  /// A wait ended by kTrimAfter's deadline: trims, true. Else (a real end) false.
  bool trim_now();

  Downstream& client_;
  size_t listener_;
  using Streams = std::vector<std::shared_ptr<H2Pipe>>;
  /// The stream `id`, or end().
  Streams::iterator find_stream(int32_t id);

  /// Open in nghttp2, by id: a client opens streams in increasing ids (RFC 9113 §5.1.1), so
  /// a vector stays sorted by appending, and a new stream costs no allocation of a tree node.
  Streams streams_;
  uint32_t exchanges_ = 0;  ///< running serve() coroutines
  Timer exchanges_done_;
  bool in_write_ = false;  ///< a socket write is pending: its deadline stays
  bool trim_due_ = false;  ///< the idle deadline armed is kTrimAfter's
  bool trimmed_ = false;   ///< idle past kTrimAfter: buffers given back
  bool goaway_sent_ = false;
  bool peer_goaway_ = false;  ///< the client sent GOAWAY
};

}  // namespace vane::proxy
