#include "proxy/session.hpp"

#include <algorithm>

#include "proxy/exchange.hpp"
#include "proxy/h2/h2_connection.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/net/io.hpp"
#include "proxy/log.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {
namespace {

constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kLingerBytes = 1 << 20;

}  // namespace

Session::Session(Worker& worker, ClientSocket client, bool tls)
    : client_(worker, Stream(std::move(client.socket)), worker.buffers(), std::move(client.address),
              client.port),
      listener_(client.listener),
      tls_(tls),
      served_(client.served) {
  worker.deadlines().add(client_.deadline);
  // The certificates of the current config; the connection keeps them to its end.
  const ConfigSnapshot& snapshot = worker.snapshot();
  if (tls_ && listener_ < snapshot.listener_tls.size() && snapshot.listener_tls[listener_]) {
    client_.stream.start_server_tls(snapshot.listener_tls[listener_]);
  }
}

Session::~Session() {
  if (!handed_off_) client_.worker.session_closed(listener_);
}

Task<bool> Session::run() {
  try {
    bool secured = true;
    if (tls_) secured = co_await handshake();
    bool h2 = false;
    if (secured && !served_) h2 = co_await wants_h2();
    if (h2) co_return true;
    // A plain connection starts with something to read; a TLS one may hold it in its layer.
    for (bool first = !served_, readable = !tls_; secured; first = false, readable = false) {
      if (client_.worker.draining() && client_.in.empty()) break;
      if (client_.in.empty() && !readable) {
        if (!client_.stream.tls()) {
          go_idle();
          co_return false;
        }
        const bool woke = co_await wait_readable(first);
        if (!woke) break;
      }
      const bool got_head = co_await read_head();
      if (!got_head) break;
      Exchange exchange(client_, client_.worker.request_scratch());
      const bool keep_alive = co_await exchange.run();
      if (!keep_alive) {
        co_await linger_close();
        co_return false;
      }
    }
  } catch (const std::exception& e) {
    log::error(std::string("session ended by an unexpected error: ") + e.what());
  }
  boost::system::error_code ignored;
  client_.stream.socket().close(ignored);
  co_return false;
}

Task<void> Session::serve_h2() {
  try {
    {
      H2Connection connection(client_, listener_);
      co_await connection.run();
    }
    // Its last frame may be a GOAWAY: a close with unread bytes would reset it away.
    co_await linger_close();
  } catch (const std::exception& e) {
    log::error(std::string("HTTP/2 session ended by an unexpected error: ") + e.what());
    boost::system::error_code ignored;
    client_.stream.socket().close(ignored);
  }
}

/// A TLS listener's handshake, under the requestHeaderTimeout deadline: a client that connects
/// and sends nothing (or stalls mid-handshake) is closed quietly, like one that sends no request.
Task<bool> Session::handshake() {
  if (!client_.stream.tls()) co_return false;  // its certificates failed to load: logged then
  client_.arm(Phase::Idle, client_.worker.snapshot().config->limits.request_header_timeout);
  const auto ec = co_await client_.stream.handshake();
  co_return !ec;
}

/// The client speaks HTTP/2: it chose h2 by ALPN, or it opened a plain connection to a listener
/// that speaks h2 with the preface. What was read to tell stays in the buffer for either parser.
Task<bool> Session::wants_h2() {
  const ConfigSnapshot& snapshot = client_.worker.snapshot();
  if (!snapshot.config->listeners[listener_].speaks(config::Protocol::H2)) co_return false;
  if (tls_) co_return client_.stream.alpn_h2();
  constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  client_.arm(Phase::Idle, snapshot.config->limits.request_header_timeout);
  while (client_.in.size() < kPreface.size()) {
    if (!kPreface.starts_with(client_.in.data())) co_return false;
    size_t room = 0;
    char* at = client_.in.prepare(room);
    auto [ec, n] = co_await client_.stream.read_some(net::buffer(at, room));
    if (ec) co_return false;  // what follows reads the same end
    client_.in.commit(n);
  }
  co_return client_.in.data().starts_with(kPreface);
}

