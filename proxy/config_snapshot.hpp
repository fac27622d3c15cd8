// One loaded configuration, ready for the data plane: the Config, the upstreams' resolved
// addresses and the parser limits. (Routing changes more often: see Worker::set_table.) Built on the control thread, then shared
// read-only with every worker (shared_ptr<const ConfigSnapshot>).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class TlsAcceptor;
class TlsConnector;

/// One address of a configured endpoint: a name (a Kubernetes headless Service) may give many.
struct ResolvedEndpoint {
  std::string name;       ///< the endpoint as configured ("shop-v1.shop.svc:8080")
  std::string authority;  ///< "host:port", sent as Host when the client gave none
  tcp::endpoint address;
  bool resolved = false;  ///< false: the name never resolved; the endpoint takes no traffic
  /// https:// endpoints: the name sent as SNI and verified (tls.serverName, else the host);
  /// empty: plain TCP.
  std::string tls_name;

  friend bool operator==(const ResolvedEndpoint&, const ResolvedEndpoint&) = default;
};

/// What a lookup of one name gave, ahead of ConfigSnapshot::build (asynchronously).
struct Resolution {
  std::string name;                      ///< the endpoint as configured
  std::vector<tcp::endpoint> addresses;  ///< empty: the lookup failed
  std::string error;                     ///< why it failed, when it did
};
using Resolutions = std::vector<Resolution>;

struct ConfigSnapshot {
  std::shared_ptr<const config::Config> config;
  std::vector<std::vector<ResolvedEndpoint>> endpoints;  ///< per config upstream
  http::Limits limits;
  /// Per listener: its certificates (null: plain TCP). Per upstream: its TLS client context
  /// (null: no https:// endpoint). Loaded with the config, kept across DNS refreshes.
  std::vector<std::shared_ptr<TlsAcceptor>> listener_tls;
  std::vector<std::shared_ptr<TlsConnector>> upstream_tls;

  /// Every endpoint with its addresses: IP literals as they are, names from `resolved` when
  /// there, else by a blocking lookup, else (failed) `previous`'s addresses for that name. A
  /// name's addresses are sorted, so that a DNS server rotating its answers changes nothing.
  static std::shared_ptr<const ConfigSnapshot> build(std::shared_ptr<const config::Config> config,
                                              const Resolutions& resolved = {},
                                              const ConfigSnapshot* previous = nullptr);

  /// Whether two snapshots send traffic to the same addresses.
  bool same_endpoints(const ConfigSnapshot& other) const { return endpoints == other.endpoints; }
};

}  // namespace vane::proxy
