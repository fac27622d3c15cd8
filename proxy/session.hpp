// A client connection's loop: wait for a request (holding no buffer while idle), read its head
// under limits and a deadline, hand it to an Exchange, repeat while keep-alive allows. Runs as
// one coroutine on its worker thread.
#pragma once

#include "proxy/downstream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class Session {
 public:
  Session(Worker& worker, Socket socket, size_t listener);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  Task<void> run();

 private:
  /// TLS listeners: the handshake under a deadline. False when the connection must close.
  Task<bool> handshake();
  Task<bool> wants_h2();
  /// False when the connection should close (quietly, or after an error answer was sent).
  Task<bool> read_head(bool first);
  Task<bool> wait_readable(bool first);
  Task<void> reject(int status);
  Task<void> linger_close();

  Downstream client_;
  size_t listener_;
  bool tls_ = false;  ///< a TLS listener
};

}  // namespace vane::proxy
