// What the two ends of vane's HTTP/2 share (SPEC §10): an nghttp2 session and the loop that
// writes its frames to the connection. H2Connection serves a client with it, H2Upstream talks to
// an upstream; their streams are H2Pipes, which reach their session through this. Worker thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/net/deadline.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class H2Memory;

class H2Session {
 public:
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  nghttp2_session* session() { return session_; }
  /// Output is waiting (a response, body bytes, a window update).
  void want_write() {
    if (writer_waiting_) writer_wake_.cancel();
  }
  /// Stream `id`'s outgoing body grew or ended.
  void resume(int32_t id);
  /// `n` body bytes of stream `id` were read: the peer may send as many more.
  void consumed(int32_t id, size_t n);

 protected:
  explicit H2Session(const Executor& executor);
  ~H2Session();

  /// The allocator the session is made with (nghttp2_session_*_new3), for trim().
  nghttp2_mem* memory();
  /// Gives the pages of nghttp2's frame buffer and of its empty stream table back to the system
  /// (H2Memory), while the connection idles with nothing to send: an idle connection then costs
  /// little more than its socket.
  void trim();

  /// Sends what nghttp2 has queued, as it comes, until `closing_` is set with nothing left to
  /// send or a write fails (then `connection`'s reader is cancelled too).
  Task<void> write_loop(Stream& connection);
  /// Around each socket write: arm and disarm the connection's write deadline.
  virtual void writing(bool started) = 0;

  nghttp2_session* session_ = nullptr;
  bool writer_waiting_ = false;  ///< the writer is parked until want_write()
  bool writing_ = false;         ///< the writer runs (not parked)
  bool closing_ = false;         ///< the connection ends: the writer stops once it sent all

 private:
  Timer writer_wake_;
  std::string out_;
  std::unique_ptr<H2Memory> memory_;
};

}  // namespace vane::proxy
