#include "rollout/routing_table.hpp"

#include <algorithm>

namespace vane::rollout {
namespace {

bool iequals_lower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

uint32_t upstream_index(const config::Config& config, std::string_view name) {
  for (size_t i = 0; i < config.upstreams.size(); ++i) {
    if (config.upstreams[i].name == name) return static_cast<uint32_t>(i);
  }
  return 0;  // unreachable for a validated config
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? host : host.substr(0, close + 1);
  }
  auto colon = host.rfind(':');
  return colon == std::string_view::npos ? host : host.substr(0, colon);
}

RoutingTable::RoutingTable(const config::Config& config) {
  entries_.reserve(config.routes.size());
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const auto& route = config.routes[i];
    // Until a rollout has state, its route serves the desired upstream (SPEC §1: a first start
    // makes the desired version stable).
    std::string_view upstream = route.upstream;
    if (upstream.empty()) {
      if (const auto* rollout = config.find_rollout(route.rollout)) upstream = rollout->upstream;
    }
    entries_.push_back({route.match.host, route.match.path_prefix,
                        {static_cast<uint32_t>(i), upstream_index(config, upstream)}});
  }
  std::stable_sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.host.empty() != b.host.empty()) return !a.host.empty();
    return a.prefix.size() > b.prefix.size();
  });
}

std::optional<RoutingDecision> RoutingTable::decide(std::string_view host, std::string_view path) const {
  const std::string_view bare = host_without_port(host);
  for (const auto& entry : entries_) {
    if (!entry.host.empty() && !iequals_lower(bare, entry.host)) continue;
    if (path.starts_with(entry.prefix)) return entry.decision;
  }
  return std::nullopt;
}

}  // namespace vane::rollout
