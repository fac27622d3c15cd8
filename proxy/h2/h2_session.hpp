// What the two ends of vane's HTTP/2 share (SPEC §10): an nghttp2 session and the loop that
// writes its frames to the connection. H2Connection serves a client with it, H2Upstream talks to
// an upstream; their streams are H2Pipes, which reach their session through this. Worker thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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
  /// Output is waiting (a response, body bytes, a window update): it is sent once the handler
  /// that queued it returns, with whatever else this turn of the worker queues.
  void want_write();
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

  /// From now on what nghttp2 queues goes to `connection`: written at once while the socket
  /// takes it, and only a write that must wait runs as a coroutine. No coroutine, timer or buffer
  /// is kept between writes. Once `closing_` is set and all is sent, or when a write fails,
  /// `connection` is cancelled: its reader ends too.
  void start_writing(Stream& connection);
  /// Output is queued or being written: the session must not go yet.
  bool writer_busy() const { return writing_ || flush_posted_; }
  /// A write failed, or all was sent after `closing_`: nothing more will be written.
  bool writer_stopped() const { return stopped_; }
  /// Around each socket write that waits: arm and disarm the connection's write deadline.
  virtual void writing(bool started) = 0;

  nghttp2_session* session_ = nullptr;
  bool closing_ = false;  ///< the connection ends: the connection is cancelled once all is sent

 private:
  /// The posted handler of want_write(): write_queued(), and the connection's end if it throws.
  void flush();
  /// Writes what nghttp2 has queued, until it has no more or the socket is full.
  void write_queued();
  /// The rest of a write the socket did not take at once, then flush() again.
  Task<void> finish_write(std::array<std::string_view, 4> pieces);
  /// The connection's writes are over: a write failed, or all is sent and `closing_`.
  void stop_writing();

  Executor executor_;
  Stream* connection_ = nullptr;  ///< start_writing()'s
  bool writing_ = false;  ///< a write waits for room in the socket (finish_write())
  bool flush_posted_ = false;
  bool stopped_ = false;  ///< stop_writing() ran
  std::string out_;
  std::unique_ptr<H2Memory> memory_;
};

}  // namespace vane::proxy
