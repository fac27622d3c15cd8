#include "tests/control/http_test_server.hpp"

#include <openssl/ssl.h>

#include <cstdio>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace vane::control::test {

struct TestServer::State {
  State(net::io_context& io, Handler h, net::ssl::context* t)
      : acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0)),
        handler(std::move(h)),
        tls(t) {}
  tcp::acceptor acceptor;
  Handler handler;
  net::ssl::context* tls;
  std::vector<Seen> seen;
  int connections = 0;
  int closed_by_client = 0;
  int closed_by_server = 0;
  std::vector<std::function<void()>> closers;  ///< closes each connection, at the end
  std::vector<std::shared_ptr<void>> hung;     ///< connections never answered, held open
};

namespace {

using State = TestServer::State;
using Plain = tcp::socket;
using Tls = net::ssl::stream<tcp::socket>;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

template <class S>
void close(const std::weak_ptr<S>& weak) {
  boost::system::error_code ignored;
  if (auto stream = weak.lock()) stream->lowest_layer().close(ignored);
}

template <class S>
net::awaitable<bool> write_chunked(S& stream, const Reply& reply, net::steady_timer& timer) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) +
                     " X\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n";
  if (reply.then == Reply::Then::CloseHeader) head += "Connection: close\r\n";
  auto [ec, n] = co_await net::async_write(stream, net::buffer(head + "\r\n"), kTuple);
  for (size_t i = 0; !ec && i < reply.chunks.size(); ++i) {
    if (i > 0 && reply.trickle.count() > 0) {
      timer.expires_after(reply.trickle);
      co_await timer.async_wait(kTuple);
    }
    char size[20];
    std::snprintf(size, sizeof size, "%zx\r\n", reply.chunks[i].size());
    const std::string chunk = size + reply.chunks[i] + "\r\n";
    std::tie(ec, n) = co_await net::async_write(stream, net::buffer(chunk), kTuple);
  }
  if (!ec && !reply.endless) {
    std::tie(ec, n) = co_await net::async_write(stream, net::buffer("0\r\n\r\n", 5), kTuple);
  }
  co_return !ec;
}

/// Writes `reply` (after its delay, its body trickling when it says so); false on an error.
template <class S>
net::awaitable<bool> write_reply(S& stream, const Reply& reply) {
  net::steady_timer timer(stream.get_executor());
  if (reply.delay.count() > 0) {
    timer.expires_after(reply.delay);
    co_await timer.async_wait(kTuple);
  }
  if (!reply.chunks.empty()) co_return co_await write_chunked(stream, reply, timer);
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) +
                     " X\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(reply.body.size()) + "\r\n";
  if (reply.then == Reply::Then::CloseHeader) head += "Connection: close\r\n";
  head += "\r\n";
  if (reply.trickle.count() == 0) head += reply.body;
  auto [ec, n] = co_await net::async_write(stream, net::buffer(head), kTuple);
  for (size_t i = 0; !ec && reply.trickle.count() > 0 && i < reply.body.size(); ++i) {
    timer.expires_after(reply.trickle);
    co_await timer.async_wait(kTuple);
    std::tie(ec, n) = co_await net::async_write(stream, net::buffer(&reply.body[i], 1), kTuple);
  }
  co_return !ec;
}

template <class S>
net::awaitable<void> serve(std::shared_ptr<State> s, std::shared_ptr<S> stream, int id,
                           std::string sni) {
  namespace http = boost::beast::http;
  boost::beast::flat_buffer buffer;
  for (int nth = 1;; ++nth) {
    http::request<http::string_body> request;
    auto [ec, n] = co_await http::async_read(*stream, buffer, request, kTuple);
    if (ec) {
      if (s->acceptor.is_open()) ++s->closed_by_client;
      co_return;
    }
    s->seen.push_back({std::string(request.method_string()), std::string(request.target()),
                       std::string(request[http::field::host]),
                       std::string(request[http::field::connection]),
                       std::string(request[http::field::user_agent]), request.body(), id, nth,
                       sni});
    const Reply reply = s->handler(s->seen.back());
    if (reply.then == Reply::Then::Hang) {
      s->hung.push_back(stream);
      co_return;
    }
    if (reply.then != Reply::Then::Drop) {
      const bool kept = co_await write_reply(*stream, reply);
      if (!kept) co_return;
    }
    if (reply.endless) {  // held open until the test closes it
      s->hung.push_back(stream);
      co_return;
    }
    if (reply.then != Reply::Then::KeepAlive) {
      ++s->closed_by_server;
      boost::system::error_code ignored;
      stream->lowest_layer().close(ignored);
      co_return;
    }
  }
}

net::awaitable<void> handshake(std::shared_ptr<State> s, std::shared_ptr<Tls> stream, int id) {
  auto [ec] = co_await stream->async_handshake(net::ssl::stream_base::server, kTuple);
  if (ec) co_return;
  const char* sni = SSL_get_servername(stream->native_handle(), TLSEXT_NAMETYPE_host_name);
  co_await serve(s, stream, id, sni ? sni : "");
}

net::awaitable<void> accept(std::shared_ptr<State> s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor.async_accept(kTuple);
    if (!s->acceptor.is_open()) co_return;
    if (ec) continue;
    const int id = ++s->connections;
    if (s->tls) {
      auto stream = std::make_shared<Tls>(std::move(socket), *s->tls);
      s->closers.push_back([weak = std::weak_ptr<Tls>(stream)] { close(weak); });
      net::co_spawn(s->acceptor.get_executor(), handshake(s, stream, id), net::detached);
    } else {
      auto stream = std::make_shared<Plain>(std::move(socket));
      s->closers.push_back([weak = std::weak_ptr<Plain>(stream)] { close(weak); });
      net::co_spawn(s->acceptor.get_executor(), serve(s, stream, id, ""), net::detached);
    }
  }
}

}  // namespace

TestServer::TestServer(net::io_context& io, Handler handler, net::ssl::context* tls)
    : state_(std::make_shared<State>(io, std::move(handler), tls)) {
  net::co_spawn(io, accept(state_), net::detached);
}

TestServer::~TestServer() {
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& close_one : state_->closers) close_one();
}

uint16_t TestServer::port() const { return state_->acceptor.local_endpoint().port(); }

std::string TestServer::url(const std::string& path) const {
  return (state_->tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port()) +
         path;
}

const std::vector<Seen>& TestServer::seen() const { return state_->seen; }
int TestServer::connections() const { return state_->connections; }
int TestServer::closed_by_client() const { return state_->closed_by_client; }
int TestServer::closed_by_server() const { return state_->closed_by_server; }

void TestServer::close_connections() {
  for (auto& close_one : state_->closers) close_one();
}

}  // namespace vane::control::test
