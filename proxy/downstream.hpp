// Downstream: what a client connection owns while it is served: its stream (TCP or TLS), read buffer and deadline. Shared
// by the Session (the connection's loop) and each Exchange (one proxied request). Worker thread.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/net/buffer.hpp"
#include "proxy/net/deadline.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class Worker;

/// What the connection is waiting for: decides what a passed deadline means, and whose fault
/// it is. The client's phases come first: a stall there is never counted against an upstream.
enum class Phase : uint8_t {
  Idle,      ///< keep-alive, between requests: close quietly
  Head,      ///< reading a request head: 408 + close
  Body,      ///< reading a request body, for requestBodyTimeout: the client stalled, 408 + close
  Respond,   ///< writing to a client that does not read, for requestBodyTimeout: close
  Connect,   ///< connecting to an upstream: a connect failure
  Upstream,  ///< writing to or reading from an upstream, up to its `timeout`: 504 or close
  Upgraded,  ///< an upgraded connection, both ways silent for upgradedIdleTimeout: close
};

struct Downstream {
  /// `address` and `port` are the peer's (an HTTP/2 stream's: its connection's).
  Downstream(Worker& worker_ref, Stream stream_in, BufferPool& pool, std::string address_in,
             uint16_t port_in);
  /// The head strings go back to the worker for the next Downstream.
  ~Downstream();
  Downstream(const Downstream&) = delete;
  Downstream& operator=(const Downstream&) = delete;

  Worker& worker;
  Stream stream;
  Buffer in;
  Deadline deadline;
  Phase phase = Phase::Idle;
  Stream* upstream = nullptr;  ///< the upstream connection in use, cancelled with the client's
  std::string address;         ///< the peer's IP, for X-Forwarded-For
  uint16_t port = 0;           ///< the peer's port, for the access log
  std::string request_head;    ///< scratch of the current Exchange, kept for its capacity
  std::string response_head;

  /// Arms the deadline for `phase`.
  void arm(Phase next, Clock::duration after) {
    phase = next;
    deadline.arm(after);
    deadline.set_idle(next == Phase::Idle);
  }
  /// The same at a time already known (an upstream's deadline): no clock read.
  void arm_at(Phase next, Clock::time_point at) {
    phase = next;
    deadline.arm_at(at);
    deadline.set_idle(next == Phase::Idle);
  }
  /// No deadline, and not idle (a drain leaves it be): an HTTP/2 connection while its streams,
  /// which have deadlines of their own, run.
  void disarm() {
    deadline.disarm();
    deadline.set_idle(false);
  }
  /// The deadline passed while vane waited on the client (its head, its body, its reading).
  bool client_stalled() const { return deadline.fired() && phase <= Phase::Respond; }
  /// The deadline passed while vane waited on an upstream.
  bool upstream_timed_out() const {
    return deadline.fired() && phase >= Phase::Connect && phase <= Phase::Upstream;
  }

 private:
  static void expire(void* self);
};

}  // namespace vane::proxy
