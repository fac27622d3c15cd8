// The TLS layer of a Stream, and Stream's TLS operations: OpenSSL reads and writes the socket
// itself, through a BIO of ours over the non-blocking descriptor, and waits on Asio's reactor
// through the readiness layer (readiness.hpp) when it would block. Asio's ssl::stream instead
// copies every record through a BIO pair and completes each step as a composed operation of
// its own; this is the one file that knows. Worker thread only.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <tuple>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include "proxy/log.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/tls_connector.hpp"
#include "proxy/net/tls_acceptor.hpp"

namespace vane::proxy {

namespace ssl = net::ssl;

/// What a closing connection reads and drops at most before it closes anyway.
constexpr size_t kLingerDropLimit = 1 << 20;

/// One TLS connection: the socket, OpenSSL's connection over it, and a record-sized scratch that
/// coalesces small pieces (a head and a short body) into one record and one send.
struct TlsStream {
  static constexpr size_t kScratch = 16 * 1024;  ///< the largest TLS record's payload

  TlsStream(Socket socket_in, ssl::context& context, std::shared_ptr<const void> owner_in, bool server);
  ~TlsStream() { SSL_free(ssl); }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  /// Runs `step` (an SSL call returning > 0 on success) until it succeeds or fails, waiting on
  /// the socket when OpenSSL would block.
  template <class Step>
  Task<boost::system::error_code> run(Step step);
  /// One try of `step`: 0 when it succeeded; what OpenSSL waits for (SSL_ERROR_WANT_READ or
  /// _WRITE); or -1 when it failed (`ec`).
  template <class Step>
  int try_step(Step step, boost::system::error_code& ec);
  /// The wait try_step() asked for.
  Task<std::tuple<boost::system::error_code>> wait_for(int want);
  /// Writes what of `pieces` the socket takes now (small pieces coalesced into one record),
  /// advancing them: true when that ended the write (`ec` says how); false when OpenSSL waits
  /// for the socket (`write_want` says for what), to be called again with the pieces as they
  /// are, which OpenSSL requires of a retried write.
  bool write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec);
  /// The error_code for a failed SSL call's SSL_get_error() value, as Asio's ssl::stream gives
  /// it: eof for a close_notify, stream_truncated for an end without one, else the cause.
  boost::system::error_code error_of(int ssl_error);

  Socket socket;
  SSL* ssl = nullptr;
  std::shared_ptr<const void> owner;  ///< keeps the contexts (and the SNI callback's data) alive
  int sys_error = 0;  ///< errno of the BIO's last failed recv or send
  bool read_blocked = false;  ///< the BIO's last read found the socket empty (or known empty)
  int write_want = 0;  ///< what write_now() last waited for: SSL_ERROR_WANT_READ or _WRITE
  char scratch[kScratch];
};

namespace {

/// The BIO over the socket: recv and send, the readiness layer told what each recv found, and a
/// socket known to be empty not asked at all (its reactor's next event says when).
struct SocketBio {
  static TlsStream& owner(BIO* bio) { return *static_cast<TlsStream*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* out, int size) {
    TlsStream& tls = owner(bio);
    BIO_clear_retry_flags(bio);
    if (!readiness::maybe_readable(tls.socket)) {
      tls.read_blocked = true;
      BIO_set_retry_read(bio);
      return -1;
    }
    const ssize_t n = ::recv(tls.socket.native_handle(), out, static_cast<size_t>(size), 0);
    if (n >= 0) {
      readiness::read_done(tls.socket, static_cast<size_t>(n), static_cast<size_t>(size));
      return static_cast<int>(n);
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (errno != EINTR) {
        readiness::found_empty(tls.socket);
        tls.read_blocked = true;
      }
      BIO_set_retry_read(bio);
      return -1;
    }
    tls.sys_error = errno;
    return -1;
  }

  static int write(BIO* bio, const char* data, int size) {
    TlsStream& tls = owner(bio);
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::send(tls.socket.native_handle(), data, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      BIO_set_retry_write(bio);
      return -1;
    }
    tls.sys_error = errno;
    return -1;
  }

  static long ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const made = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "vane socket");
      BIO_meth_set_read(m, &read);
      BIO_meth_set_write(m, &write);
      BIO_meth_set_ctrl(m, &ctrl);
      BIO_meth_set_create(m, &create);
      return m;
    }();
    return made;
  }
};

}  // namespace

