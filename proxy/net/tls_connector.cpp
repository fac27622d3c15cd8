#include "proxy/net/tls_connector.hpp"

#include <openssl/ssl.h>

#include <stdexcept>

#include <boost/asio/ssl/context.hpp>

#include "proxy/net/tls_files.hpp"

namespace vane::proxy {

namespace ssl = boost::asio::ssl;

TlsConnector::TlsConnector(const config::UpstreamTls& tls)
    : context_(std::make_unique<ssl::context>(ssl::context::tls_client)),
      verify_(!tls.insecure_skip_verify) {
  SSL_CTX* ctx = context_->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(ctx, kHttp11, sizeof kHttp11);
  if (!verify_) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (tls.ca_file.empty()) {
    SSL_CTX_set_default_verify_paths(ctx);  // the system store (ca-certificates on Debian)
    return;
  }
  if (std::string error = ca_file_error(tls.ca_file); !error.empty()) throw std::runtime_error(error);
  if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
    throw std::runtime_error("cannot load " + tls.ca_file + ": " + openssl_error());
  }
}

TlsConnector::~TlsConnector() = default;

}  // namespace vane::proxy
