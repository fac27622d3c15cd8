#include "proxy/tunnel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proxy/net/io.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {

Tunnel::Tunnel(Downstream& client, Stream& upstream, Buffer& from_upstream, Target target,
               Clock::duration idle)
    : client_(client), upstream_(upstream), from_upstream_(from_upstream), target_(target), idle_(idle) {
  client_.worker.tunnel_opened(*this);
}

Tunnel::~Tunnel() { client_.worker.tunnel_closed(*this); }

Task<void> Tunnel::run() {
  Timer done(client_.worker.executor(), Clock::time_point::max());
  bool to_client_running = true;
  auto to_client = [this, &done, &to_client_running]() -> Task<void> {
    co_await pump(upstream_, from_upstream_, client_.stream, client_.response_head);
    to_client_running = false;
    done.cancel();
  };
  net::co_spawn(client_.worker.executor(), std::move(to_client), net::detached);
  co_await pump(client_.stream, client_.in, upstream_, {});
  while (to_client_running) co_await done.async_wait(use_tuple);
}

void Tunnel::cut() {
  stopped_ = true;
  client_.stream.cancel();
  upstream_.cancel();
}

void Tunnel::touch() {
  client_.arm_at(Phase::Upgraded, client_.worker.deadlines().now() + idle_);
}

Task<void> Tunnel::pump(Stream& from, Buffer& pending, Stream& to, std::string_view head) {
  bool fin = false;
  while (!stopped_) {
    if (!head.empty() || !pending.empty()) {
      touch();
      const auto ec = co_await write_all(to, head, pending.data());
      if (ec || stopped_) break;
      head = {};
      pending.consume(pending.size());
    }
    size_t room = 0;
    char* at = pending.prepare(room);
    auto [ec, n] = co_await from.read_some(net::buffer(at, room));
    if (ec) {
      fin = is_end_of_stream(ec) && !stopped_;
      break;
    }
    pending.commit(n);
    touch();
  }
  if (fin && !to.tls()) {  // the other direction may still carry the peer's last words
    boost::system::error_code ignored;
    to.socket().shutdown(tcp::socket::shutdown_send, ignored);
    co_return;
  }
  cut();
}

}  // namespace vane::proxy
