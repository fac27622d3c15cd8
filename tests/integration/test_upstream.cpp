// vane-test-upstream: a small HTTP/1.1 origin for the integration tests. Each request's query
// string picks its behaviour (status, delay, body size, framing, failures, echo); GET /__stats
// reports connections and requests so tests can prove reuse; GET /__behave?fail_percent=N&delay_ms=D
// makes every later request without its own `status`/`delay_ms` fail (500) N% of the time, evenly
// spread, and wait D ms: a bad canary without changing what clients send. The body's end too:
// /__behave?reset_mid=1 (or close_mid, cut_bytes) cuts every later body that has no `status`.
// Body endings: close_mid=1 sends cut_bytes (default half) of the body, then closes (FIN);
// reset_mid=1 the same, then resets (RST); until_close=1 frames the body by closing (no
// Content-Length, FIN at its end); chunked=1&bad_chunk=1 sends half, then a malformed chunk line.
// A WebSocket handshake (Upgrade: websocket, no `status`) is answered 101 with its
// Sec-WebSocket-Accept (a wrong one with bad_accept=1) and X-Upstream, then every byte that
// comes is sent back as it came, until the client closes; it counts as active meanwhile.
// One thread, one io_context.
//
// Usage: vane-test-upstream --name NAME --ready-file PATH [--health-status CODE] [--port N]
//                           [--address IP] [--tls-cert PEM --tls-key PEM]
// Once bound on IP:N (default 127.0.0.1:0, 0: any port) it writes PATH (temp file + rename) as
// {"port":N}.
// With a certificate it also serves TLS on another port, reported as "tls_port": each TLS
// connection is decrypted and relayed to the plain port, so it is served (and counted) the same.

#include <array>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "tests/integration/body_pattern.hpp"

namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
// The concrete executor everywhere: any_io_executor trips GCC's -Wnull-dereference in Asio.
using Executor = net::io_context::executor_type;
template <class T = void>
using Task = net::awaitable<T, Executor>;
using Socket = net::basic_stream_socket<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
using Parser = http::request_parser<http::buffer_body>;
using Params = std::map<std::string, std::string, std::less<>>;

/// The parameters of a body's ending that /__behave may set for later requests.
constexpr std::array<std::string_view, 5> kCutParams{"close_mid", "reset_mid", "cut_bytes",
                                                      "until_close", "bad_chunk"};

constexpr auto use_tuple = net::as_tuple(net::use_awaitable_t<Executor>{});
constexpr size_t piece_bytes = 64 * 1024;

struct Options {
  std::string name = "upstream";
  std::string ready_file;
  unsigned health_status = 200;
  uint16_t port = 0;  ///< a fixed port lets a test restart an upstream where it was
  std::string address = "127.0.0.1";  ///< another loopback address: one port, several upstreams
  std::string tls_cert;  ///< both set: serve TLS too
  std::string tls_key;
};

/// Only proxied requests count: /__stats and /healthz are the tests' and vane's own traffic.
struct Stats {
  uint64_t connections = 0;  ///< connections that carried at least one counted request
  uint64_t requests = 0;
  uint64_t active = 0;  ///< counted requests being served now
  uint64_t closed = 0;  ///< connections that carried counted requests and have been closed
  std::string sni;      ///< the server name (SNI) of the last TLS connection, if any
  // Set by /__behave: the defaults of requests that do not ask for a status or delay.
  uint64_t fail_percent = 0;
  uint64_t delay_ms = 0;
  uint64_t fail_credit = 0;  ///< spreads the failures evenly (Bresenham over 100)
  Params cut;                ///< body endings set by /__behave (kCutParams), for requests without `status`
  int64_t last_request_ms = 0;  ///< wall clock (Unix ms) of the newest counted request
};

/// Length and checksum of a request body, which is never kept.
struct Digest {
  uint64_t bytes = 0;
  uint64_t fnv = vane::it::fnv_offset;
};

