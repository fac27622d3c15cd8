#include "cli/demo_upstream.hpp"

#include <random>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace vane::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

}  // namespace

struct DemoUpstream::Impl {
  DemoUpstreamOptions options;
  net::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::mt19937 random{std::random_device{}()};
  std::thread thread;

  net::awaitable<void> serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    net::steady_timer delay(io);
    for (;;) {
      http::request<http::string_body> request;
      auto [ec, n] = co_await http::async_read(socket, buffer, request, use_tuple);
      if (ec) break;
      if (options.latency_ms > 0) {
        delay.expires_after(std::chrono::milliseconds(options.latency_ms));
        co_await delay.async_wait(use_tuple);
      }
      const bool fail = std::uniform_real_distribution<double>(0, 1)(random) < options.error_rate;
      http::response<http::string_body> response{fail ? http::status::internal_server_error
                                                      : http::status::ok,
                                                 request.version()};
      response.set("X-Upstream", options.name);
      response.set(http::field::content_type, "text/plain");
      response.keep_alive(request.keep_alive());
      response.body() = (fail ? "error from " : "hello from ") + options.name + "\n";
      response.prepare_payload();
      auto [wec, wn] = co_await http::async_write(socket, response, use_tuple);
      if (wec || !response.keep_alive()) break;
    }
  }

  net::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (!acceptor.is_open()) co_return;
      if (!ec) net::co_spawn(io, serve(std::move(socket)), net::detached);
    }
  }
};

DemoUpstream::DemoUpstream(DemoUpstreamOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  net::co_spawn(impl_->io, impl_->accept(), net::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

DemoUpstream::~DemoUpstream() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t DemoUpstream::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace vane::cli
