// The immutable table that maps a request to its route and upstream. Built on the control thread
// from a Config, shared read-only with every worker (shared_ptr<const RoutingTable>).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vane::rollout {

/// Where a request goes. Indices into the Config's `routes` and `upstreams`.
struct RoutingDecision {
  uint32_t route = 0;
  uint32_t upstream = 0;
};

class RoutingTable {
 public:
  /// Indexes the routes of `config` (which must be valid: every reference resolves).
  explicit RoutingTable(const config::Config& config);

  /// The route for a request: `host` is the Host value (any port is ignored, case-insensitive),
  /// `path` the origin-form target. A route with a host beats one without; then the longest
  /// pathPrefix wins. nullopt when nothing matches. Returned by value: nothing
  /// points into the table across a co_await.
  std::optional<RoutingDecision> decide(std::string_view host, std::string_view path) const;

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string host;    ///< lower-case; empty matches any host
    std::string prefix;
    RoutingDecision decision;
  };
  std::vector<Entry> entries_;  ///< most specific first: host routes, then longer prefixes
};

/// The host part of a Host value, without port or IPv6 brackets' port: "a.b:80" -> "a.b",
/// "[::1]:80" -> "[::1]".
std::string_view host_without_port(std::string_view host);

}  // namespace vane::rollout
