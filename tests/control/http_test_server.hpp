// A loopback HTTP/1.1 server (TLS when given a context) for the HttpClient tests: it keeps
// connections alive and answers each request as the test's handler says (status, delay, a body
// that trickles, a chunked body that may never end, Connection: close, a silent close after the
// answer, a close instead of the answer, no answer at all). It counts connections and sees who
// closed them. Runs on the test's io_context. Compiled once (http_test_server.cpp): its Beast
// reads and coroutines instantiated in each test file made each take half a minute to build.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "control/asio.hpp"

namespace vane::control::test {

/// One request as the server read it.
struct Seen {
  std::string method;
  std::string target;
  std::string host;
  std::string connection;  ///< the Connection header
  std::string user_agent;
  std::string body;
  int connection_id = 0;  ///< 1 for the first connection accepted, ...
  int nth = 0;            ///< 1 for the first request on its connection, ...
  std::string sni;        ///< the TLS server name the client sent
};

struct Reply {
  /// KeepAlive: answer and wait for the next request. CloseHeader: answer with Connection: close
  /// and close. CloseSilently: answer as if keeping the connection, then close it. Drop: close
  /// without answering. Hang: never answer.
  enum class Then { KeepAlive, CloseHeader, CloseSilently, Drop, Hang };
  unsigned status = 200;
  std::string body = "{}";
  Then then = Then::KeepAlive;
  std::chrono::milliseconds delay{0};    ///< before answering
  std::chrono::milliseconds trickle{0};  ///< the body one byte at a time, this far apart
  /// Set: the body goes chunked instead, one chunk per piece, `trickle` apart (not `body`).
  std::vector<std::string> chunks;
  bool endless = false;  ///< with chunks: the last chunk never comes; the connection stays open
};

/// A reply of `status` with `body`, then `then`.
inline Reply answer(unsigned status, std::string body = "{}",
                    Reply::Then then = Reply::Then::KeepAlive) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.then = then;
  return reply;
}

class TestServer {
 public:
  using Handler = std::function<Reply(const Seen&)>;
  struct State;  ///< shared with its connections' coroutines (http_test_server.cpp)

  TestServer(net::io_context& io, Handler handler, net::ssl::context* tls = nullptr);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const;
  std::string url(const std::string& path = "/") const;
  const std::vector<Seen>& seen() const;
  int connections() const;
  /// Connections the client closed (an end of stream while waiting for a request).
  int closed_by_client() const;
  int closed_by_server() const;
  /// Closes every connection now (an endless answer breaks off).
  void close_connections();

 private:
  std::shared_ptr<State> state_;
};

}  // namespace vane::control::test