TlsStream::TlsStream(Socket socket_in, ssl::context& context, std::shared_ptr<const void> owner_in,
                     bool server)
    : socket(std::move(socket_in)), ssl(SSL_new(context.native_handle())), owner(std::move(owner_in)) {
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  BIO* bio = BIO_new(SocketBio::method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl, bio, bio);
  // Whole records per recv, not a header and then its body; the modes Asio's stream sets.
  SSL_set_read_ahead(ssl, 1);
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                        SSL_MODE_RELEASE_BUFFERS);
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
}

boost::system::error_code TlsStream::error_of(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return net::error::eof;
    case SSL_ERROR_SYSCALL:
      if (sys_error != 0) return {sys_error, boost::system::system_category()};
      return ssl::error::stream_truncated;  // the peer closed without close_notify
    default: {
      const unsigned long e = ERR_get_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return ssl::error::stream_truncated;
      if (e == 0) return ssl::error::stream_truncated;
      return {static_cast<int>(e), net::error::get_ssl_category()};
    }
  }
}

/// Reads that found their bytes at once, in a row on this worker (see io.cpp).
thread_local unsigned reads_without_wait = 0;
constexpr unsigned kReadsBeforeYield = 64;

template <class Step>
int TlsStream::try_step(Step step, boost::system::error_code& ec) {
  for (;;) {
    ERR_clear_error();
    sys_error = 0;
    read_blocked = false;
    const int result = step();
    if (result > 0) return 0;
    const int ssl_error = SSL_get_error(ssl, result);
    // Only a socket found empty is waited on (a read cut by EINTR is tried again). Asking the
    // readiness layer instead would spin in the plain-Asio build, where every socket "may be
    // readable".
    if (ssl_error == SSL_ERROR_WANT_READ && !read_blocked) continue;
    if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE) return ssl_error;
    ec = error_of(ssl_error);
    return -1;
  }
}

Task<std::tuple<boost::system::error_code>> TlsStream::wait_for(int want) {
  if (want == SSL_ERROR_WANT_READ) {
    reads_without_wait = 0;
    return readiness::wait_readable(socket);
  }
  return socket.async_wait(Socket::wait_write, use_tuple);
}

template <class Step>
Task<boost::system::error_code> TlsStream::run(Step step) {
  for (;;) {
    boost::system::error_code ec;
    const int want = try_step(step, ec);
    if (want <= 0) co_return ec;
    auto [wait_ec] = co_await wait_for(want);
    if (wait_ec) co_return wait_ec;
  }
}

void Stream::TlsDelete::operator()(TlsStream* tls) const { delete tls; }

Socket& Stream::tls_socket() { return tls_->socket; }

void Stream::start_server_tls(std::shared_ptr<TlsAcceptor> server) {
  ssl::context& context = server->context();
  tls_.reset(new TlsStream(std::move(socket_), context, std::move(server), true));
}

void Stream::start_client_tls(std::shared_ptr<TlsConnector> client, const std::string& name) {
  ssl::context& context = client->context();
  const bool verify = client->verify();
  tls_.reset(new TlsStream(std::move(socket_), context, std::move(client), false));
  SSL* handle = tls_->ssl;
  boost::system::error_code ec;
  net::ip::make_address(name, ec);
  const bool is_address = !ec;
  if (!is_address) {  // SNI carries names only, never an address literal (RFC 6066)
    SSL_ctrl(handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(name.c_str()));
  }
  if (!verify) return;
  // RFC 6125 name checks by OpenSSL during the handshake (what Asio's host_name_verification
  // does, without a callback object per connection).
  X509_VERIFY_PARAM* param = SSL_get0_param(handle);
  if (is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
  }
}

bool Stream::alpn_h2() const {
  if (!tls_) return false;
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(tls_->ssl, &data, &length);
  return length == 2 && data[0] == 'h' && data[1] == '2';
}

Task<boost::system::error_code> Stream::handshake() {
  SSL* handle = tls_->ssl;
  const auto step = [handle] { return SSL_do_handshake(handle); };
  co_return co_await tls_->run(step);
}

