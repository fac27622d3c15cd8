#include "control/admin_listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "proxy/log.hpp"

namespace vane::control {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using Stream = beast::basic_stream<tcp, Executor>;
constexpr auto kTimeout = std::chrono::seconds(30);

Task<void> serve(Socket socket, const AdminListener::Handler& handler) {
  Stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    stream.expires_after(kTimeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec) break;
    auto& request = parser.get();
    AdminRequest question;
    question.method = request.method_string();
    question.target = request.target();
    question.body = request.body();
    question.authorization = request[http::field::authorization];
    question.forwarded = request.count(kForwardedBy) > 0;
    question.origin = request[http::field::origin];
    question.host = request[http::field::host];
    question.if_none_match = request[http::field::if_none_match];
    AdminResponse answer = co_await handler(question);
    http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                               request.version()};
    response.set(http::field::server, "vane");
    response.set(http::field::content_type, answer.content_type);
    response.set("X-Content-Type-Options", "nosniff");  // each answer is what it says
    for (const auto& [name, value] : answer.headers) response.set(name, value);
    response.keep_alive(request.keep_alive());
    response.body() = std::move(answer.body);
    response.prepare_payload();
    if (request.method() == http::verb::head) {  // the length a GET would get, and no body
      const auto length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    stream.expires_after(kTimeout);
    auto [wec, wn] = co_await http::async_write(stream, response, use_tuple);
    if (wec || !response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

AdminListener::AdminListener(net::io_context& io, const tcp::endpoint& at, Handler handler)
    : io_(io), acceptor_(io), handler_(std::move(handler)) {
  acceptor_.open(at.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(at);
  acceptor_.listen();
}

void AdminListener::start() {
  net::co_spawn(
      io_,
      [this]() -> Task<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
          if (!acceptor_.is_open()) co_return;
          if (ec) continue;
          net::co_spawn(io_, serve(std::move(socket), handler_), net::detached);
        }
      },
      net::detached);
}

void AdminListener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

}  // namespace vane::control
