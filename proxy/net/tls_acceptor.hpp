// The TLS side of a listener (SPEC §2 `listeners[].tls`): one OpenSSL context per certificate,
// the first the default, the others chosen by SNI; TLS 1.2 and 1.3 only, Mozilla "intermediate"
// cipher suites, ALPN as the listener's protocols say. Built on the control thread (start, reload); then shared by every
// worker's handshakes, which OpenSSL allows on a context that is no longer changed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace vane::proxy {

class TlsAcceptor {
 public:
  /// Loads every certificate and key; throws std::runtime_error naming the file that failed.
  /// `protocols`: offered by ALPN, in this order of preference.
  explicit TlsAcceptor(const config::ListenerTls& tls,
                       const std::vector<config::Protocol>& protocols = {config::Protocol::Http1});
  ~TlsAcceptor();
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  /// The default certificate's context: every handshake starts with it, SNI may switch.
  boost::asio::ssl::context& context();
  boost::asio::ssl::context& context(size_t index) const;
  /// The certificate for an SNI name (any case): an exact name first, then a wildcard, else the
  /// default (0), as nginx does for names it does not know.
  size_t select(std::string_view server_name) const;
  /// The DNS names of certificate `index` (subjectAltName, else the subject's CN), lower-case.
  const std::vector<std::string>& names(size_t index) const;

 private:
  struct Certificate;
  std::vector<Certificate> certificates_;
  std::vector<unsigned char> alpn_;  ///< the protocols in ALPN's wire format
};

/// RFC 6125 matching of a certificate name against a host, both lower-case: `*.example.com`
/// matches exactly one leftmost label (`a.example.com`, not `example.com` or `a.b.example.com`).
bool name_matches(std::string_view pattern, std::string_view host);

}  // namespace vane::proxy
