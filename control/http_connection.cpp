#include "control/http_connection.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

#include <boost/asio/ssl.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace vane::control {
namespace {

namespace http = boost::beast::http;
namespace ssl = net::ssl;

}  // namespace

HttpConnection::HttpConnection(Executor executor, std::shared_ptr<ssl::context> tls)
    : context_(std::move(tls)) {
  if (context_) {
    tls_.emplace(executor, *context_);
  } else {
    plain_.emplace(executor);
  }
}

Task<boost::system::error_code> HttpConnection::connect(std::vector<tcp::endpoint> addresses) {
  auto [ec, connected] = co_await layer().async_connect(addresses, use_tuple);
  co_return ec;
}

Task<boost::system::error_code> HttpConnection::handshake(const std::string& name, bool verify) {
  boost::system::error_code not_address;
  net::ip::make_address(name, not_address);
  if (not_address) {  // SNI carries names only, never an address literal (RFC 6066)
    SSL_ctrl(tls_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  }
  if (verify) tls_->set_verify_callback(ssl::host_name_verification(name));
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::client, use_tuple);
  co_return ec;
}

Task<HttpConnection::Answer> HttpConnection::exchange(const Request& request,
                                                      std::uint64_t body_limit, bool head_only) {
  if (tls_) co_return co_await exchange_on(*tls_, request, body_limit, head_only);
  co_return co_await exchange_on(*plain_, request, body_limit, head_only);
}

template <class S>
Task<HttpConnection::Answer> HttpConnection::exchange_on(S& stream, const Request& request,
                                                         std::uint64_t body_limit,
                                                         bool head_only) {
  Answer answer;
  buffer_.clear();
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) {
    answer.ec = wec;
    co_return answer;
  }
  answer.sent = true;
  http::response_parser<http::string_body> parser;
  parser.body_limit(body_limit);
  boost::system::error_code rec;
  if (head_only) {
    std::tie(rec, std::ignore) = co_await http::async_read_header(stream, buffer_, parser, use_tuple);
  } else {
    std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer_, parser, use_tuple);
  }
  answer.received = parser.got_some() || buffer_.size() > 0;
  // A TLS peer that closes without close_notify after a complete answer is fine.
  if (rec && !(rec == ssl::error::stream_truncated && parser.is_done())) {
    answer.ec = rec;
    co_return answer;
  }
  answer.status = parser.get().result_int();
  answer.body = std::move(parser.get().body());
  answer.reusable = !head_only && !rec && parser.is_done() && parser.get().keep_alive() &&
                    buffer_.size() == 0;
  co_return answer;
}

Task<HttpConnection::Answer> HttpConnection::stream(const Request& request,
                                                    const BodySink& on_body) {
  if (tls_) co_return co_await stream_on(*tls_, request, on_body);
  co_return co_await stream_on(*plain_, request, on_body);
}

template <class S>
Task<HttpConnection::Answer> HttpConnection::stream_on(S& stream, const Request& request,
                                                       const BodySink& on_body) {
  Answer answer;
  buffer_.clear();
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) {
    answer.ec = wec;
    co_return answer;
  }
  answer.sent = true;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // no end to bound: the receiver bounds what it keeps
  auto [hec, hn] = co_await http::async_read_header(stream, buffer_, parser, use_tuple);
  answer.received = parser.got_some() || buffer_.size() > 0;
  if (hec) {
    answer.ec = hec;
    co_return answer;
  }
  answer.status = parser.get().result_int();
  layer().expires_never();  // the head came in time: the body may run as long as it runs
  std::array<char, 16 * 1024> piece;
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    // read_some, not read: a piece is handed on as soon as it arrives, not once the buffer fills.
    auto [ec, n] = co_await http::async_read_some(stream, buffer_, parser, use_tuple);
    const size_t got = piece.size() - parser.get().body().size;
    if (got > 0 && !on_body(std::string_view(piece.data(), got))) break;
    if (ec == http::error::need_buffer) continue;
    // A TLS peer that closes without close_notify after a complete answer is fine.
    if (ec && !(ec == ssl::error::stream_truncated && parser.is_done())) {
      answer.ec = ec;
      break;
    }
  }
  co_return answer;
}

bool HttpConnection::still_open() {
  if (!layer().socket().is_open()) return false;
  if (tls_ && SSL_pending(tls_->native_handle()) > 0) return false;  // decrypted, unasked-for
  char byte;
  const ssize_t n = ::recv(layer().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace vane::control
