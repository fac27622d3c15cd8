// An HTTP/2 client connection (SPEC §10), served with nghttp2: framing, HPACK, flow control and
// the flood defences are the library's; each stream becomes an H2Pipe served by an Exchange of
// its own, on this worker. Runs inside the Session's coroutine, which it outlives no stream of.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "proxy/downstream.hpp"
#include "proxy/h2/h2_pipe.hpp"

struct nghttp2_session;

namespace vane::proxy {

class H2Connection {
 public:
  /// `client` has passed its TLS handshake (ALPN h2) or holds the start of the preface in `in`.
  H2Connection(Downstream& client, size_t listener);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  /// Serves streams until the client or vane ends the connection, and every stream's exchange
  /// has ended.
  Task<void> run();

  // ---- for the pipes ----
  nghttp2_session* session() { return session_; }
  Worker& worker() { return client_.worker; }
  /// Output is waiting (a response, body bytes, a window update).
  void want_write();
  /// Stream `id`'s response body grew or ended.
  void resume(int32_t id);
  /// `n` body bytes of stream `id` were read: the client may send as many more.
  void consumed(int32_t id, size_t n);

 private:
  struct Callbacks;

  /// Hands client bytes to nghttp2. False when the connection must end (a GOAWAY is queued).
  bool receive(std::string_view bytes);
  Task<void> write_loop();
  Task<void> serve(std::shared_ptr<H2Pipe> pipe);
  void start(H2Pipe& pipe);
  /// The connection's deadline: idle between streams, none while one is open.
  void rearm();

  Downstream& client_;
  size_t listener_;
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::shared_ptr<H2Pipe>> streams_;  ///< open in nghttp2
  uint32_t exchanges_ = 0;  ///< running serve() coroutines
  Timer writer_wake_;
  Timer exchanges_done_;
  bool writer_waiting_ = false;
  bool writing_ = false;   ///< the writer runs (not parked)
  bool in_write_ = false;  ///< a socket write is pending: its deadline stays
  bool closing_ = false;
  bool goaway_sent_ = false;
  bool peer_goaway_ = false;  ///< the client sent GOAWAY
  std::string out_;
};

}  // namespace vane::proxy