Task<bool> Session::read_head() {
  // Copies, not references: a reload may replace the worker's snapshot while a read below waits.
  http::Limits parse_limits;
  size_t most = 0;   // the buffer may grow to hold this much head
  size_t eager = 0;  // past this many bytes, parse without waiting for a line end
  {
    const ConfigSnapshot& snapshot = client_.worker.snapshot();
    const auto& limits = snapshot.config->limits;
    parse_limits = snapshot.limits;
    client_.arm(Phase::Head, limits.request_header_timeout);
    most = std::max<size_t>(limits.max_request_header_bytes, limits.max_request_line_bytes + 2) + 2;
    eager = std::min<size_t>(limits.max_request_line_bytes, limits.max_request_header_bytes);
  }
  http::RequestHead& head = client_.worker.request_scratch();
  // The parser starts over on each call, so it runs only when a line may have ended or a limit
  // may have been crossed: a client trickling one byte at a time costs linear time, not quadratic.
  for (bool parse = true;;) {
    if (parse) {
      http::ParseError error;
      const auto status = http::parse_request(client_.in.data(), parse_limits, head, error);
      if (status == http::ParseStatus::Complete) co_return true;
      if (status == http::ParseStatus::Error) {
        co_await reject(error.status);
        co_return false;
      }
    }
    size_t room = 0;
    char* at = client_.in.prepare(room, 1, most);
    if (room == 0) {
      co_await reject(431);
      co_return false;
    }
    ReadResult read;
    if (!client_.stream.read_now(net::buffer(at, room), read)) {
      read = co_await client_.stream.read_some(net::buffer(at, room));
    }
    const auto [ec, n] = read;
    if (ec) {
      if (client_.deadline.fired()) co_await reject(408);
      co_return false;  // a client that closes mid-head gets no answer
    }
    client_.in.commit(n);
    parse = std::string_view(at, n).find('\n') != std::string_view::npos || client_.in.size() > eager;
  }
}

/// TLS may already hold the next request's bytes (read with the last record) where the socket no
/// longer shows them: read instead of waiting, into a buffer kept while idle.
Task<bool> Session::wait_readable(bool first) {
  const auto& limits = client_.worker.snapshot().config->limits;
  client_.arm(Phase::Idle, first ? limits.request_header_timeout : limits.idle_timeout);
  size_t room = 0;
  char* at = client_.in.prepare(room);
  auto [ec, n] = co_await client_.stream.read_some(net::buffer(at, room));
  if (!ec) client_.in.commit(n);
  co_return !ec && !client_.worker.draining();
}

void Session::go_idle() {
  handed_off_ = true;
  ClientSocket client{.socket = std::move(client_.stream.socket()),
                      .listener = listener_,
                      .address = std::move(client_.address),
                      .port = client_.port,
                      .served = true};
  IdleConnection::wait(client_.worker, std::move(client),
                       client_.worker.snapshot().config->limits.idle_timeout);
}

Task<void> Session::reject(int status) {
  client_.arm(Phase::Head, std::chrono::seconds(5));
  co_await write_all(client_.stream, http::canned_response(status, true));
  co_await linger_close();
}

/// Closes after an answer that ends the connection: stop sending, then read and drop what the
/// client still sends for a short while, so its unread bytes do not turn our close into a reset
/// that destroys the answer before the client reads it.
Task<void> Session::linger_close() {
  boost::system::error_code ignored;
  client_.in.consume(client_.in.size());
  client_.arm(Phase::Idle, kLingerTime);
  if (client_.stream.tls()) {  // close_notify, then the client's (or its close, or the deadline)
    co_await client_.stream.shutdown_tls();
    co_return;
  }
  Socket& socket = client_.stream.socket();
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  size_t dropped = 0;
  while (dropped < kLingerBytes) {
    size_t room = 0;
    char* at = client_.in.prepare(room);
    auto [ec, n] = co_await socket.async_read_some(net::buffer(at, room), use_tuple);
    if (ec) break;
    dropped += n;
  }
  client_.in.consume(client_.in.size());
  socket.close(ignored);
}

}  // namespace vane::proxy
