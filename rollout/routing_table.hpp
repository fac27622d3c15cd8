// The immutable table that sends each request to its route, upstream and rollout side (SPEC §3):
// host and longest prefix, then a blue-green preview route, header routes, weight (sticky or
// random) and mirror routes.
// Built on the control thread whenever traffic changes, shared read-only with every worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/target.hpp"
#include "config/config.hpp"
#include "rollout/request_match.hpp"
#include "rollout/route_index.hpp"
#include "rollout/traffic_plan.hpp"

namespace vane::rollout {

/// One rollout's traffic, as its controller publishes it. Indices into Config::upstreams.
struct RolloutRouting {
  uint32_t stable = 0;
  int32_t canary = -1;  ///< -1: no canary (or no traffic for it: an aborted canary rollout)
  TrafficPlan plan;

  friend bool operator==(const RolloutRouting&, const RolloutRouting&) = default;
};

/// Where one request goes. Returned by value: nothing points into the table across a co_await.
struct RoutingDecision {
  uint32_t route = 0;
  uint32_t upstream = 0;  ///< serves the client
  analysis::Target target = analysis::Target::Stable;
  int32_t rollout = -1;   ///< -1: the route has no rollout
  int32_t mirror = -1;    ///< upstream that gets a copy; -1: none
  int32_t shield = -1;    ///< canary.shield: the stable upstream a failed canary try goes to
  bool set_cookie = false;  ///< stickiness cookie to set on the response: cookie_value(random)
};

class RoutingTable {
 public:
  /// Every rollout as on a first start: all traffic to its desired upstream.
  explicit RoutingTable(const config::Config& config);
  /// `routes`: the config's RouteIndex when the caller keeps one across traffic changes (a table
  /// is rebuilt on every weight change; the routes only with the config); null: built here.
  RoutingTable(const config::Config& config, const std::vector<RolloutRouting>& rollouts,
               std::shared_ptr<const RouteIndex> routes = nullptr);

  /// The route for a host and path (RouteIndex), its traffic all on the stable side. nullopt
  /// when nothing matches.
  std::optional<RoutingDecision> match(std::string_view host, std::string_view path) const;

  /// The full decision for a request: `random` is a fresh uniform 64-bit value per request.
  std::optional<RoutingDecision> decide(const RequestView& request, uint64_t random) const;

  /// Some request of `rollout` may go to `upstream` now: its stable side, a canary that takes a
  /// weight, header routes or the preview route, or an experiment's template.
  bool serves(int32_t rollout, uint32_t upstream) const;

  /// The stickiness cookie's name for a rollout ("" without cookie stickiness).
  const std::string& cookie_name(int32_t rollout) const;

  size_t size() const { return routes_->size(); }

 private:
  using Route = RouteIndex::Route;
  struct NamedMatcher {
    RequestMatcher matcher;
    uint32_t percentage_centi = 10000;
  };
  /// One side of the weighted pick: a draw (bucket) below `below_centi` that no earlier pick took
  /// goes to `upstream` as `target`. The canary's weight first, then an experiment's templates
  /// (SPEC §14); a draw past the last pick goes to stable.
  struct Pick {
    uint32_t below_centi = 0;
    uint32_t upstream = 0;
    analysis::Target target = analysis::Target::Canary;
  };
  struct Rollout {
    uint32_t stable = 0;
    int32_t canary = -1;
    uint32_t weight_centi = 0;
    std::vector<Pick> picks;  ///< cumulative, ascending; empty: all on stable
    bool routes_active = false;
    bool preview_active = false;  ///< the preview route goes to the canary
    std::vector<NamedMatcher> header_routes;
    std::vector<NamedMatcher> mirror_routes;
    std::string sticky_cookie;
    std::string sticky_header;
    bool shield = false;  ///< canary.shield: failed canary requests are retried on stable
  };

  RoutingDecision stable_decision(const Route& route) const;
  /// The weighted pick for a request (header routes first: the canary), null for stable.
  const Pick* pick(const Rollout& rollout, const RequestView& request, uint64_t random,
                   bool& set_cookie) const;

  std::shared_ptr<const RouteIndex> routes_;
  std::vector<Rollout> rollouts_;
};

/// The stickiness bucket of a key, 0..9999: canary iff bucket < weight in hundredths (SPEC §3).
uint32_t sticky_bucket(std::string_view key);

/// The value vane gives a new stickiness cookie, from the request's random draw (16 hex digits).
std::string_view cookie_value(uint64_t random, char (&out)[16]);

}  // namespace vane::rollout
