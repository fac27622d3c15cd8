// A client connection's loop while it is served: read a request head under limits and a
// deadline, hand it to an Exchange, repeat while keep-alive allows and bytes are buffered. Runs as
// one coroutine on its worker thread. A plain connection with nothing buffered between requests
// is handed to an IdleConnection and the Session ends: its frames and buffer are not kept while
// the client is idle. TLS and HTTP/2 connections keep their Session until they close; an HTTP/2
// one serves in serve_h2(), after run().
#pragma once

#include "proxy/downstream.hpp"
#include "proxy/idle_connection.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class Session {
 public:
  /// `tls`: `client` was just accepted on a TLS listener, the handshake is next. Otherwise it is a
  /// plain connection with something to read (its IdleConnection woke).
  Session(Worker& worker, ClientSocket client, bool tls);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  /// Serves HTTP/1.1 requests until the connection closes or goes idle (false), or finds that
  /// the client speaks HTTP/2 (true): serve_h2() is next. Its frame is gone by then, so an
  /// HTTP/2 connection, which keeps its coroutines while it idles, does not keep this one too.
  Task<bool> run();
  /// The connection as HTTP/2 (H2Connection), until it closes.
  Task<void> serve_h2();

 private:
  /// TLS listeners: the handshake under a deadline. False when the connection must close.
  Task<bool> handshake();
  Task<bool> wants_h2();
  /// False when the connection should close (quietly, or after an error answer was sent).
  Task<bool> read_head();
  /// TLS: waits for the next request's first bytes.
  Task<bool> wait_readable(bool first);
  /// A plain connection between requests, nothing buffered: an IdleConnection waits instead.
  void go_idle();
  Task<void> reject(int status);
  Task<void> linger_close();

  Downstream client_;
  size_t listener_;
  bool tls_ = false;         ///< a TLS listener
  bool served_ = false;      ///< a request was answered on the connection before this Session
  bool handed_off_ = false;  ///< an IdleConnection has the connection now
};

}  // namespace vane::proxy
