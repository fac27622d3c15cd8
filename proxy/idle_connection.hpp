// A plain HTTP/1.1 client connection while it waits for a request (its next one on keep-alive, or
// its first after accept): the socket, its deadline on the worker's timing wheel and what the
// Session it starts needs to know. No coroutine frame, no buffer, no timer: the wait for
// readability has a plain completion handler, which owns this record. Bytes (or the client's
// close) start a Session; the deadline (idleTimeout, or requestHeaderTimeout before the first
// request) or the worker's drain closes the connection without an answer. Worker thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "proxy/net/deadline.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class Worker;

/// What a Session is told about a connection it starts on.
struct ClientSocket {
  Socket socket;
  size_t listener = 0;
  std::string address;  ///< the peer's IP
  uint16_t port = 0;
  bool served = false;  ///< a request was answered on it before (no HTTP/2 preface may come)
};

class IdleConnection final : public readiness::Waiter {
 public:
  /// Waits on `client` (plain, non-blocking, its peer's close watched, nothing buffered by vane)
  /// for at most `timeout`. The connection stays counted open in the worker until it closes.
  static void wait(Worker& worker, ClientSocket client, Clock::duration timeout);

  IdleConnection(Worker& worker, ClientSocket client);
  IdleConnection(const IdleConnection&) = delete;
  IdleConnection& operator=(const IdleConnection&) = delete;
  /// Closes the connection unless a Session took it.
  ~IdleConnection() override;

  void woken(std::unique_ptr<readiness::Waiter> self, boost::system::error_code ec) override;

 private:
  static void expire(void* self);

  Worker& worker_;
  ClientSocket client_;
  Deadline deadline_;
};

}  // namespace vane::proxy
