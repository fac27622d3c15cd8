// Fakes for the HealthMonitor tests: a loopback HTTP(S) server whose /healthz answer the test
// sets. Test thread (the io_context's) only.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "control/health_monitor.hpp"

namespace vane::control::test {

namespace ssl = net::ssl;
inline constexpr auto await_tuple = net::as_tuple(net::use_awaitable);

/// A loopback HTTP(S) server answering every request with `status` (or never, when silent).
class HealthServer {
 public:
  explicit HealthServer(net::io_context& io, ssl::context* tls = nullptr)
      : state_(std::make_shared<State>(io, tls)) {
    net::co_spawn(io, accept(state_), net::detached);
  }
  ~HealthServer() {
    close();
    state_->parked.clear();
  }

  uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
  void set_status(int status) { state_->status = status; }
  void set_silent(bool silent) { state_->silent = silent; }
  int requests() const { return state_->requests; }
  int answered(int status) const { return state_->answered[status]; }
  const std::string& last_request() const { return state_->last_request; }
  /// Stops accepting; silent connections stay open until the server goes.
  void close() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
  }

 private:
  struct State {
    State(net::io_context& io, ssl::context* t)
        : acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0)), tls(t) {}
    tcp::acceptor acceptor;
    ssl::context* tls;
    int status = 200;
    bool silent = false;
    int requests = 0;
    std::map<int, int> answered;
    std::string last_request;
    std::vector<std::shared_ptr<void>> parked;  ///< silent connections, held open
  };

  static net::awaitable<void> accept(std::shared_ptr<State> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(await_tuple);
      if (!s->acceptor.is_open()) co_return;
      if (ec) continue;
      if (s->tls) {
        auto stream = std::make_shared<ssl::stream<tcp::socket>>(std::move(socket), *s->tls);
        net::co_spawn(s->acceptor.get_executor(), serve_tls(s, stream), net::detached);
      } else {
        auto plain = std::make_shared<tcp::socket>(std::move(socket));
        net::co_spawn(s->acceptor.get_executor(), serve(s, plain), net::detached);
      }
    }
  }

  static net::awaitable<void> serve_tls(std::shared_ptr<State> s,
                                        std::shared_ptr<ssl::stream<tcp::socket>> stream) {
    auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, await_tuple);
    if (ec) co_return;
    co_await serve(s, stream);
  }

  template <class Stream>
  static net::awaitable<void> serve(std::shared_ptr<State> s, std::shared_ptr<Stream> stream) {
    std::string data;
    auto [ec, n] =
        co_await net::async_read_until(*stream, net::dynamic_buffer(data), "\r\n\r\n", await_tuple);
    if (ec) co_return;
    ++s->requests;
    s->last_request = data.substr(0, n);
    if (s->silent) {
      s->parked.push_back(stream);
      co_return;
    }
    const int status = s->status;
    ++s->answered[status];  // counted before the prober can read it
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    co_await net::async_write(*stream, net::buffer(response), await_tuple);
  }

  std::shared_ptr<State> state_;
};

}  // namespace vane::control::test
