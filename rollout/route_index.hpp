// Which route a request's host and path select (SPEC §3): an exact host beats a wildcard host
// (`*.example.com`: exactly one more label), which beats a route without host; then the longest
// pathPrefix, and among equal ones the first route in the file.
// Built once per config generation, off the request path. A lookup is a hash of the host and a
// binary search of that host's prefixes, whatever the number of hosts and routes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"

namespace vane::rollout {

/// The pathPrefixes of one host, each naming a route: longest-prefix match.
class PrefixSet {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  /// Of equal prefixes, the first added wins.
  void add(std::string prefix, uint32_t route);
  /// Sorts the prefixes and links each to the longest other prefix of it. Call after the adds.
  void build();
  /// The route of the longest prefix of `path`, or kNone.
  uint32_t find(std::string_view path) const;

 private:
  struct Entry {
    std::string prefix;
    uint32_t route = 0;
    int32_t parent = -1;  ///< the longest entry that is a prefix of this one
  };
  std::vector<Entry> entries_;  ///< sorted by prefix after build()
};

class RouteIndex {
 public:
  /// A route as the request path needs it: indices into Config::routes, upstreams, rollouts.
  struct Route {
    uint32_t index = 0;
    uint32_t upstream = 0;  ///< for a route without rollout
    int32_t rollout = -1;
    bool preview = false;  ///< its rollout's blue-green previewRoute
  };

  explicit RouteIndex(const config::Config& config);

  /// `host` as the request gave it (a port is ignored; case does not matter). nullptr: no route.
  const Route* find(std::string_view host, std::string_view path) const;

  size_t size() const { return routes_.size(); }

 private:
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using HostMap = std::unordered_map<std::string, PrefixSet, TextHash, std::equal_to<>>;

  const Route* route(uint32_t position) const {
    return position == PrefixSet::kNone ? nullptr : &routes_[position];
  }

  std::vector<Route> routes_;  ///< in config order
  HostMap exact_;              ///< by lower-case host
  HostMap wildcard_;           ///< by the suffix after `*`: ".example.com"
  PrefixSet any_host_;
};

/// The host part of a Host value, without port: "a.b:80" -> "a.b", "[::1]:80" -> "[::1]".
std::string_view host_without_port(std::string_view host);

}  // namespace vane::rollout
