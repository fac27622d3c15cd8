#include "proxy/config_snapshot.hpp"

#include <algorithm>

#include "proxy/log.hpp"
#include "proxy/net/tls_connector.hpp"
#include "proxy/net/tls_acceptor.hpp"

namespace vane::proxy {
namespace {

const Resolution* find(const Resolutions& resolved, const std::string& name) {
  for (const auto& resolution : resolved) {
    if (resolution.name == name) return &resolution;
  }
  return nullptr;
}

/// The addresses of one configured endpoint, appended to `out`.
void resolve(net::io_context& io, const config::Upstream& upstream, const config::Endpoint& endpoint,
             const Resolutions& resolved, const ConfigSnapshot* previous, std::vector<ResolvedEndpoint>& out) {
  const std::string authority = endpoint.host + ":" + std::to_string(endpoint.port);
  std::string tls_name;
  if (endpoint.tls) {
    tls_name = upstream.tls && !upstream.tls->server_name.empty() ? upstream.tls->server_name
                                                                  : endpoint.host;
  }
  auto add = [&](const tcp::endpoint& address) {
    out.push_back({endpoint.text, authority, address, true, tls_name});
  };
  boost::system::error_code ec;
  auto literal = net::ip::make_address(endpoint.host, ec);
  if (!ec) return add(tcp::endpoint(literal, endpoint.port));
  std::vector<tcp::endpoint> addresses;
  std::string error;
  if (const auto* known = find(resolved, endpoint.text)) {
    addresses = known->addresses;
    error = known->error;
  } else if (resolved.empty()) {  // no lookup done ahead: a blocking one (start, reload)
    tcp::resolver resolver(io);
    boost::system::error_code lookup;
    auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), lookup);
    if (lookup) error = lookup.message();
    for (const auto& result : results) addresses.push_back(result.endpoint());
  }
  if (!addresses.empty()) {
    // In order, once each: a DNS server that rotates its answers (CoreDNS's loadbalance) would
    // otherwise make every refresh a change, and each change replaces every connection pool.
    std::sort(addresses.begin(), addresses.end());
    addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
    for (const auto& address : addresses) add(address);
    return;
  }
  const std::string failed = "cannot resolve upstream endpoint " + endpoint.text +
                             (error.empty() ? "" : " (" + error + ")");
  // A failed lookup keeps the last good addresses (SPEC §2: names are re-resolved).
  bool kept = false;
  if (previous) {
    for (const auto& list : previous->endpoints) {
      for (const auto& old : list) {
        if (old.name == endpoint.text && old.resolved) {
          out.push_back(old);
          out.back().tls_name = tls_name;  // a reload may have changed tls.serverName
          kept = true;
        }
      }
      if (kept) break;  // a name in several upstreams: its addresses once
    }
  }
  if (kept) {
    log::warn(failed + ": keeping its last good addresses");
  } else {
    log::warn(failed + ": it takes no traffic");
    out.push_back({endpoint.text, authority, {}, false, tls_name});
  }
}

/// The TLS contexts of listeners and upstreams. The files were checked when the config was
/// loaded; one that fails now (changed since) is logged and its listener or upstream refuses
/// TLS connections rather than taking the process down on a reload.
void load_tls(const config::Config& config, ConfigSnapshot& snapshot) {
  for (const auto& listener : config.listeners) {
    auto& server = snapshot.listener_tls.emplace_back();
    if (!listener.tls) continue;
    try {
      server = std::make_shared<TlsAcceptor>(*listener.tls, listener.protocols);
    } catch (const std::exception& e) {
      log::error("listener " + listener.name + ": " + e.what());
    }
  }
  for (const auto& upstream : config.upstreams) {
    auto& client = snapshot.upstream_tls.emplace_back();
    const bool https = std::any_of(upstream.endpoints.begin(), upstream.endpoints.end(),
                                   [](const config::Endpoint& e) { return e.tls; });
    if (!https) continue;
    try {
      client = std::make_shared<TlsConnector>(upstream.tls.value_or(config::UpstreamTls{}));
    } catch (const std::exception& e) {
      log::error("upstream " + upstream.name + ": " + e.what());
    }
  }
}

}  // namespace

std::shared_ptr<const ConfigSnapshot> ConfigSnapshot::build(std::shared_ptr<const config::Config> config,
                                              const Resolutions& resolved,
                                              const ConfigSnapshot* previous) {
  auto snapshot = std::make_shared<ConfigSnapshot>();
  snapshot->config = config;
  net::io_context io;
  for (const auto& upstream : config->upstreams) {
    auto& list = snapshot->endpoints.emplace_back();
    for (const auto& endpoint : upstream.endpoints) {
      resolve(io, upstream, endpoint, resolved, previous, list);
    }
  }
  if (previous && previous->config == config) {  // a DNS refresh: the same files
    snapshot->listener_tls = previous->listener_tls;
    snapshot->upstream_tls = previous->upstream_tls;
  } else {
    load_tls(*config, *snapshot);
  }
  snapshot->limits.max_line_bytes = config->limits.max_request_line_bytes;
  snapshot->limits.max_header_bytes = config->limits.max_request_header_bytes;
  snapshot->limits.max_headers = config->limits.max_request_headers;
  return snapshot;
}

}  // namespace vane::proxy
