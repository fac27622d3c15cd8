#include "rollout/route_index.hpp"

#include <algorithm>
#include <string>

namespace vane::rollout {
namespace {

template <typename Items>
std::unordered_map<std::string_view, uint32_t> positions_by_name(const Items& items) {
  std::unordered_map<std::string_view, uint32_t> out;
  for (size_t i = 0; i < items.size(); ++i) out.emplace(items[i].name, static_cast<uint32_t>(i));
  return out;
}

/// The host without port, lower-cased into `buffer` (hosts longer than it match no host route).
std::string_view lower_host(std::string_view host, char (&buffer)[256]) {
  host = host_without_port(host);
  if (host.size() > sizeof buffer) return {};
  for (size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    buffer[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return {buffer, host.size()};
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  const auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

void PrefixSet::add(std::string prefix, uint32_t route) {
  entries_.push_back({std::move(prefix), route, -1});
}

void PrefixSet::build() {
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.prefix < b.prefix; });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const Entry& a, const Entry& b) { return a.prefix == b.prefix; }),
                 entries_.end());
  // In sorted order the prefixes of an entry are exactly the chain still on the stack.
  std::vector<int32_t> chain;
  for (size_t i = 0; i < entries_.size(); ++i) {
    while (!chain.empty() &&
           !entries_[i].prefix.starts_with(entries_[static_cast<size_t>(chain.back())].prefix)) {
      chain.pop_back();
    }
    entries_[i].parent = chain.empty() ? -1 : chain.back();
    chain.push_back(static_cast<int32_t>(i));
  }
}

uint32_t PrefixSet::find(std::string_view path) const {
  // Every prefix of `path` sorts at or before it, and is a prefix of the last entry that does:
  // the answer is on that entry's parent chain, longest first.
  auto it = std::upper_bound(entries_.begin(), entries_.end(), path,
                             [](std::string_view p, const Entry& e) { return p < e.prefix; });
  int32_t i = static_cast<int32_t>(it - entries_.begin()) - 1;
  while (i >= 0) {
    const Entry& entry = entries_[static_cast<size_t>(i)];
    if (path.starts_with(entry.prefix)) return entry.route;
    i = entry.parent;
  }
  return kNone;
}

RouteIndex::RouteIndex(const config::Config& config) {
  const auto upstreams = positions_by_name(config.upstreams);
  const auto rollouts = positions_by_name(config.rollouts);
  routes_.reserve(config.routes.size());
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const auto& spec = config.routes[i];
    Route route;
    route.index = static_cast<uint32_t>(i);
    if (spec.rollout.empty()) {
      const auto it = upstreams.find(spec.upstream);
      route.upstream = it == upstreams.end() ? 0 : it->second;  // 0: unreachable once validated
    } else if (const auto it = rollouts.find(spec.rollout); it != rollouts.end()) {
      route.rollout = static_cast<int32_t>(it->second);
      const auto& blue_green = config.rollouts[it->second].blue_green;
      route.preview = blue_green && blue_green->preview_route == spec.name;
    }
    routes_.push_back(route);

    const std::string& host = spec.match.host;  // lower-cased by the parser
    PrefixSet& set = host.empty()              ? any_host_
                     : host.starts_with("*.") ? wildcard_[host.substr(1)]
                                               : exact_[host];
    set.add(spec.match.path_prefix, route.index);
  }
  for (auto& [host, set] : exact_) set.build();
  for (auto& [suffix, set] : wildcard_) set.build();
  any_host_.build();
}

const RouteIndex::Route* RouteIndex::find(std::string_view host, std::string_view path) const {
  char buffer[256];
  const std::string_view bare = lower_host(host, buffer);
  if (!bare.empty()) {
    if (!exact_.empty()) {
      if (const auto it = exact_.find(bare); it != exact_.end()) {
        if (const Route* r = route(it->second.find(path))) return r;
      }
    }
    // `*.example.com` takes a.example.com: the request host less its first label.
    if (const auto dot = bare.find('.'); !wildcard_.empty() && dot != 0 &&
                                         dot != std::string_view::npos) {
      if (const auto it = wildcard_.find(bare.substr(dot)); it != wildcard_.end()) {
        if (const Route* r = route(it->second.find(path))) return r;
      }
    }
  }
  return route(any_host_.find(path));
}

}  // namespace vane::rollout
