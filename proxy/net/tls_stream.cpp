// The TLS layer of a Stream, and Stream's TLS operations: the one translation unit that
// instantiates Asio's ssl::stream for the data plane. Worker thread only.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "proxy/log.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/tls_connector.hpp"
#include "proxy/net/tls_acceptor.hpp"

namespace vane::proxy {

namespace ssl = net::ssl;

/// What a closing connection reads and drops at most before it closes anyway.
constexpr size_t kLingerDropLimit = 1 << 20;

/// One TLS connection: the SSL stream owning the socket, and a record-sized scratch that
/// coalesces small pieces (a head and a short body) into one record and one send.
struct TlsStream {
  static constexpr size_t kScratch = 16 * 1024;  ///< the largest TLS record's payload

  TlsStream(Socket socket, ssl::context& context, std::shared_ptr<const void> owner_in,
            ssl::stream_base::handshake_type side_in)
      : stream(std::move(socket), context), owner(std::move(owner_in)), side(side_in) {}

  ssl::stream<Socket> stream;
  std::shared_ptr<const void> owner;  ///< keeps the contexts (and the SNI callback's data) alive
  ssl::stream_base::handshake_type side;
  char scratch[kScratch];
};

void Stream::TlsDelete::operator()(TlsStream* tls) const { delete tls; }

Socket& Stream::tls_socket() { return tls_->stream.next_layer(); }

void Stream::start_server_tls(std::shared_ptr<TlsAcceptor> server) {
  ssl::context& context = server->context();
  tls_.reset(new TlsStream(std::move(socket_), context, std::move(server), ssl::stream_base::server));
}

void Stream::start_client_tls(std::shared_ptr<TlsConnector> client, const std::string& name) {
  ssl::context& context = client->context();
  const bool verify = client->verify();
  tls_.reset(new TlsStream(std::move(socket_), context, std::move(client), ssl::stream_base::client));
  SSL* handle = tls_->stream.native_handle();
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
  SSL_get0_alpn_selected(tls_->stream.native_handle(), &data, &length);
  return length == 2 && data[0] == 'h' && data[1] == '2';
}

Task<boost::system::error_code> Stream::handshake() {
  auto [ec] = co_await tls_->stream.async_handshake(tls_->side, use_tuple);
  co_return ec;
}

Task<boost::system::error_code> Stream::client_handshake(std::shared_ptr<TlsConnector> client,
                                                         const std::string& name, bool h2) {
  if (!client) co_return make_error_code(net::error::no_protocol_option);  // failed to load: logged
  start_client_tls(std::move(client), name);
  if (h2) {
    static constexpr unsigned char kH2[] = {2, 'h', '2'};
    SSL_set_alpn_protos(tls_->stream.native_handle(), kH2, sizeof kH2);
  }
  auto [ec] = co_await tls_->stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (!ec && h2 && !alpn_h2()) {
    boost::system::error_code ignored;
    const auto peer = tls_socket().remote_endpoint(ignored);
    log::warn("upstream " + name + " (" + peer.address().to_string() + ":" +
              std::to_string(peer.port()) + ") did not agree on h2 by ALPN (upstreams[].protocol: h2)");
    co_return make_error_code(net::error::no_protocol_option);
  }
  if (ec && ec != net::error::operation_aborted) {
    std::string reason = ec.message();
    const long verify = SSL_get_verify_result(tls_->stream.native_handle());
    if (verify != X509_V_OK) reason += ": " + std::string(X509_verify_cert_error_string(verify));
    boost::system::error_code ignored;
    const auto peer = tls_socket().remote_endpoint(ignored);
    log::warn("TLS handshake with upstream " + name + " (" + peer.address().to_string() + ":" +
              std::to_string(peer.port()) + ") failed: " + reason);
  }
  co_return ec;
}

Task<boost::system::error_code> Stream::shutdown_tls() {
  auto [ec] = co_await tls_->stream.async_shutdown(use_tuple);
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
  return tls_->stream.async_read_some(buffer, use_tuple);
}

Task<boost::system::error_code> Stream::tls_write_all(std::array<std::string_view, 4> pieces) {
  TlsStream& tls = *tls_;
  size_t next = 0;  // the first piece with bytes left
  for (;;) {
    while (next < pieces.size() && pieces[next].empty()) ++next;
    if (next == pieces.size()) co_return boost::system::error_code{};
    net::const_buffer out;
    if (pieces[next].size() >= TlsStream::kScratch) {  // large: goes as it is, record by record
      out = net::buffer(pieces[next].data(), pieces[next].size());
      pieces[next] = {};
    } else {
      size_t filled = 0;
      for (size_t i = next; i < pieces.size() && filled < TlsStream::kScratch; ++i) {
        const size_t take = std::min(pieces[i].size(), TlsStream::kScratch - filled);
        if (take > 0) std::memcpy(tls.scratch + filled, pieces[i].data(), take);
        pieces[i].remove_prefix(take);
        filled += take;
      }
      out = net::buffer(tls.scratch, filled);
    }
    auto [ec, written] = co_await net::async_write(tls.stream, out, use_tuple);
    if (ec) co_return ec;
  }
}

bool is_end_of_stream(const boost::system::error_code& ec) {
  return ec == net::error::eof || ec == ssl::error::stream_truncated;
}

}  // namespace vane::proxy