Task<boost::system::error_code> Stream::client_handshake(std::shared_ptr<TlsConnector> client,
                                                         const std::string& name, bool h2) {
  if (!client) co_return make_error_code(net::error::no_protocol_option);  // failed to load: logged
  start_client_tls(std::move(client), name);
  if (h2) {
    static constexpr unsigned char kH2[] = {2, 'h', '2'};
    SSL_set_alpn_protos(tls_->ssl, kH2, sizeof kH2);
  }
  const auto ec = co_await handshake();
  if (!ec && h2 && !alpn_h2()) {
    boost::system::error_code ignored;
    const auto peer = tls_socket().remote_endpoint(ignored);
    log::warn("upstream " + name + " (" + peer.address().to_string() + ":" +
              std::to_string(peer.port()) + ") did not agree on h2 by ALPN (upstreams[].protocol: h2)");
    co_return make_error_code(net::error::no_protocol_option);
  }
  if (ec && ec != net::error::operation_aborted) {
    std::string reason = ec.message();
    const long verify = SSL_get_verify_result(tls_->ssl);
    if (verify != X509_V_OK) reason += ": " + std::string(X509_verify_cert_error_string(verify));
    boost::system::error_code ignored;
    const auto peer = tls_socket().remote_endpoint(ignored);
    log::warn("TLS handshake with upstream " + name + " (" + peer.address().to_string() + ":" +
              std::to_string(peer.port()) + ") failed: " + reason);
  }
  co_return ec;
}

Task<boost::system::error_code> Stream::shutdown_tls() {
  SSL* handle = tls_->ssl;
  const auto step = [handle] {
    // 0: our close_notify went out; the second call reads the peer's (SSL_get_error must not
    // see a 0 from SSL_shutdown).
    const int sent = SSL_shutdown(handle);
    return sent == 0 ? SSL_shutdown(handle) : sent;
  };
  const auto ec = co_await tls_->run(step);
  // OpenSSL stops waiting for the peer's close_notify at the first record of data ("application
  // data after close notify"): drop the rest from the socket, as a plain connection's linger
  // does, so that closing with unread bytes does not reset the connection.
  const bool peer_sending = ec && ec != net::error::eof && ec != net::error::operation_aborted;
  for (size_t dropped = 0; peer_sending && dropped < kLingerDropLimit;) {
    auto [rec, n] = co_await tls_socket().async_read_some(net::buffer(tls_->scratch), use_tuple);
    if (rec) break;
    dropped += n;
  }
  boost::system::error_code ignored;
  tls_socket().close(ignored);
  co_return ec;
}

Task<ReadResult> Stream::tls_read_some(net::mutable_buffer buffer) {
  TlsStream& tls = *tls_;
  if (++reads_without_wait > kReadsBeforeYield) {  // as a plain read does (io.cpp)
    reads_without_wait = 0;
    co_await net::post(tls.socket.get_executor(), net::use_awaitable_t<Executor>{});
  }
  size_t n = 0;
  const auto step = [&tls, &n, buffer] { return SSL_read_ex(tls.ssl, buffer.data(), buffer.size(), &n); };
  const auto ec = co_await tls.run(step);
  co_return ReadResult{ec, ec ? 0 : n};
}

bool TlsStream::write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec) {
  ec = {};
  write_want = 0;
  for (;;) {
    size_t next = 0;  // the first piece with bytes left
    while (next < pieces.size() && pieces[next].empty()) ++next;
    if (next == pieces.size()) return true;
    std::string_view out = pieces[next];
    if (out.size() < kScratch) {  // small pieces coalesced; a retry copies the same bytes again
      size_t filled = 0;
      for (size_t i = next; i < pieces.size() && filled < kScratch; ++i) {
        const size_t take = std::min(pieces[i].size(), kScratch - filled);
        if (take > 0) std::memcpy(scratch + filled, pieces[i].data(), take);
        filled += take;
      }
      out = std::string_view(scratch, filled);
    }
    size_t written = 0;
    const int want = try_step([&] { return SSL_write_ex(ssl, out.data(), out.size(), &written); }, ec);
    if (want < 0) return true;
    if (want > 0) {
      write_want = want;
      return false;
    }
    for (auto& piece : pieces) {
      const size_t take = std::min(written, piece.size());
      piece.remove_prefix(take);
      written -= take;
    }
  }
}

bool Stream::tls_write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec) {
  return tls_->write_now(pieces, ec);
}

Task<boost::system::error_code> Stream::tls_write_rest(std::array<std::string_view, 4> pieces) {
  TlsStream& tls = *tls_;
  for (;;) {
    auto [wait_ec] = co_await tls.wait_for(tls.write_want);
    if (wait_ec) co_return wait_ec;
    boost::system::error_code ec;
    if (tls.write_now(pieces, ec)) co_return ec;
  }
}

bool is_end_of_stream(const boost::system::error_code& ec) {
  return ec == net::error::eof || ec == ssl::error::stream_truncated;
}

}  // namespace vane::proxy
