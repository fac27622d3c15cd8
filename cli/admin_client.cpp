#include "cli/admin_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <exception>
#include <fstream>
#include <sstream>

#include "control/http_client.hpp"

namespace vane::cli {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;

constexpr std::uint64_t kBodyLimit = std::uint64_t{16} << 20;  // STATUS with long run histories
constexpr std::string_view kSpace = " \t\r\n\v\f";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

}  // namespace

/// The client's own io_context, run only while a request is in flight.
struct AdminClient::Session {
  net::io_context io{1};
  control::HttpClient http{io};  ///< after `io`: goes first

  control::HttpReply run(control::HttpCall call) {
    std::optional<control::HttpReply> reply;
    net::co_spawn(io, http.fetch(std::move(call)),
                  [&reply](std::exception_ptr error, control::HttpReply r) {
                    if (error) r.error = "internal error";
                    reply = std::move(r);
                  });
    io.restart();
    while (!reply && io.run_one() > 0) {
    }
    return reply ? std::move(*reply) : control::HttpReply{0, {}, "internal error", false};
  }
};

AdminClient::AdminClient(std::string base_url, std::string token)
    : base_url_(std::move(base_url)),
      token_(std::move(token)),
      url_error_(admin_url_error(base_url_)),
      session_(std::make_shared<Session>()) {
  if (!url_error_.empty()) return;
  const boost::urls::url_view url = *boost::urls::parse_uri(base_url_);
  origin_ = "http://" + std::string(url.encoded_host_and_port());
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
  control::HttpCall call;
  call.method = post ? "POST" : "GET";
  call.url = origin_ + prefix_ + std::string(target);
  call.headers.push_back({"Accept", "application/json"});
  if (post && !token_.empty()) call.headers.push_back({"Authorization", "Bearer " + token_});
  call.timeout = timeout_;
  call.body_limit = kBodyLimit;
  control::HttpReply reply = session_->run(std::move(call));
  result.status = static_cast<int>(reply.status);
  result.body = std::move(reply.body);
  result.error = std::move(reply.error);
  result.connected = reply.connected;
  return result;
}

std::string admin_url_error(std::string_view base_url) {
  const std::string quoted = "\"" + std::string(base_url) + "\"";
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) return "malformed URL " + quoted;
  if (parsed->scheme_id() != boost::urls::scheme::http) {
    return "unsupported URL " + quoted + ": only http:// is supported";
  }
  if (parsed->host_address().empty()) return "URL " + quoted + " has no host";
  return {};
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
