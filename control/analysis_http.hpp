// The asynchronous HTTP(S) client of the analysis providers that ask another server (prometheus,
// web): one request per connection, one deadline over resolve, connect, handshake, write and
// read. Control thread, never a worker: a tcp_stream deadline per exchange is fine here.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "control/asio.hpp"

namespace boost::asio::ssl {
class context;
}

namespace vane::control {

struct HttpCall {
  std::string method = "GET";  ///< GET, POST or PUT
  std::string url;             ///< http://HOST[:PORT]/PATH?QUERY or https://...
  std::vector<config::KeyValue> headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};  ///< the whole exchange
};

struct HttpReply {
  unsigned status = 0;  ///< 0 when no answer came
  std::string body;
  std::string error;  ///< why no answer came (bad URL, resolve, connect, TLS, timeout, ...)

  bool answered() const { return error.empty(); }
  bool success() const { return answered() && status >= 200 && status < 300; }
};

/// Lets the owner stop an exchange in flight (a terminated run): cancel() closes whatever the
/// exchange has open, which then ends at once with an error. Shared by the owner and the
/// exchange; control thread.
class HttpCancel {
 public:
  void cancel() {
    cancelled_ = true;
    if (close_) close_();
  }
  bool cancelled() const { return cancelled_; }
  /// Set by the exchange while it has something open; cleared when it ends.
  void set_close(std::function<void()> close) { close_ = std::move(close); }

 private:
  bool cancelled_ = false;
  std::function<void()> close_;
};

/// A TLS client context verifying peers against the system's trust store (https URLs).
std::shared_ptr<boost::asio::ssl::context> make_client_tls();

/// Sends `call` and reads the whole answer (any status; bodies up to 8 MiB). `tls` is needed for
/// https URLs (else they fail with an error); `cancel` may be null.
Task<HttpReply> http_fetch(HttpCall call, std::shared_ptr<boost::asio::ssl::context> tls,
                           std::shared_ptr<HttpCancel> cancel);

}  // namespace vane::control
