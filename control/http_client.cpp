#include "control/http_client.hpp"

#include <algorithm>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "config/duration.hpp"
#include "control/http_connection.hpp"
#include "control/http_trust.hpp"
#include "proxy/log.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::control {
namespace {

namespace http = boost::beast::http;
namespace ssl = net::ssl;
using Clock = std::chrono::steady_clock;
using Resolver = net::ip::basic_resolver<tcp, Executor>;
using Request = HttpConnection::Request;
using boost::system::error_code;

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
  request.set(http::field::user_agent, "vane/" VANE_VERSION);
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
  if (call.head_only) request.keep_alive(false);
  request.prepare_payload();
  return request;
}

/// Everything a call needs besides its connection, worked out before any I/O.
struct Plan {
  explicit Plan(Executor e) : executor(e) {}
  Executor executor;  ///< the client's: its connections' I/O runs there
  Target target;
  Request request;
  std::shared_ptr<ssl::context> tls;  ///< null: plain HTTP
  std::string tls_name;               ///< SNI and the name verified
  std::string origin;                 ///< the pool's key
  Clock::time_point deadline;
  bool pooled = false;  ///< may take an idle connection (and be sent again on a fresh one)
};

std::string describe(const error_code& ec, const std::string& what, const HttpCall& call,
                     const HttpCancel& cancel) {
  if (cancel.cancelled()) return "cancelled";
  if (ec == boost::beast::error::timeout) {
    return "no answer within " + config::format_duration(call.timeout);
  }
  return what + ": " + ec.message();
}

/// Clears the cancel hook when what it closes goes.
struct CloseGuard {
  HttpCancel& cancel;
  ~CloseGuard() { cancel.set_close(nullptr); }
};

/// A lookup the call may stop waiting for: Asio's resolver ends only when getaddrinfo returns,
/// even cancelled, so the lookup writes here and wakes the call, which may be gone by then.
struct Lookup {
  Lookup(Executor executor, Clock::time_point deadline)
      : resolver(executor), wake(executor, deadline) {}
  Resolver resolver;
  Timer wake;  ///< the call waits on it: until the deadline, the answer or a cancel
  bool done = false;
  error_code ec;
  std::vector<tcp::endpoint> addresses;
};

/// The addresses of the target's host, within the deadline (timeout: beast::error::timeout).
Task<error_code> resolve(const Plan& plan, HttpCancel& cancel, std::vector<tcp::endpoint>& out) {
  auto lookup = std::make_shared<Lookup>(plan.executor, plan.deadline);
  lookup->resolver.async_resolve(plan.target.host, plan.target.port,
                                 [lookup](error_code ec, const Resolver::results_type& found) {
                                   lookup->done = true;
                                   lookup->ec = ec;
                                   for (const auto& e : found) lookup->addresses.push_back(e.endpoint());
                                   lookup->wake.cancel();
                                 });
  cancel.set_close([&wake = lookup->wake] { wake.cancel(); });
  CloseGuard guard{cancel};
  co_await lookup->wake.async_wait(use_tuple);
  if (!lookup->done) {
    co_return cancel.cancelled() ? error_code(net::error::operation_aborted)
                                 : error_code(boost::beast::error::timeout);
  }
  out = std::move(lookup->addresses);
  co_return lookup->ec;
}

/// The pool's key: connections are shared only by calls that would make the same one.
std::string origin_key(const HttpCall& call, const Target& target) {
  std::string key = (target.tls ? "https://" : "http://") + target.host + " " + target.port;
  if (call.connect_to) {
    key += " @" + call.connect_to->address().to_string() + " " +
           std::to_string(call.connect_to->port());
  }
  if (target.tls) {
    key += " tls " + std::to_string(call.tls.insecure_skip_verify) + " " + call.tls.server_name +
           " " + call.tls.ca_file + " cert " + call.cert_file + " " + call.key_file;
  }
  return key;
}

