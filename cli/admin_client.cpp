#include "cli/admin_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <fstream>
#include <sstream>

#include "config/duration.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr std::uint64_t kBodyLimit = std::uint64_t{16} << 20;  // STATUS with long run histories
constexpr std::string_view kSpace = " \t\r\n\v\f";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

/// One request on its own io_context: connect, write, read, all under one deadline (a
/// tcp_stream's expiry is a deadline for every operation started after it is set).
class Exchange {
 public:
  Exchange(net::io_context& io, http::request<http::empty_body> request,
           std::chrono::milliseconds timeout)
      : stream_(io), request_(std::move(request)), timeout_(timeout) {
    parser_.body_limit(kBodyLimit);
  }

  void start(const tcp::resolver::results_type& endpoints) {
    stream_.expires_after(timeout_);
    stream_.async_connect(endpoints, [this](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return fail(ec);
      result_.connected = true;
      http::async_write(stream_, request_, [this](beast::error_code wec, std::size_t) {
        if (wec) return fail(wec);
        http::async_read(stream_, buffer_, parser_,
                         [this](beast::error_code rec, std::size_t) { on_read(rec); });
      });
    });
  }

  AdminResult take() { return std::move(result_); }

 private:
  void on_read(beast::error_code ec) {
    if (ec) return fail(ec);
    auto& response = parser_.get();
    result_.status = static_cast<int>(response.result_int());
    result_.body = std::move(response.body());
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  void fail(beast::error_code ec) {
    result_.error = ec == beast::error::timeout
                        ? "no answer within " + config::format_duration(timeout_)
                        : ec.message();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response_parser<http::string_body> parser_;
  std::chrono::milliseconds timeout_;
  AdminResult result_;
};

}  // namespace

AdminClient::AdminClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  auto parsed = boost::urls::parse_uri(base_url_);
  if (!parsed) {
    url_error_ = "malformed URL \"" + base_url_ + "\"";
    return;
  }
  const boost::urls::url_view url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::http) {
    url_error_ = "unsupported URL \"" + base_url_ + "\": only http:// is supported";
    return;
  }
  host_ = url.host_address();
  if (host_.empty()) {
    url_error_ = "URL \"" + base_url_ + "\" has no host";
    return;
  }
  port_ = url.has_port() ? std::string(url.port()) : "80";
  authority_ = url.encoded_host_and_port();
  prefix_ = url.encoded_path();
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

AdminResult AdminClient::get(std::string_view target) const { return request(false, target); }

AdminResult AdminClient::post(std::string_view target) const { return request(true, target); }

AdminResult AdminClient::request(bool post, std::string_view target) const {
  AdminResult result;
  if (!url_error_.empty()) {
    result.error = url_error_;
    return result;
  }
  http::request<http::empty_body> request{post ? http::verb::post : http::verb::get,
                                          prefix_ + std::string(target), 11};
  request.set(http::field::host, authority_);
  request.set(http::field::user_agent, "vane/" VANE_VERSION);
  request.set(http::field::accept, "application/json");
  if (post && !token_.empty()) request.set(http::field::authorization, "Bearer " + token_);
  request.keep_alive(false);
  request.prepare_payload();  // Content-Length: 0 on POST

  net::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) {
    result.error = "cannot resolve " + host_ + ": " + ec.message();
    return result;
  }
  Exchange exchange(io, std::move(request), timeout_);
  exchange.start(endpoints);
  io.run();
  return exchange.take();
}

std::optional<std::string> read_token_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) return std::nullopt;
  return std::string(trim(content.str()));
}

std::string error_message(const AdminResult& result) {
  if (!result.answered()) return result.error;
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(result.body, ec);
  if (!ec && body.is_object()) {
    if (const auto* error = body.as_object().if_contains("error"); error && error->is_string()) {
      return std::string(error->as_string());
    }
  }
  const std::string_view text = trim(result.body);
  if (!text.empty() && text.size() <= 200 && text.find('\n') == std::string_view::npos) {
    return std::string(text);
  }
  const auto reason = http::obsolete_reason(static_cast<http::status>(result.status));
  return "the admin API answered " + std::to_string(result.status) + " " + std::string(reason);
}

}  // namespace vane::cli
