// A connection of the data plane, plain TCP or TLS: the socket, plus a TLS layer only when the
// listener or the upstream endpoint asks for one. Reads and writes branch on that layer, so a
// plain connection pays one predictable branch: no virtual call, no allocation, no extra
// coroutine frame. The TLS operations live in proxy/net/tls_stream.cpp, the one file that
// calls OpenSSL on a connection. Worker thread only.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/asio/buffer.hpp>

#include "proxy/net/types.hpp"

namespace vane::proxy {

struct TlsStream;
class TlsAcceptor;
class TlsConnector;
class H2Pipe;

using ReadResult = std::tuple<boost::system::error_code, size_t>;

/// Reads what is there on a plain socket, at least one byte (proxy/net/io.cpp): a recv when data may
/// be there, else first a wait for the reactor's next event on it (readiness.hpp).
Task<ReadResult> read_some(Socket& socket, net::mutable_buffer buffer);
/// read_some() without waiting and without a coroutine: true when a recv ended the read (`result`:
/// bytes, the end or an error); false when the socket holds nothing now, or when this worker has
/// read many times in a row without waiting (read_some() then lets the others run first).
bool read_now(Socket& socket, net::mutable_buffer buffer, ReadResult& result);

class Stream {
 public:
  explicit Stream(Socket socket) : socket_(std::move(socket)) {}
  explicit Stream(const Executor& executor) : socket_(executor) {}
  /// One HTTP/2 stream seen as an HTTP/1.1 connection (proxy/h2/h2_pipe.hpp); `secure`: its
  /// connection is TLS. Its socket() is an unopened placeholder.
  Stream(H2Pipe& pipe, const Executor& executor, bool secure)
      : socket_(executor), pipe_(&pipe), secure_pipe_(secure) {}

  /// The TCP socket (inside the TLS layer once there is one): connect, cancel, close, options.
  Socket& socket() { return tls_ ? tls_socket() : socket_; }
  bool tls() const { return tls_ != nullptr; }
  /// Neither TLS nor an HTTP/2 stream: what the socket holds is what the connection holds.
  bool plain() const { return !tls_ && !pipe_; }
  /// The client reached vane over TLS (for X-Forwarded-Proto).
  bool secure() const { return tls_ != nullptr || secure_pipe_; }
  H2Pipe* pipe() const { return pipe_; }
  /// Pending reads and writes end with operation_aborted.
  void cancel();

  /// Reads what is there, at least one byte.
  Task<ReadResult> read_some(net::mutable_buffer buffer) {
    if (pipe_) return pipe_read_some(buffer);
    if (tls_) return tls_read_some(buffer);
    return proxy::read_some(socket_, buffer);
  }
  /// read_now() on a plain connection; false (read_some() must do it) on TLS or a pipe, where
  /// what is there is not the socket's to tell.
  bool read_now(net::mutable_buffer buffer, ReadResult& result) {
    return plain() && socket_.non_blocking() && proxy::read_now(socket_, buffer, result);
  }
  /// The pipe's writes (h2_pipe.cpp; write_now and write_rest in io.hpp).
  bool pipe_write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec);
  Task<boost::system::error_code> pipe_write_rest();

  // ---- TLS (tls_stream.cpp) ----
  /// From now on bytes go through TLS with `server`'s certificates; handshake() next.
  void start_server_tls(std::shared_ptr<TlsAcceptor> server);
  /// Likewise towards an upstream: SNI `name` (unless an IP address), verified as `client` says.
  void start_client_tls(std::shared_ptr<TlsConnector> client, const std::string& name);
  Task<boost::system::error_code> handshake();
  /// After a server handshake: the client and vane agreed on h2 by ALPN.
  bool alpn_h2() const;
  /// An upstream connection: start_client_tls() and handshake(); a failure is logged with its
  /// reason (a certificate that does not verify is otherwise hard to tell from a refusal).
  /// `h2`: offers only h2 by ALPN, and an upstream that does not agree is a failure.
  Task<boost::system::error_code> client_handshake(std::shared_ptr<TlsConnector> client,
                                                   const std::string& name, bool h2 = false);
  /// Closes a TLS connection after its last answer, under the caller's deadline: sends
  /// close_notify, waits for the peer's (or its close), draining what it still sends so that the
  /// close is no reset destroying the answer; then closes the socket. The shutdown's result.
  Task<boost::system::error_code> shutdown_tls();
  /// What of the pieces TLS takes now (small pieces coalesced into one record), and the rest
  /// once the socket lets it (io.hpp).
  bool tls_write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec);
  Task<boost::system::error_code> tls_write_rest(std::array<std::string_view, 4> pieces);

 private:
  Socket& tls_socket();
  Task<ReadResult> tls_read_some(net::mutable_buffer buffer);
  Task<ReadResult> pipe_read_some(net::mutable_buffer buffer);

  /// Defined with TlsStream, so that this header needs only its name.
  struct TlsDelete {
    void operator()(TlsStream* tls) const;
  };

  Socket socket_;  ///< unused (moved into the TLS layer) once tls_ is set
  std::unique_ptr<TlsStream, TlsDelete> tls_;
  H2Pipe* pipe_ = nullptr;
  bool secure_pipe_ = false;
};

/// End of stream from the peer: a TCP FIN, a TLS close_notify, or a TLS peer that just closed.
bool is_end_of_stream(const boost::system::error_code& ec);

}  // namespace vane::proxy
