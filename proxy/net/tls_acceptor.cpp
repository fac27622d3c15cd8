#include "proxy/net/tls_acceptor.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/asio/ssl/context.hpp>

#include "proxy/net/tls_files.hpp"

namespace vane::proxy {
namespace {

namespace ssl = boost::asio::ssl;

/// Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3 keeps OpenSSL's defaults, all modern).
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// ALPN: the first of the listener's protocols (`arg`, in wire format) the client offers; a
/// client offering none of them goes on without ALPN rather than failing, and then speaks
/// HTTP/1.1 or leaves.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void* arg) {
  const auto& ours = *static_cast<const std::vector<unsigned char>*>(arg);
  unsigned char* selected = nullptr;
  const int result = SSL_select_next_proto(&selected, out_length, ours.data(),
                                           static_cast<unsigned int>(ours.size()), in, in_length);
  if (result != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

/// The DNS names a certificate is valid for: subjectAltName DNS entries, else the subject's CN.
std::vector<std::string> dns_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const auto* text = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
      names.push_back(lower(std::string_view(text, static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    char cn[256];
    const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    if (n > 0) names.push_back(lower(std::string_view(cn, static_cast<size_t>(n))));
  }
  return names;
}

/// A server context for one certificate, configured as the header says.
std::unique_ptr<ssl::context> make_context(const config::TlsCertificate& file) {
  std::string error = private_key_error(file.cert_file, file.key_file);
  if (!error.empty()) throw std::runtime_error(error);
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  // Idle keep-alive connections give their OpenSSL read/write buffers back (as nginx does).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_dh_auto(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, kCiphers) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx, file.cert_file.c_str()) != 1) {
    throw std::runtime_error("cannot load " + file.cert_file + ": " + openssl_error());
  }
  auto key = read_private_key(file.key_file, error);
  if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    throw std::runtime_error(error.empty() ? "cannot load " + file.key_file + ": " + openssl_error() : error);
  }
  return context;
}

}  // namespace

struct TlsAcceptor::Certificate {
  std::unique_ptr<ssl::context> context;
  std::vector<std::string> names;
};

namespace {

/// SNI: switches the handshake to the certificate for the name the client asked for.
int select_certificate(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  const auto* server = static_cast<const TlsAcceptor*>(arg);
  const size_t index = server->select(name);
  if (index != 0) SSL_set_SSL_CTX(ssl, server->context(index).native_handle());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

TlsAcceptor::TlsAcceptor(const config::ListenerTls& tls, const std::vector<config::Protocol>& protocols) {
  if (tls.certificates.empty()) throw std::runtime_error("a TLS listener needs a certificate");
  for (const config::Protocol protocol : protocols) {
    if (protocol == config::Protocol::H2) alpn_.insert(alpn_.end(), {2, 'h', '2'});
    if (protocol == config::Protocol::Http1) alpn_.insert(alpn_.end(), std::begin(kHttp11), std::end(kHttp11));
  }
  for (const auto& file : tls.certificates) {
    auto context = make_context(file);
    SSL_CTX_set_alpn_select_cb(context->native_handle(), &select_alpn, &alpn_);
    auto names = dns_names(SSL_CTX_get0_certificate(context->native_handle()));
    certificates_.push_back(Certificate{std::move(context), std::move(names)});
  }
  if (certificates_.size() > 1) {
    SSL_CTX* ctx = certificates_.front().context->native_handle();
    // The macro's C cast spelled out: OpenSSL stores every callback as void (*)(void).
    SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)()>(&select_certificate));
    SSL_CTX_set_tlsext_servername_arg(ctx, this);
  }
}

TlsAcceptor::~TlsAcceptor() = default;

ssl::context& TlsAcceptor::context() { return *certificates_.front().context; }

ssl::context& TlsAcceptor::context(size_t index) const { return *certificates_[index].context; }

const std::vector<std::string>& TlsAcceptor::names(size_t index) const {
  return certificates_[index].names;
}

size_t TlsAcceptor::select(std::string_view server_name) const {
  const std::string host = lower(server_name);
  for (size_t i = 0; i < certificates_.size(); ++i) {
    for (const auto& name : certificates_[i].names) {
      if (name == host) return i;
    }
  }
  for (size_t i = 0; i < certificates_.size(); ++i) {
    for (const auto& name : certificates_[i].names) {
      if (name.starts_with("*.") && name_matches(name, host)) return i;
    }
  }
  return 0;
}

bool name_matches(std::string_view pattern, std::string_view host) {
  if (!pattern.starts_with("*.")) return pattern == host;
  const std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size() || !host.ends_with(suffix)) return false;
  const std::string_view label = host.substr(0, host.size() - suffix.size());
  return label.find('.') == std::string_view::npos;
}

}  // namespace vane::proxy
