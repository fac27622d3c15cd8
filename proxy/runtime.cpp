#include "proxy/runtime.hpp"

#include "proxy/log.hpp"

namespace vane::proxy {
namespace {

ResolvedEndpoint resolve(net::io_context& io, const config::Endpoint& endpoint) {
  ResolvedEndpoint out;
  out.authority = endpoint.host + ":" + std::to_string(endpoint.port);
  boost::system::error_code ec;
  auto address = net::ip::make_address(endpoint.host, ec);
  if (!ec) {
    out.address = tcp::endpoint(address, endpoint.port);
    out.resolved = true;
    return out;
  }
  tcp::resolver resolver(io);
  auto results = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec || results.empty()) {
    log::warn("cannot resolve upstream endpoint " + endpoint.text + ": " + ec.message());
    return out;
  }
  out.address = results.begin()->endpoint();
  out.resolved = true;
  return out;
}

}  // namespace

std::shared_ptr<const Runtime> Runtime::build(std::shared_ptr<const config::Config> config) {
  auto runtime = std::make_shared<Runtime>(Runtime{config, {}, {}});
  net::io_context io;
  for (const auto& upstream : config->upstreams) {
    auto& resolved = runtime->endpoints.emplace_back();
    for (const auto& endpoint : upstream.endpoints) resolved.push_back(resolve(io, endpoint));
  }
  runtime->limits.max_line_bytes = config->limits.max_request_line_bytes;
  runtime->limits.max_header_bytes = config->limits.max_request_header_bytes;
  runtime->limits.max_headers = config->limits.max_request_headers;
  return runtime;
}

}  // namespace vane::proxy