struct Reply {
  unsigned status = 200;
  std::string content_type = "text/plain";
  std::string body;      ///< used when pattern_bytes is unset
  bool pattern = false;  ///< body = pattern_bytes bytes of the shared test pattern
  uint64_t pattern_bytes = 0;
  bool chunked = false;
  bool close_mid = false;  ///< send cut_bytes (default half) of the body, then close (FIN)
  bool reset_mid = false;  ///< the same, then reset (RST)
  uint64_t cut_bytes = 0;  ///< where close_mid / reset_mid / bad_chunk cut the body
  bool until_close = false;  ///< no Content-Length: the close (FIN) ends the body
  bool bad_chunk = false;    ///< chunked: after cut_bytes, a malformed chunk-size line
  bool head_only = false;
  bool keep_alive = true;
};

Params parse_query(std::string_view target) {
  Params params;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return params;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::string_view item = rest.substr(0, rest.find('&'));
    rest.remove_prefix(std::min(rest.size(), item.size() + 1));
    const size_t eq = item.find('=');
    params.emplace(std::string(item.substr(0, eq)),
                   eq == std::string_view::npos ? "1" : std::string(item.substr(eq + 1)));
  }
  return params;
}

uint64_t param_u64(const Params& params, std::string_view key, uint64_t fallback) {
  const auto it = params.find(key);
  if (it == params.end()) return fallback;
  uint64_t value = fallback;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  return value;
}