/// A new connection for `plan`: resolved (unless the call says where), connected, handshaken;
/// null with `reply.error` set when that fails.
Task<std::unique_ptr<HttpConnection>> open(const Plan& plan, const HttpCall& call,
                                           HttpCancel& cancel, HttpReply& reply) {
  std::vector<tcp::endpoint> addresses;
  if (call.connect_to) {
    addresses.push_back(*call.connect_to);
  } else {
    const error_code ec = co_await resolve(plan, cancel, addresses);
    if (ec || cancel.cancelled()) {
      reply.error = describe(ec, "cannot resolve " + plan.target.host, call, cancel);
      co_return nullptr;
    }
  }
  auto connection = std::make_unique<HttpConnection>(plan.executor, plan.tls);
  HttpConnection& c = *connection;
  c.layer().expires_at(plan.deadline);  // one deadline for everything that follows
  cancel.set_close([&c] { c.layer().cancel(); });
  CloseGuard guard{cancel};
  error_code ec = co_await c.connect(std::move(addresses));
  if (ec || cancel.cancelled()) {
    reply.error = describe(ec, "cannot connect to " + plan.target.authority, call, cancel);
    co_return nullptr;
  }
  reply.connected = true;
  if (plan.tls) {
    ec = co_await c.handshake(plan.tls_name, !call.tls.insecure_skip_verify);
    if (ec || cancel.cancelled()) {
      reply.error = describe(ec, "TLS handshake with " + plan.target.authority, call, cancel);
      co_return nullptr;
    }
  }
  co_return connection;
}

/// The call's request and answer on `c`, within the call's deadline (with on_body: its head).
Task<HttpConnection::Answer> exchange(HttpConnection& c, const Plan& plan, const HttpCall& call,
                                      HttpCancel& cancel) {
  c.layer().expires_at(plan.deadline);
  cancel.set_close([&c] { c.layer().cancel(); });
  CloseGuard guard{cancel};
  HttpConnection::Answer answer;
  if (call.on_body) {
    // A cancel from inside on_body has nothing in flight to close: stop reading here instead.
    // Named before the co_await (GCC 12 destroys lambda temporaries in its operand twice).
    HttpConnection::BodySink sink = [&](std::string_view piece) {
      return call.on_body(piece) && !cancel.cancelled();
    };
    answer = co_await c.stream(plan.request, sink);
  } else {
    answer = co_await c.exchange(plan.request, call.body_limit, call.head_only);
  }
  c.layer().expires_never();
  co_return answer;
}

}  // namespace

/// The idle connections and TLS contexts, shared by the client and its calls in flight.
struct HttpClient::Pool {
  struct Idle {
    std::string origin;
    std::unique_ptr<HttpConnection> connection;
    Clock::time_point since;
  };

  explicit Pool(Executor e) : executor(e) {}

  static Task<HttpReply> fetch(std::shared_ptr<Pool> self, HttpCall call,
                               std::shared_ptr<HttpCancel> cancel);
  /// Parses the call and finds its TLS context; false (and `error`) when it cannot be sent.
  bool prepare(const HttpCall& call, Plan& plan, std::string* error);
  /// The newest idle connection of `origin` that is still open; null when none is.
  std::unique_ptr<HttpConnection> take(const std::string& origin);
  void put(std::string origin, std::unique_ptr<HttpConnection> connection);
  /// Closes the idle connections of `origin`.
  void drop(const std::string& origin);
  void expire(Clock::time_point now);

  Executor executor;
  std::vector<Idle> idle;              ///< oldest first
  HttpTrust trust;
  bool closed = false;                 ///< the client is gone: nothing goes back
};

