#include "rollout/routing_table.hpp"

#include <algorithm>

namespace vane::rollout {
namespace {

uint32_t upstream_index(const config::Config& config, std::string_view name) {
  for (size_t i = 0; i < config.upstreams.size(); ++i) {
    if (config.upstreams[i].name == name) return static_cast<uint32_t>(i);
  }
  return 0;  // unreachable for a validated config
}

/// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::optional<std::string_view> find_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return std::nullopt;
}

/// Independent draws from one 64-bit value: the weight uses the low bits, mirroring the high.
uint32_t low_draw(uint64_t random) { return static_cast<uint32_t>(random % 10000); }
uint32_t high_draw(uint64_t random) { return static_cast<uint32_t>((random >> 32) % 10000); }

}  // namespace

uint32_t sticky_bucket(std::string_view key) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a: stable across builds and restarts
  for (char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 33;  // FNV's low bits are weak; fold the high ones in
  return static_cast<uint32_t>(hash % 10000);
}

std::string_view cookie_value(uint64_t random, char (&out)[16]) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) out[i] = kHex[(random >> (60 - 4 * i)) & 0xf];
  return {out, 16};
}

RoutingTable::RoutingTable(const config::Config& config) : RoutingTable(config, {}) {}

RoutingTable::RoutingTable(const config::Config& config,
                           const std::vector<RolloutRouting>& rollouts,
                           std::shared_ptr<const RouteIndex> routes)
    : routes_(routes ? std::move(routes) : std::make_shared<const RouteIndex>(config)) {
  for (size_t i = 0; i < config.rollouts.size(); ++i) {
    const auto& spec = config.rollouts[i];
    Rollout r;
    r.stable = upstream_index(config, spec.upstream);
    if (i < rollouts.size()) {
      const auto& routing = rollouts[i];
      r.stable = routing.stable;
      r.canary = routing.canary;
      r.weight_centi = routing.canary < 0 ? 0 : routing.plan.weight_centi;
      r.routes_active = routing.canary >= 0 && !routing.plan.routes_suspended;
      r.preview_active = routing.canary >= 0 && routing.plan.preview;
      for (const auto& h : routing.plan.header_routes) r.header_routes.push_back({RequestMatcher(h.match), 10000});
      for (const auto& m : routing.plan.mirror_routes) {
        r.mirror_routes.push_back({RequestMatcher(m.match), static_cast<uint32_t>(m.percentage * 100 + 0.5)});
      }
      uint32_t below = r.weight_centi;
      if (r.canary >= 0) r.picks.push_back({below, static_cast<uint32_t>(r.canary), analysis::Target::Canary});
      for (const auto& share : routing.plan.experiment) {
        if (r.canary < 0 || share.weight_centi == 0) continue;
        below += share.weight_centi;
        r.picks.push_back({below, upstream_index(config, share.upstream), analysis::experiment_target(share.slot)});
      }
    }
    if (spec.canary && spec.canary->stickiness) {
      r.sticky_cookie = spec.canary->stickiness->cookie;
      r.sticky_header = spec.canary->stickiness->header;
    }
    r.shield = spec.canary && spec.canary->shield;
    rollouts_.push_back(std::move(r));
  }
}

RoutingDecision RoutingTable::stable_decision(const Route& route) const {
  RoutingDecision decision;
  decision.route = route.index;
  decision.upstream =
      route.rollout < 0 ? route.upstream : rollouts_[static_cast<size_t>(route.rollout)].stable;
  decision.rollout = route.rollout;
  return decision;
}

std::optional<RoutingDecision> RoutingTable::match(std::string_view host,
                                                   std::string_view path) const {
  const Route* route = routes_->find(host, path);
  if (route == nullptr) return std::nullopt;
  return stable_decision(*route);
}

std::optional<RoutingDecision> RoutingTable::decide(const RequestView& request,
                                                    uint64_t random) const {
  const Route* route = routes_->find(request.host, request.path);
  if (route == nullptr) return std::nullopt;
  RoutingDecision decision = stable_decision(*route);
  if (route->rollout < 0) return decision;
  const Rollout& rollout = rollouts_[static_cast<size_t>(route->rollout)];
  if (rollout.canary < 0) return decision;
  const Pick* picked = route->preview && rollout.preview_active
                           ? rollout.picks.data()
                           : pick(rollout, request, random, decision.set_cookie);
  if (picked != nullptr) {
    decision.upstream = picked->upstream;
    decision.target = picked->target;
    const bool canary = picked->target == analysis::Target::Canary;
    if (rollout.shield && canary) decision.shield = static_cast<int32_t>(rollout.stable);
    return decision;
  }
  if (rollout.routes_active) {
    for (const auto& mirror : rollout.mirror_routes) {
      if (mirror.matcher.matches(request) && high_draw(random) < mirror.percentage_centi) {
        decision.mirror = rollout.canary;
        break;
      }
    }
  }
  return decision;
}

bool RoutingTable::serves(int32_t rollout, uint32_t upstream) const {
  if (rollout < 0 || static_cast<size_t>(rollout) >= rollouts_.size()) return false;
  const Rollout& r = rollouts_[static_cast<size_t>(rollout)];
  if (r.stable == upstream) return true;
  const bool canary_takes = r.weight_centi > 0 || (r.routes_active && !r.header_routes.empty()) ||
                            r.preview_active;
  if (r.canary == static_cast<int32_t>(upstream) && canary_takes) return true;
  return std::any_of(r.picks.begin(), r.picks.end(), [&](const Pick& p) {
    return p.target != analysis::Target::Canary && p.upstream == upstream;
  });
}

const RoutingTable::Pick* RoutingTable::pick(const Rollout& rollout, const RequestView& request,
                                             uint64_t random, bool& set_cookie) const {
  if (rollout.routes_active) {
    for (const auto& route : rollout.header_routes) {
      if (route.matcher.matches(request)) return rollout.picks.data();  // the canary
    }
  }
  uint32_t bucket = low_draw(random);
  if (!rollout.sticky_cookie.empty()) {
    std::optional<std::string_view> value;
    if (auto cookies = request.find("Cookie")) value = find_cookie(*cookies, rollout.sticky_cookie);
    char text[16];
    if (!value) {
      set_cookie = true;  // decide by the value the client will keep
      value = cookie_value(random, text);
    }
    bucket = sticky_bucket(*value);
  } else if (!rollout.sticky_header.empty()) {
    if (auto key = request.find(rollout.sticky_header)) bucket = sticky_bucket(*key);
  }
  for (const Pick& p : rollout.picks) {
    if (bucket < p.below_centi) return &p;
  }
  return nullptr;
}

const std::string& RoutingTable::cookie_name(int32_t rollout) const {
  static const std::string kNone;
  if (rollout < 0 || static_cast<size_t>(rollout) >= rollouts_.size()) return kNone;
  return rollouts_[static_cast<size_t>(rollout)].sticky_cookie;
}

}  // namespace vane::rollout