/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2).
std::string websocket_accept(std::string_view key) {
  const std::string text = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

boost::json::string json_text(std::string_view s) {
  return boost::json::string(s.data(), s.size());
}

class Session {
 public:
  Session(Socket socket, const Options& options, Stats& stats)
      : socket_(std::move(socket)), options_(options), stats_(stats), piece_(piece_bytes) {}

  Task<> run() {
    for (;;) {
      const bool served = co_await serve_one();
      if (!served) break;
    }
    boost::system::error_code ec;
    socket_.shutdown(Socket::shutdown_send, ec);
    socket_.close(ec);
    if (counted_) ++stats_.closed;
  }

 private:
  /// Serves one request; false when the connection must end.
  Task<bool> serve_one() {
    Parser parser;
    parser.header_limit(1U << 20);
    parser.body_limit(boost::none);
    auto [ec, n] = co_await http::async_read_header(socket_, buffer_, parser, use_tuple);
    if (ec) co_return false;
    const std::string target(parser.get().target());
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    const bool counted = path != "/__stats" && path != "/healthz" && path != "/__behave";
    if (counted) {
      ++stats_.requests;
      stats_.last_request_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      ++stats_.active;
      if (!counted_) ++stats_.connections;
      counted_ = true;
    }
    const bool keep = co_await handle(parser, path, parse_query(target));
    if (counted) --stats_.active;
    co_return keep;
  }

  Task<bool> handle(Parser& parser, std::string_view path, Params params) {
    if (parser.get()[http::field::expect] == "100-continue" &&
        !co_await write("HTTP/1.1 100 Continue\r\n\r\n"))
      co_return false;
    Digest body;
    const bool body_read = co_await read_body(parser, body);
    if (!body_read) co_return false;
    Reply reply;
    reply.keep_alive = parser.keep_alive();
    reply.head_only = parser.get().method() == http::verb::head;
    if (path == "/__behave") behave(params);
    if (!params.contains("status")) params.insert(stats_.cut.begin(), stats_.cut.end());
    if (path == "/__stats" || path == "/healthz" || path == "/__behave") {
      control_reply(path, reply);
      co_return co_await send(reply);
    }
    if (boost::beast::websocket::is_upgrade(parser.get()) && !params.contains("status")) {
      co_return co_await echo_upgraded(parser, params);
    }
    if (params.contains("reset")) {  // RST instead of an answer
      reset();
      co_return false;
    }
    Timer timer(socket_.get_executor(),
                std::chrono::milliseconds(param_u64(params, "delay_ms", stats_.delay_ms)));
    co_await timer.async_wait(use_tuple);
    if (params.contains("garbage")) {
      co_await write("this is not HTTP\r\n\r\n");
      co_return false;
    }
    test_reply(parser, params, body, reply);
    const bool kept = co_await send(reply);
    co_return kept && !params.contains("close_after");  // an idle close, just after the answer
  }

  /// 101, then every byte back as it came; the connection ends with the client's close.
  Task<bool> echo_upgraded(const Parser& parser, const Params& params) {
    const std::string accept = params.contains("bad_accept")
                                   ? std::string("bm90IHRoZSBhY2NlcHQ=")
                                   : websocket_accept(parser.get()["Sec-WebSocket-Key"]);
    const std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                             "\r\nX-Upstream: " + options_.name + "\r\n\r\n";
    const bool sent = co_await write(head);
    if (!sent) co_return false;
    std::string pending(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    for (;;) {
      if (!pending.empty()) {
        const bool echoed = co_await write(pending);
        if (!echoed) co_return false;
      }
      auto [ec, n] = co_await socket_.async_read_some(net::buffer(piece_), use_tuple);
      if (ec) co_return false;
      pending.assign(piece_.data(), n);
    }
  }

  void behave(const Params& params) {
    stats_.fail_percent = std::min<uint64_t>(100, param_u64(params, "fail_percent", 0));
    stats_.delay_ms = param_u64(params, "delay_ms", 0);
    stats_.fail_credit = 0;
    stats_.cut.clear();
    for (const auto key : kCutParams) {
      if (const auto it = params.find(key); it != params.end()) stats_.cut.insert(*it);
    }
  }

  void control_reply(std::string_view path, Reply& reply) const {
    if (path == "/healthz") {
      reply.status = options_.health_status;
      reply.body = "ok\n";
      return;
    }
    reply.content_type = "application/json";
    reply.body = boost::json::serialize(boost::json::object{{"connections", stats_.connections},
                                                            {"requests", stats_.requests},
                                                            {"active", stats_.active},
                                                            {"closed", stats_.closed},
                                                            {"last_request_ms", stats_.last_request_ms},
                                                            {"sni", json_text(stats_.sni)}});
  }

  /// 500 for fail_percent of the requests, evenly spread; else 200.
  unsigned behaved_status() const {
    stats_.fail_credit += stats_.fail_percent;
    if (stats_.fail_credit < 100) return 200;
    stats_.fail_credit -= 100;
    return 500;
  }

  /// The answer the query parameters ask for.
  void test_reply(const Parser& parser, const Params& params, const Digest& body,
                  Reply& reply) const {
    reply.status = static_cast<unsigned>(param_u64(params, "status", behaved_status()));
    reply.chunked = params.contains("chunked");
    reply.close_mid = params.contains("close_mid");
    reply.reset_mid = params.contains("reset_mid");
    reply.until_close = params.contains("until_close") && !reply.chunked;
    reply.bad_chunk = params.contains("bad_chunk") && reply.chunked;
    if (params.contains("echo")) {
      reply.content_type = "application/json";
      reply.body = echo_json(parser, body);
    } else if (params.contains("body_bytes")) {
      reply.pattern = true;
      reply.pattern_bytes = param_u64(params, "body_bytes", 0);
    } else {
      reply.body = options_.name + " " + std::string(parser.get().method_string()) + " " +
                   std::string(parser.get().target()) + "\n";
    }
    const uint64_t size = reply.pattern ? reply.pattern_bytes : reply.body.size();
    reply.cut_bytes = std::min(size, param_u64(params, "cut_bytes", size / 2));
  }

  /// Reads the body through a fixed buffer, keeping only its length and checksum.
  Task<bool> read_body(Parser& parser, Digest& digest) {
    while (!parser.is_done()) {
      parser.get().body().data = piece_.data();
      parser.get().body().size = piece_.size();
      auto [ec, n] = co_await http::async_read(socket_, buffer_, parser, use_tuple);
      if (ec && ec != http::error::need_buffer) co_return false;
      const size_t got = piece_.size() - parser.get().body().size;
      digest.bytes += got;
      digest.fnv = vane::it::fnv1a(std::string_view(piece_.data(), got), digest.fnv);
    }
    co_return true;
  }

  std::string echo_json(const Parser& parser, const Digest& body) const {
    boost::json::array headers;
    for (const auto& field : parser.get())
      headers.push_back(
          boost::json::array{json_text(field.name_string()), json_text(field.value())});
    return boost::json::serialize(
        boost::json::object{{"name", options_.name},
                            {"method", json_text(parser.get().method_string())},
                            {"target", json_text(parser.get().target())},
                            {"version", parser.get().version() == 10 ? "HTTP/1.0" : "HTTP/1.1"},
                            {"headers", std::move(headers)},
                            {"body_bytes", body.bytes},
                            {"body_fnv", std::to_string(body.fnv)}});
  }

  /// Writes the head, then the body in pieces (never all of a large body at once).
  Task<bool> send(const Reply& reply) {
    const uint64_t size = reply.pattern ? reply.pattern_bytes : reply.body.size();
    std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(reply.status))) +
                       "\r\nX-Upstream: " + options_.name +
                       "\r\nContent-Type: " + reply.content_type + "\r\n";
    if (reply.chunked)
      head += "Transfer-Encoding: chunked\r\n";
    else if (!reply.until_close)
      head += "Content-Length: " + std::to_string(size) + "\r\n";
    head += reply.keep_alive && !reply.until_close ? "\r\n" : "Connection: close\r\n\r\n";
    const bool head_written = co_await write(head);
    if (!head_written) co_return false;
    if (reply.head_only) co_return reply.keep_alive && !reply.until_close;
    const bool cut = reply.close_mid || reply.reset_mid || reply.bad_chunk;
    const uint64_t limit = cut ? reply.cut_bytes : size;
    for (uint64_t offset = 0; offset < limit;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(piece_.size(), limit - offset));
      if (reply.pattern)
        vane::it::fill_pattern(piece_.data(), n, offset);
      else
        reply.body.copy(piece_.data(), n, static_cast<size_t>(offset));
      const bool piece_written = co_await write_piece(std::string_view(piece_.data(), n), reply.chunked);
      if (!piece_written) co_return false;
      offset += n;
    }
    if (reply.bad_chunk) co_await write("xyz\r\n");  // not a hex size: then a close (FIN)
    if (reply.reset_mid) reset();
    if (cut || reply.until_close) co_return false;
    if (reply.chunked) {
      const bool last_written = co_await write("0\r\n\r\n");
      if (!last_written) co_return false;
    }
    co_return reply.keep_alive;
  }

  /// Closes with an RST (SO_LINGER 0): the peer reads what was sent, then ECONNRESET.
  void reset() {
    boost::system::error_code ec;
    socket_.set_option(net::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }

  Task<bool> write_piece(std::string_view data, bool chunked) {
    if (!chunked) co_return co_await write(data);
    std::array<char, 24> size_line{};
    auto [end, ec] = std::to_chars(size_line.data(), size_line.data() + 16, data.size(), 16);
    *end++ = '\r';
    *end++ = '\n';
    const std::array<net::const_buffer, 3> buffers{
        net::buffer(size_line.data(), static_cast<size_t>(end - size_line.data())),
        net::buffer(data), net::buffer("\r\n", 2)};
    auto [werr, n] = co_await net::async_write(socket_, buffers, use_tuple);
    co_return !werr;
  }

  Task<bool> write(std::string_view data) {
    auto [ec, n] = co_await net::async_write(socket_, net::buffer(data), use_tuple);
    co_return !ec;
  }

  Socket socket_;
  boost::beast::flat_buffer buffer_;
  const Options& options_;
  Stats& stats_;
  std::vector<char> piece_;
  bool counted_ = false;
};

