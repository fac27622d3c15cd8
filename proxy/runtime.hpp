// One loaded configuration, ready for the data plane: the Config, the upstreams' resolved
// addresses and the parser limits. (Routing changes more often: see Worker::set_table.) Built on the control thread, then shared
// read-only with every worker (shared_ptr<const Runtime>).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

struct ResolvedEndpoint {
  std::string authority;  ///< "host:port" as configured, sent as Host when the client gave none
  tcp::endpoint address;
  bool resolved = false;  ///< false: the name did not resolve; the endpoint takes no traffic
};

struct Runtime {
  std::shared_ptr<const config::Config> config;
  std::vector<std::vector<ResolvedEndpoint>> endpoints;  ///< per config upstream
  http::Limits limits;

  /// Resolves every endpoint name (blocking: control thread only).
  static std::shared_ptr<const Runtime> build(std::shared_ptr<const config::Config> config);
};

}  // namespace vane::proxy
