// The TLS side of an upstream with https:// endpoints (SPEC §2 `upstreams[].tls`): one OpenSSL
// client context, verifying peers against the system's CA store or `caFile` unless
// `insecureSkipVerify`. Built on the control thread; shared by every worker's connections.
#pragma once

#include <memory>

#include "config/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace vane::proxy {

class TlsConnector {
 public:
  /// Throws std::runtime_error when `caFile` cannot be loaded.
  explicit TlsConnector(const config::UpstreamTls& tls);
  ~TlsConnector();
  TlsConnector(const TlsConnector&) = delete;
  TlsConnector& operator=(const TlsConnector&) = delete;

  boost::asio::ssl::context& context() const { return *context_; }
  /// Whether connections check the peer's certificate chain and name.
  bool verify() const { return verify_; }

 private:
  std::unique_ptr<boost::asio::ssl::context> context_;
  bool verify_;
};

}  // namespace vane::proxy