Task<> serve_connection(Socket socket, const Options& options, Stats& stats) {
  Session session(std::move(socket), options, stats);
  co_await session.run();
}

Task<> accept_loop(Acceptor& acceptor, const Options& options, Stats& stats) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. a connection reset before accept: keep serving
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), options, stats),
                  net::detached);
  }
}

// ---- TLS: a port in front of the plain one ----------------------------------------------------

using TlsSocket = net::ssl::stream<Socket>;

/// Copies bytes one way until either side ends, then closes both (ending the other direction).
template <class From, class To>
Task<> pipe(From& from, To& to, Socket& from_socket, Socket& to_socket) {
  std::array<char, 16384> buffer;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(net::buffer(buffer), use_tuple);
    if (ec) break;
    auto [wec, written] = co_await net::async_write(to, net::buffer(buffer.data(), n), use_tuple);
    if (wec) break;
  }
  boost::system::error_code ignored;
  from_socket.close(ignored);
  to_socket.close(ignored);
}

Task<> relay_tls(Socket socket, net::ssl::context& context, tcp::endpoint origin, Stats& stats) {
  auto tls = std::make_shared<TlsSocket>(std::move(socket), context);
  auto [hec] = co_await tls->async_handshake(net::ssl::stream_base::server, use_tuple);
  if (hec) co_return;
  const char* sni = SSL_get_servername(tls->native_handle(), TLSEXT_NAMETYPE_host_name);
  stats.sni = sni ? sni : "";
  auto plain = std::make_shared<Socket>(tls->get_executor());
  auto [cec] = co_await plain->async_connect(origin, use_tuple);
  if (cec) co_return;
  net::co_spawn(
      plain->get_executor(),
      [tls, plain]() -> Task<> { co_await pipe(*plain, *tls, *plain, tls->next_layer()); },
      net::detached);
  co_await pipe(*tls, *plain, tls->next_layer(), *plain);
}

