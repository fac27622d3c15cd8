#include "proxy/runtime.hpp"

#include "proxy/log.hpp"

namespace vane::proxy {
namespace {

const std::vector<tcp::endpoint>* find(const Resolutions& resolved, const std::string& name) {
  for (const auto& [key, addresses] : resolved) {
    if (key == name) return &addresses;
  }
  return nullptr;
}

/// The addresses of one configured endpoint, appended to `out`.
void resolve(net::io_context& io, const config::Endpoint& endpoint, const Resolutions& resolved,
             const Runtime* previous, std::vector<ResolvedEndpoint>& out) {
  const std::string authority = endpoint.host + ":" + std::to_string(endpoint.port);
  auto add = [&](const tcp::endpoint& address) {
    out.push_back({endpoint.text, authority, address, true});
  };
  boost::system::error_code ec;
  auto literal = net::ip::make_address(endpoint.host, ec);
  if (!ec) return add(tcp::endpoint(literal, endpoint.port));
  if (const auto* known = find(resolved, endpoint.text); known && !known->empty()) {
    for (const auto& address : *known) add(address);
    return;
  }
  if (resolved.empty()) {  // no lookup done ahead: a blocking one (start, reload)
    tcp::resolver resolver(io);
    auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
    if (!ec) {
      for (const auto& result : results) add(result.endpoint());
      if (!results.empty()) return;
    }
  }
  // A failed lookup keeps the last good addresses (SPEC §2: names are re-resolved).
  bool kept = false;
  if (previous) {
    for (const auto& list : previous->endpoints) {
      for (const auto& old : list) {
        if (old.name == endpoint.text && old.resolved) {
          out.push_back(old);
          kept = true;
        }
      }
    }
  }
  if (!kept) {
    log::warn("cannot resolve upstream endpoint " + endpoint.text + (ec ? ": " + ec.message() : ""));
    out.push_back({endpoint.text, authority, {}, false});
  }
}

}  // namespace

std::shared_ptr<const Runtime> Runtime::build(std::shared_ptr<const config::Config> config,
                                              const Resolutions& resolved,
                                              const Runtime* previous) {
  auto runtime = std::make_shared<Runtime>(Runtime{config, {}, {}});
  net::io_context io;
  for (const auto& upstream : config->upstreams) {
    auto& list = runtime->endpoints.emplace_back();
    for (const auto& endpoint : upstream.endpoints) resolve(io, endpoint, resolved, previous, list);
  }
  runtime->limits.max_line_bytes = config->limits.max_request_line_bytes;
  runtime->limits.max_header_bytes = config->limits.max_request_header_bytes;
  runtime->limits.max_headers = config->limits.max_request_headers;
  return runtime;
}

}  // namespace vane::proxy
