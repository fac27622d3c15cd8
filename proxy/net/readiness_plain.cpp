// The readiness functions on plain Asio calls, built with VANE_ASIO_READINESS=OFF instead of
// readiness.cpp: no access to Asio's private state. Every read tries a recv first and every wait
// re-arms the descriptor (Asio's own behaviour: 6 system calls per keep-alive request, not 4).
#include "proxy/net/readiness.hpp"

namespace vane::proxy::readiness {

using boost::system::error_code;

bool enabled() { return false; }
void watch_peer_close(Socket&) {}
bool maybe_readable(Socket&) { return true; }
void found_empty(Socket&) {}
void read_done(Socket&, size_t, size_t) {}

Task<std::tuple<error_code>> wait_readable(Socket& socket) {
  return socket.async_wait(Socket::wait_read, use_tuple);
}

void wake_when_readable(Socket& socket, std::unique_ptr<Waiter> waiter) {
  socket.async_wait(Socket::wait_read, [waiter = std::move(waiter)](error_code ec) mutable {
    Waiter* target = waiter.get();
    target->woken(std::move(waiter), ec);
  });
}

}  // namespace vane::proxy::readiness