Task<HttpReply> HttpClient::Pool::fetch(std::shared_ptr<Pool> self, HttpCall call,
                                        std::shared_ptr<HttpCancel> cancel) {
  if (!cancel) cancel = std::make_shared<HttpCancel>();
  HttpReply reply;
  Plan plan(self->executor);
  if (!self->prepare(call, plan, &reply.error)) co_return reply;
  for (int attempt = 0;; ++attempt) {
    if (cancel->cancelled()) {
      reply.error = "cancelled";
      co_return reply;
    }
    std::unique_ptr<HttpConnection> connection;
    if (plan.pooled && attempt == 0) connection = self->take(plan.origin);
    const bool reused = connection != nullptr;
    if (!reused) connection = co_await open(plan, call, *cancel, reply);
    if (!connection) co_return reply;
    reply.connected = true;
    HttpConnection::Answer answer = co_await exchange(*connection, plan, call, *cancel);
    if (answer.ec && reused && !answer.received && !cancel->cancelled() &&
        answer.ec != boost::beast::error::timeout) {
      self->drop(plan.origin);  // closed while idle: so are its older siblings, likely
      continue;                 // once, on a fresh connection
    }
    if (answer.ec || (call.on_body && cancel->cancelled())) {  // a stream ends "cancelled"
      const char* what = answer.sent ? "cannot read the answer" : "cannot send the request";
      reply.error = describe(answer.ec, what, call, *cancel);
      co_return reply;
    }
    reply.status = answer.status;
    reply.body = std::move(answer.body);
    if (answer.reusable && !self->closed) self->put(plan.origin, std::move(connection));
    co_return reply;
  }
}

bool HttpClient::Pool::prepare(const HttpCall& call, Plan& plan, std::string* error) {
  auto target = parse_target(call.url, error);
  if (!target) return false;
  auto request = make_request(call, *target, error);
  if (!request) return false;
  if (target->tls) {
    plan.tls = trust.context(call, error);
    if (!plan.tls) return false;
    plan.tls_name = call.tls.server_name.empty() ? target->host : call.tls.server_name;
  }
  plan.origin = origin_key(call, *target);
  // A POST sent on a pooled connection the server has just closed could not be sent again.
  plan.pooled = !call.head_only && !call.on_body &&
                call.idempotent.value_or(request->method() != http::verb::post);
  plan.deadline = Clock::now() + call.timeout;
  plan.target = std::move(*target);
  plan.request = std::move(*request);
  return true;
}

std::unique_ptr<HttpConnection> HttpClient::Pool::take(const std::string& origin) {
  expire(Clock::now());
  for (;;) {
    const auto newest = std::find_if(idle.rbegin(), idle.rend(),
                                     [&](const Idle& i) { return i.origin == origin; });
    if (newest == idle.rend()) return nullptr;
    std::unique_ptr<HttpConnection> connection = std::move(newest->connection);
    idle.erase(std::next(newest).base());
    if (connection->still_open()) return connection;
  }
}

void HttpClient::Pool::put(std::string origin, std::unique_ptr<HttpConnection> connection) {
  const auto now = Clock::now();
  expire(now);
  const auto same = [&](const Idle& i) { return i.origin == origin; };
  if (static_cast<size_t>(std::count_if(idle.begin(), idle.end(), same)) >= kMaxIdlePerOrigin) {
    idle.erase(std::find_if(idle.begin(), idle.end(), same));  // the oldest of its origin
  }
  if (idle.size() >= kMaxIdle) idle.erase(idle.begin());
  idle.push_back({std::move(origin), std::move(connection), now});
}

void HttpClient::Pool::drop(const std::string& origin) {
  std::erase_if(idle, [&](const Idle& i) { return i.origin == origin; });
}

void HttpClient::Pool::expire(Clock::time_point now) {
  std::erase_if(idle, [&](const Idle& i) { return now - i.since >= kMaxIdleAge; });
}

HttpClient::HttpClient(net::io_context& io) : pool_(std::make_shared<Pool>(io.get_executor())) {}

HttpClient::~HttpClient() {
  pool_->closed = true;
  pool_->idle.clear();
}

Task<HttpReply> HttpClient::fetch(HttpCall call, std::shared_ptr<HttpCancel> cancel) {
  // Not a coroutine itself: the call holds the pool, never the client.
  return Pool::fetch(pool_, std::move(call), std::move(cancel));
}

size_t HttpClient::idle() const { return pool_->idle.size(); }

}  // namespace vane::control
