#include "control/analysis_http.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <optional>

#include "config/duration.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::control {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using Stream = beast::basic_stream<tcp, Executor>;
using Resolver = net::ip::basic_resolver<tcp, Executor>;
using Request = http::request<http::string_body>;

constexpr std::uint64_t kBodyLimit = std::uint64_t{8} << 20;

/// Where a URL points: what to connect to and what to ask for.
struct Target {
  bool tls = false;
  std::string host;       ///< name or address, without IPv6 brackets
  std::string port;
  std::string authority;  ///< the Host header, as written
  std::string target;     ///< path and query
};

std::optional<Target> parse_target(const std::string& url, std::string* error) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    *error = "malformed URL \"" + url + "\"";
    return std::nullopt;
  }
  const boost::urls::url_view u = *parsed;
  Target t;
  if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    *error = "unsupported URL \"" + url + "\": only http:// and https://";
    return std::nullopt;
  }
  t.host = u.host_address();
  if (t.host.empty()) {
    *error = "URL \"" + url + "\" has no host";
    return std::nullopt;
  }
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.authority = u.encoded_host_and_port();
  t.target = u.encoded_target();
  if (t.target.empty() || t.target.front() != '/') t.target.insert(0, "/");
  return t;
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

std::optional<Request> make_request(const HttpCall& call, const Target& target,
                                    std::string* error) {
  const http::verb verb = http::string_to_verb(call.method);
  if (verb != http::verb::get && verb != http::verb::post && verb != http::verb::put) {
    *error = "unsupported method \"" + call.method + "\"";
    return std::nullopt;
  }
  Request request{verb, target.target, 11};
  request.set(http::field::host, target.authority);
  request.set(http::field::user_agent, "vane-analysis/" VANE_VERSION);
  request.set(http::field::accept, "application/json");
  for (const config::KeyValue& header : call.headers) {
    if (header.key.empty() || has_line_break(header.key) || has_line_break(header.value)) {
      *error = "invalid header \"" + header.key + "\"";
      return std::nullopt;
    }
    request.set(header.key, header.value);
  }
  if (!call.body.empty()) {
    if (request.find(http::field::content_type) == request.end()) {
      request.set(http::field::content_type, "application/json");
    }
    request.body() = call.body;
  }
  request.keep_alive(false);
  request.prepare_payload();
  return request;
}

std::string describe(const boost::system::error_code& ec, std::string_view what,
                     const HttpCall& call, const HttpCancel& cancel) {
  if (cancel.cancelled()) return "cancelled";
  if (ec == beast::error::timeout) {
    return "no answer within " + config::format_duration(call.timeout);
  }
  return std::string(what) + ": " + ec.message();
}

/// Writes the request and reads the answer on a connected (and handshaken) stream.
template <class S>
Task<HttpReply> exchange(S& stream, const Request& request, const HttpCall& call,
                         const HttpCancel& cancel) {
  HttpReply reply;
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) {
    reply.error = describe(wec, "cannot send the request", call, cancel);
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  // A TLS peer that closes without close_notify after a complete answer is fine.
  if (rec && !(rec == ssl::error::stream_truncated && parser.is_done())) {
    reply.error = describe(rec, "cannot read the answer", call, cancel);
    co_return reply;
  }
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  co_return reply;
}

/// Clears the cancel hook when what it closes goes.
struct CloseGuard {
  HttpCancel& cancel;
  ~CloseGuard() { cancel.set_close(nullptr); }
};

using Endpoints = Resolver::results_type;

Task<HttpReply> fetch_plain(const Endpoints& endpoints, const Target& target,
                            const Request& request, const HttpCall& call, HttpCancel& cancel) {
  Stream stream(co_await net::this_coro::executor);
  cancel.set_close([&stream] { stream.cancel(); });
  CloseGuard guard{cancel};
  stream.expires_after(call.timeout);  // one deadline for everything that follows
  auto [ec, connected] = co_await stream.async_connect(endpoints, use_tuple);
  if (ec) {
    co_return HttpReply{0, {}, describe(ec, "cannot connect to " + target.authority, call, cancel)};
  }
  HttpReply reply = co_await exchange(stream, request, call, cancel);
  co_return reply;
}

Task<HttpReply> fetch_tls(const Endpoints& endpoints, const Target& target, const Request& request,
                          const HttpCall& call, ssl::context& tls, HttpCancel& cancel) {
  ssl::stream<Stream> stream(co_await net::this_coro::executor, tls);
  Stream& layer = stream.next_layer();
  cancel.set_close([&layer] { layer.cancel(); });
  CloseGuard guard{cancel};
  boost::system::error_code not_address;
  net::ip::make_address(target.host, not_address);
  if (not_address) {  // SNI carries names only, never an address literal (RFC 6066)
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(target.host.c_str()));
  }
  stream.set_verify_callback(ssl::host_name_verification(target.host));
  layer.expires_after(call.timeout);  // one deadline for everything that follows
  auto [ec, connected] = co_await layer.async_connect(endpoints, use_tuple);
  if (ec) {
    co_return HttpReply{0, {}, describe(ec, "cannot connect to " + target.authority, call, cancel)};
  }
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (hec) {
    co_return HttpReply{0, {}, describe(hec, "TLS handshake with " + target.authority, call,
                                        cancel)};
  }
  HttpReply reply = co_await exchange(stream, request, call, cancel);
  co_return reply;
}

}  // namespace

std::shared_ptr<ssl::context> make_client_tls() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  context->set_verify_mode(ssl::verify_peer, ec);
  context->set_default_verify_paths(ec);
  return context;
}

Task<HttpReply> http_fetch(HttpCall call, std::shared_ptr<ssl::context> tls,
                           std::shared_ptr<HttpCancel> cancel) {
  if (!cancel) cancel = std::make_shared<HttpCancel>();
  HttpReply reply;
  const auto target = parse_target(call.url, &reply.error);
  if (!target) co_return reply;
  if (target->tls && !tls) {
    reply.error = "https is not available for \"" + call.url + "\"";
    co_return reply;
  }
  const auto request = make_request(call, *target, &reply.error);
  if (!request) co_return reply;
  if (cancel->cancelled()) {
    reply.error = "cancelled";
    co_return reply;
  }

  Resolver resolver(co_await net::this_coro::executor);
  Endpoints endpoints;
  {
    cancel->set_close([&resolver] { resolver.cancel(); });
    CloseGuard guard{*cancel};
    auto [ec, found] = co_await resolver.async_resolve(target->host, target->port, use_tuple);
    if (ec || cancel->cancelled()) {
      reply.error = describe(ec, "cannot resolve " + target->host, call, *cancel);
      co_return reply;
    }
    endpoints = std::move(found);
  }
  if (target->tls) {
    reply = co_await fetch_tls(endpoints, *target, *request, call, *tls, *cancel);
  } else {
    reply = co_await fetch_plain(endpoints, *target, *request, call, *cancel);
  }
  co_return reply;
}

}  // namespace vane::control
