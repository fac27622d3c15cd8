// One connection of the HttpClient (control/http_client.hpp): TCP, with TLS on top for https.
// Connect, handshake, one exchange at a time, and the check that a pooled one is still open. The
// client sets the deadline and the cancel hook on layer(). Used only by the client, on its thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "control/asio.hpp"

namespace vane::control {

class HttpConnection {
 public:
  using Stream = boost::beast::basic_stream<tcp, Executor>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  /// Takes a piece of a streamed body; false: stop reading.
  using BodySink = std::function<bool(std::string_view)>;

  /// What one exchange came to.
  struct Answer {
    boost::system::error_code ec;  ///< set: no (whole) answer
    bool sent = false;             ///< the request was written whole
    bool received = false;         ///< some byte of the answer arrived
    unsigned status = 0;
    std::string body;
    bool reusable = false;  ///< complete, kept alive by the server, nothing left over
  };

  /// Plain TCP when `tls` is null.
  HttpConnection(Executor executor, std::shared_ptr<boost::asio::ssl::context> tls);

  /// The TCP stream: its expiry is the deadline of whatever runs next; cancel() ends it.
  Stream& layer() { return tls_ ? tls_->next_layer() : *plain_; }
  bool tls() const { return tls_.has_value(); }

  /// Connects to the first of `addresses` that accepts.
  Task<boost::system::error_code> connect(std::vector<tcp::endpoint> addresses);
  /// The TLS handshake: `name` goes as SNI unless it is an address, and the peer's certificate
  /// must be valid for it when `verify` (the context checks the chain).
  Task<boost::system::error_code> handshake(const std::string& name, bool verify);
  /// Writes `request` and reads the answer: its head only when `head_only` (the connection is
  /// then not reusable), else the whole of it, the body up to `body_limit`.
  Task<Answer> exchange(const Request& request, std::uint64_t body_limit, bool head_only);
  /// Writes `request` and reads the answer's head within the layer's expiry; then lifts the
  /// expiry and hands the body to `on_body` as it arrives (`Answer::body` stays empty) until it
  /// ends, fails or `on_body` says stop. The connection is never reusable afterwards.
  Task<Answer> stream(const Request& request, const BodySink& on_body);

  /// An idle connection is still usable: open, with nothing unread. A server that closed it has
  /// left an EOF (or a reset, or a TLS close_notify) to read; anything else unasked-for spoils it.
  bool still_open();

 private:
  template <class S>
  Task<Answer> exchange_on(S& stream, const Request& request, std::uint64_t body_limit,
                           bool head_only);
  template <class S>
  Task<Answer> stream_on(S& stream, const Request& request, const BodySink& on_body);

  std::shared_ptr<boost::asio::ssl::context> context_;  ///< outlives tls_, which refers to it
  std::optional<Stream> plain_;
  std::optional<boost::asio::ssl::stream<Stream>> tls_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace vane::control
