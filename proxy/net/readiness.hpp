// What the epoll reactor knows about a plain socket's read side, used to read without the system
// calls that find nothing. Asio (edge-triggered epoll) re-arms with an epoll_ctl for each
// async_wait and tries a recv at the start of each read; HAProxy instead registers EPOLLRDHUP once
// and trusts a short read to have emptied the socket. These functions do the same on Asio's own
// reactor: keep-alive costs 4 system calls per proxied request instead of 6. Worker thread only.
// With VANE_ASIO_READINESS=OFF, the same functions are plain Asio calls (readiness_plain.cpp).
#pragma once

#include <memory>
#include <tuple>

#include "proxy/net/types.hpp"

namespace vane::proxy::readiness {

/// True when this build reads Asio's reactor state (readiness.cpp); false on the plain-Asio path,
/// where maybe_readable() is always true and the other calls do nothing more than Asio's own.
bool enabled();

/// Asks the reactor to also report the peer's FIN (EPOLLRDHUP): one epoll_ctl per connection,
/// after which a short read can prove a socket empty (read_done). Call once, after accept or
/// connect, on a socket in non-blocking mode with no operation pending.
void watch_peer_close(Socket& socket);

/// False when the socket is known to hold nothing (not even a FIN) and no event has arrived since:
/// a read now would find nothing. True when unknown.
bool maybe_readable(Socket& socket);

/// A synchronous recv or peek just found the socket empty (EAGAIN).
void found_empty(Socket& socket);

/// A synchronous recv just returned `n` bytes of the `room` asked for. When it was short and the
/// reactor's last event on the socket carried no FIN or error, the socket is now empty: everything
/// that arrived before that event has been read, and anything later brings another event.
void read_done(Socket& socket, size_t n, size_t room);

/// Completes when the socket has something to read (bytes, a FIN or an error). Known empty: on the
/// reactor's next event for it, at no system call. Unknown: Asio's async_wait, whose epoll_ctl
/// re-arms the descriptor so that what is already there is reported. Cancelled by socket.cancel().
/// Not a coroutine: the wait's own awaitable, so a waiting read holds one frame fewer.
Task<std::tuple<boost::system::error_code>> wait_readable(Socket& socket);

/// What wake_when_readable() wakes instead of a coroutine: the pending wait owns it and hands it
/// back with the wait's result. A wait still pending when the io_context is destroyed destroys it.
class Waiter {
 public:
  virtual ~Waiter() = default;
  /// `self` is this object, given back to its own care.
  virtual void woken(std::unique_ptr<Waiter> self, boost::system::error_code ec) = 0;
};

/// wait_readable() with a plain completion handler: no coroutine frame while it waits. `waiter`
/// is woken once, never inline; socket.cancel() wakes it with operation_aborted.
void wake_when_readable(Socket& socket, std::unique_ptr<Waiter> waiter);

}  // namespace vane::proxy::readiness
