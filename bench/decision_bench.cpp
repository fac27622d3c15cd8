// Microbenchmark of vane's per-request routing decision (issue #4): route match, header-route
// match, weighted (or sticky) pick, and the outcome record into the worker's shard. Single
// thread, as on a worker. BM_DecideExperiment: the same with an experiment step's two templates
// beside the canary weight (SPEC §14: more entries of the same weighted pick).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <string_view>

#include "analysis/outcome_shard.hpp"
#include "config/loader.hpp"
#include "rollout/routing_table.hpp"

namespace {

using namespace vane;

constexpr std::string_view kConfig = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:1"]}
  - {name: v2, endpoints: ["127.0.0.1:2"]}
  - {name: v3, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: static, match: {pathPrefix: /static}, upstream: v1}
  - {name: shop, match: {host: shop.example.com, pathPrefix: /}, rollout: shop}
rollouts:
  - name: shop
    upstream: v1
    strategy:
      canary:
        stickiness: {header: X-User-Id}
        steps:
          - setHeaderRoute: {name: beta, match: [{headerName: X-Beta, headerValue: {exact: "yes"}}]}
          - setWeight: 10
          - experiment:
              templates: [{name: baseline, upstream: v3, weight: 5}, {name: canary, specRef: canary, weight: 5}]
)";

struct Header {
  std::string_view name;
  std::string_view value;
};

constexpr Header kHeaders[] = {{"Host", "shop.example.com"},
                               {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0)"},
                               {"Accept", "text/html"},
                               {"X-User-Id", "user-4821"},
                               {"Cookie", "session=3f2a9c1e7b40d2"}};

bool find(const void*, std::string_view name, std::string_view& value) {
  for (const auto& h : kHeaders) {
    if (h.name.size() == name.size() && std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) {
          return (a | 0x20) == (b | 0x20);
        })) {
      value = h.value;
      return true;
    }
  }
  return false;
}

rollout::RoutingTable make_table(bool sticky, bool experiment = false) {
  auto loaded = config::load_string(kConfig, "bench.yaml");
  rollout::RolloutRouting routing;
  routing.stable = 0;
  routing.canary = 1;
  routing.plan.weight_centi = 1000;  // 90/10
  config::HeaderRouteStep beta;
  beta.name = "beta";
  config::RouteCondition condition;
  condition.headers.push_back({"X-Beta", {config::StringMatch::Kind::Exact, "yes"}});
  beta.match.push_back(condition);
  routing.plan.header_routes.push_back(beta);
  if (experiment) routing.plan.experiment = {{0, "v3", 500}, {1, "v2", 500}};  // 80/10/5/5
  auto config = *loaded.config;
  if (!sticky) config.rollouts[0].canary->stickiness.reset();
  return rollout::RoutingTable(config, {routing});
}

void decide_and_record(benchmark::State& state, bool sticky, bool experiment = false) {
  const auto table = make_table(sticky, experiment);
  analysis::OutcomeShard shard(analysis::kTargetCount);
  const rollout::RequestView request{"GET", "shop.example.com", "/products/shoes?size=42", nullptr, &find};
  uint64_t random = 0x9e3779b97f4a7c15ULL;
  int64_t now = 1000;
  for (auto _ : state) {
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;
    auto decision = table.decide(request, random);
    benchmark::DoNotOptimize(decision);
    shard.record(static_cast<uint32_t>(decision->target), 200, false, 850, now);
  }
}

void BM_DecideWeighted(benchmark::State& state) { decide_and_record(state, false); }
void BM_DecideSticky(benchmark::State& state) { decide_and_record(state, true); }
void BM_DecideExperiment(benchmark::State& state) { decide_and_record(state, false, true); }
BENCHMARK(BM_DecideWeighted);
BENCHMARK(BM_DecideSticky);
BENCHMARK(BM_DecideExperiment);

/// N routes, each its own host with two prefixes (issue #19: the last of 10,000 hosts must cost
/// what the only one does).
config::Config many_hosts(int64_t hosts) {
  config::Config config;
  config::Upstream upstream;
  upstream.name = "v1";
  config.upstreams.push_back(upstream);
  for (int64_t i = 0; i < hosts; ++i) {
    for (const char* prefix : {"/", "/api"}) {
      config::Route route;
      route.name = "r" + std::to_string(config.routes.size());
      route.upstream = "v1";
      route.match.host = "host-" + std::to_string(i) + ".example.com";
      route.match.path_prefix = prefix;
      config.routes.push_back(route);
    }
  }
  return config;
}

void BM_MatchLastHost(benchmark::State& state) {
  const auto config = many_hosts(state.range(0));
  const rollout::RouteIndex index(config);
  const std::string host = "Host-" + std::to_string(state.range(0) - 1) + ".example.com:443";
  for (auto _ : state) benchmark::DoNotOptimize(index.find(host, "/api/products/shoes?size=42"));
}
BENCHMARK(BM_MatchLastHost)->Arg(1)->Arg(10000)->Arg(100000);

void BM_BuildRouteIndex(benchmark::State& state) {
  const auto config = many_hosts(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(rollout::RouteIndex(config));
}
BENCHMARK(BM_BuildRouteIndex)->Arg(50000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