Task<> accept_tls(Acceptor& acceptor, net::ssl::context& context, tcp::endpoint plain,
                  Stats& stats) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted) co_return;
    if (ec) continue;
    net::co_spawn(acceptor.get_executor(),
                  relay_tls(std::move(socket), context, plain, stats), net::detached);
  }
}

bool write_ready_file(const std::string& path, uint16_t port, uint16_t tls_port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << "{\"port\":" << port;
    if (tls_port != 0) out << ",\"tls_port\":" << tls_port;
    out << "}\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  return !ec;
}

bool parse_args(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--name")
      options.name = value;
    else if (flag == "--ready-file")
      options.ready_file = value;
    else if (flag == "--health-status")
      options.health_status = static_cast<unsigned>(std::stoul(value));
    else if (flag == "--port")
      options.port = static_cast<uint16_t>(std::stoul(value));
    else if (flag == "--address")
      options.address = value;
    else if (flag == "--tls-cert")
      options.tls_cert = value;
    else if (flag == "--tls-key")
      options.tls_key = value;
    else
      return false;
  }
  return argc % 2 == 1 && !options.ready_file.empty() &&
         options.tls_cert.empty() == options.tls_key.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_args(argc, argv, options)) {
    std::cerr << "usage: vane-test-upstream --name NAME --ready-file PATH [--health-status CODE]"
                 " [--port N] [--address IP] [--tls-cert PEM --tls-key PEM]\n";
    return 2;
  }
  net::io_context io(1);
  const auto address = net::ip::make_address(options.address);
  Acceptor acceptor(io, tcp::endpoint(address, options.port));
  Stats stats;
  net::basic_signal_set<Executor> signals(io.get_executor(), SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  net::co_spawn(io.get_executor(), accept_loop(acceptor, options, stats), net::detached);
  std::optional<net::ssl::context> tls_context;
  std::optional<Acceptor> tls_acceptor;
  if (!options.tls_cert.empty()) {
    tls_context.emplace(net::ssl::context::tls_server);
    tls_context->use_certificate_chain_file(options.tls_cert);
    tls_context->use_private_key_file(options.tls_key, net::ssl::context::pem);
    tls_acceptor.emplace(io, tcp::endpoint(address, 0));
    net::co_spawn(io.get_executor(),
                  accept_tls(*tls_acceptor, *tls_context, acceptor.local_endpoint(), stats),
                  net::detached);
  }
  const uint16_t tls_port = tls_acceptor ? tls_acceptor->local_endpoint().port() : 0;
  if (!write_ready_file(options.ready_file, acceptor.local_endpoint().port(), tls_port)) {
    std::cerr << "vane-test-upstream: cannot write " << options.ready_file << "\n";
    return 1;
  }
  io.run();
  return 0;
}
