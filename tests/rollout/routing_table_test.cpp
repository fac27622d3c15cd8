// RoutingTable::decide (SPEC §3 "Where a request goes") and host_without_port, on configs loaded
// from inline YAML.
#include "rollout/routing_table.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace vane::rollout {
namespace {

std::shared_ptr<const config::Config> load(std::string_view yaml) {
  config::LoadResult result = config::load_string(yaml, "test.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.errors.empty()) << errors;
  EXPECT_NE(result.config, nullptr);
  return result.config;
}

/// Routes with and without host and prefixes of several lengths. Upstream i serves route i so a
/// wrong upstream index shows as clearly as a wrong route index.
constexpr std::string_view kRoutes = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: u-any-root, endpoints: ["127.0.0.1:1"]}
  - {name: u-any-api, endpoints: ["127.0.0.1:2"]}
  - {name: u-any-api-v2, endpoints: ["127.0.0.1:3"]}
  - {name: u-shop-root, endpoints: ["127.0.0.1:4"]}
  - {name: u-shop-static, endpoints: ["127.0.0.1:5"]}
  - {name: u-v6, endpoints: ["127.0.0.1:6"]}
routes:
  - {name: any-root, upstream: u-any-root, match: {pathPrefix: /}}
  - {name: any-api, upstream: u-any-api, match: {pathPrefix: /api}}
  - {name: any-api-v2, upstream: u-any-api-v2, match: {pathPrefix: /api/v2}}
  - {name: shop-root, upstream: u-shop-root, match: {host: Shop.Example.COM, pathPrefix: /}}
  - {name: shop-static, upstream: u-shop-static, match: {host: shop.example.com, pathPrefix: /static}}
  - {name: v6, upstream: u-v6, match: {host: "[::1]"}}
)";

struct DecideCase {
  const char* what;
  std::string_view host;
  std::string_view path;
  std::optional<std::string_view> route;  ///< expected route name; nullopt: no match
};

class DecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTest, PicksTheExpectedRoute) {
  const DecideCase& c = GetParam();
  SCOPED_TRACE(c.what);
  const auto config = load(kRoutes);
  ASSERT_NE(config, nullptr);
  const RoutingTable table(*config);
  const auto decision = table.match(c.host, c.path);
  if (!c.route) {
    EXPECT_FALSE(decision.has_value()) << "route " << decision->route;
    return;
  }
  ASSERT_TRUE(decision.has_value());
  ASSERT_LT(decision->route, config->routes.size());
  ASSERT_LT(decision->upstream, config->upstreams.size());
  const config::Route& route = config->routes[decision->route];
  EXPECT_EQ(route.name, *c.route);
  EXPECT_EQ(config->upstreams[decision->upstream].name, route.upstream);
  EXPECT_EQ(config->upstreams[decision->upstream].name, "u-" + std::string(*c.route));
}

INSTANTIATE_TEST_SUITE_P(
    RoutingTable, DecideTest,
    ::testing::Values(
        DecideCase{"exact host, root", "shop.example.com", "/", "shop-root"},
        DecideCase{"host upper-case", "SHOP.EXAMPLE.COM", "/cart", "shop-root"},
        DecideCase{"host mixed case with port", "Shop.Example.Com:8080", "/cart", "shop-root"},
        DecideCase{"port ignored, longer host prefix", "shop.example.com:443", "/static/a.css",
                   "shop-static"},
        DecideCase{"host route beats a longer host-less prefix", "shop.example.com", "/api/v2/x",
                   "shop-root"},
        DecideCase{"longest host prefix", "shop.example.com", "/static", "shop-static"},
        DecideCase{"host prefix is a plain string prefix", "shop.example.com", "/staticx",
                   "shop-static"},
        DecideCase{"path is case-sensitive", "shop.example.com", "/STATIC/a", "shop-root"},
        DecideCase{"other host, root", "other.example.com", "/", "any-root"},
        DecideCase{"other host, api", "other.example.com", "/api/v1", "any-api"},
        DecideCase{"longest host-less prefix wins", "other.example.com", "/api/v2/items",
                   "any-api-v2"},
        DecideCase{"longest prefix, exact", "other.example.com", "/api/v2", "any-api-v2"},
        DecideCase{"plain prefix: /api matches /apix", "other.example.com", "/apix", "any-api"},
        DecideCase{"plain prefix: /api/v2 matches /api/v21", "other", "/api/v21", "any-api-v2"},
        DecideCase{"shorter than every longer prefix", "other", "/ap", "any-root"},
        DecideCase{"host that is a prefix of a route host", "shop.example.co", "/static",
                   "any-root"},
        DecideCase{"route host is a prefix of the host", "shop.example.com.evil", "/static",
                   "any-root"},
        DecideCase{"route host as a subdomain", "a.shop.example.com", "/", "any-root"},
        DecideCase{"host-less routes match an empty Host", "", "/api", "any-api"},
        DecideCase{"IPv6 literal with port", "[::1]:80", "/x", "v6"},
        DecideCase{"IPv6 literal without port", "[::1]", "/api/v2", "v6"},
        DecideCase{"other IPv6 literal", "[::2]:80", "/api", "any-api"},
        DecideCase{"host with port and empty path", "shop.example.com:80", "", std::nullopt}),
    [](const ::testing::TestParamInfo<DecideCase>& param) {
      return "case" + std::to_string(param.index);
    });

constexpr std::string_view kSparse = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: a, endpoints: ["127.0.0.1:1"]}
  - {name: b, endpoints: ["127.0.0.1:2"]}
routes:
  - {name: only, upstream: a, match: {host: a.example, pathPrefix: /only}}
  - {name: api, upstream: b, match: {pathPrefix: /api}}
)";

TEST(RoutingTable, NoMatchIsNullopt) {
  const auto config = load(kSparse);
  ASSERT_NE(config, nullptr);
  const RoutingTable table(*config);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_FALSE(table.match("b.example", "/").has_value());
  EXPECT_FALSE(table.match("b.example", "/only").has_value());
  EXPECT_FALSE(table.match("a.example", "/").has_value());
  EXPECT_FALSE(table.match("a.example", "/ap").has_value());
  EXPECT_FALSE(table.match("a.example", "").has_value());
}

TEST(RoutingTable, HostRouteWhosePrefixFailsFallsBackToHostless) {
  const auto config = load(kSparse);
  ASSERT_NE(config, nullptr);
  const RoutingTable table(*config);
  const auto api = table.match("a.example", "/api/x");
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->route, 1u);
  EXPECT_EQ(api->upstream, 1u);
  const auto only = table.match("A.Example:8443", "/only/1");
  ASSERT_TRUE(only.has_value());
  EXPECT_EQ(only->route, 0u);
  EXPECT_EQ(only->upstream, 0u);
}

TEST(RoutingTable, EmptyTableMatchesNothing) {
  config::Config empty;
  const RoutingTable table(empty);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.match("a", "/").has_value());
}

/// The rollout's desired upstream is deliberately neither the first upstream (index 0, the
/// fallback of a failed lookup) nor the upstream of the neighbouring route.
constexpr std::string_view kRollout = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: other, endpoints: ["127.0.0.1:1"]}
  - {name: shop-v1, endpoints: ["127.0.0.1:2"]}
  - {name: shop-v2, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: plain, upstream: other, match: {pathPrefix: /}}
  - {name: shop, rollout: shop, match: {host: shop.example.com}}
  - {name: shop-api, rollout: shop, match: {pathPrefix: /shop-api}}
rollouts:
  - name: shop
    upstream: shop-v2
    strategy:
      canary:
        steps:
          - setWeight: 10
)";

TEST(RoutingTable, RolloutRouteServesTheDesiredUpstream) {
  const auto config = load(kRollout);
  ASSERT_NE(config, nullptr);
  const RoutingTable table(*config);
  EXPECT_EQ(table.size(), 3u);

  const auto shop = table.match("shop.example.com", "/x");
  ASSERT_TRUE(shop.has_value());
  EXPECT_EQ(shop->route, 1u);
  EXPECT_EQ(shop->upstream, 2u);  // shop-v2

  const auto api = table.match("elsewhere", "/shop-api/items");
  ASSERT_TRUE(api.has_value());
  EXPECT_EQ(api->route, 2u);
  EXPECT_EQ(api->upstream, 2u);

  const auto plain = table.match("elsewhere", "/x");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->route, 0u);
  EXPECT_EQ(plain->upstream, 0u);
}

TEST(RoutingTable, RouteIndicesFollowTheConfigOrderNotTheSortOrder) {
  // Declared least specific first: the table reorders its entries, the indices must not move.
  const auto config = load(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: u0, endpoints: ["127.0.0.1:1"]}
  - {name: u1, endpoints: ["127.0.0.1:2"]}
  - {name: u2, endpoints: ["127.0.0.1:3"]}
  - {name: u3, endpoints: ["127.0.0.1:4"]}
routes:
  - {name: r0, upstream: u3, match: {pathPrefix: /}}
  - {name: r1, upstream: u2, match: {pathPrefix: /a}}
  - {name: r2, upstream: u1, match: {pathPrefix: /a/b}}
  - {name: r3, upstream: u0, match: {host: h, pathPrefix: /}}
)");
  ASSERT_NE(config, nullptr);
  const RoutingTable table(*config);
  struct Expect {
    std::string_view host;
    std::string_view path;
    uint32_t route;
    uint32_t upstream;
  };
  for (const Expect& e : {Expect{"x", "/", 0, 3}, Expect{"x", "/a", 1, 2},
                          Expect{"x", "/a/b/c", 2, 1}, Expect{"h", "/a/b/c", 3, 0}}) {
    const auto d = table.match(e.host, e.path);
    ASSERT_TRUE(d.has_value()) << e.host << e.path;
    EXPECT_EQ(d->route, e.route) << e.host << e.path;
    EXPECT_EQ(d->upstream, e.upstream) << e.host << e.path;
  }
}

TEST(RoutingTable, DecisionIsIndependentOfTheConfigAfterBuild) {
  // decide() returns by value and the table copies what it needs: it outlives its Config.
  std::optional<RoutingTable> table;
  {
    const auto config = load(kSparse);
    ASSERT_NE(config, nullptr);
    table.emplace(*config);
  }
  const auto d = table->match("z", "/api");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->route, 1u);
}

/// A blue-green rollout: its public routes and its preview route (SPEC §4).
constexpr std::string_view kBlueGreen = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: other, endpoints: ["127.0.0.1:1"]}
  - {name: blue, endpoints: ["127.0.0.1:2"]}
  - {name: green, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: plain, upstream: other, match: {pathPrefix: /other}}
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
  - {name: shop-preview, rollout: shop, match: {host: preview.example.com}}
rollouts:
  - name: shop
    upstream: blue
    strategy:
      blueGreen: {previewRoute: shop-preview}
)";

/// Where a GET of `host` `path` goes: "upstream/target".
std::string side(const RoutingTable& table, std::string_view host, std::string_view path,
                 uint64_t random) {
  RequestView request;
  request.method = "GET";
  request.host = host;
  request.path = path;
  const auto d = table.decide(request, random);
  if (!d) return "none";
  static constexpr const char* names[] = {"other", "blue", "green"};
  return std::string(names[d->upstream]) +
         (d->target == analysis::Target::Canary ? "/canary" : "/stable");
}

/// The table for blue active and green as the preview: `preview` and `weight` as planned.
RoutingTable blue_green_table(const config::Config& config, int32_t canary, bool preview,
                              uint32_t weight_centi) {
  RolloutRouting routing;
  routing.stable = 1;
  routing.canary = canary;
  routing.plan.preview = preview;
  routing.plan.weight_centi = weight_centi;
  return RoutingTable(config, {routing});
}

TEST(RoutingTable, BlueGreenPreviewRouteReachesThePreviewOnly) {
  const auto config = load(kBlueGreen);
  ASSERT_NE(config, nullptr);
  const RoutingTable table = blue_green_table(*config, 2, true, 0);
  for (const uint64_t random : {0ULL, 9999ULL, ~0ULL}) {
    EXPECT_EQ(side(table, "preview.example.com", "/x", random), "green/canary");
    EXPECT_EQ(side(table, "PREVIEW.example.com:8080", "/", random), "green/canary");
    EXPECT_EQ(side(table, "shop.example.com", "/x", random), "blue/stable");
    EXPECT_EQ(side(table, "preview.example.com.evil", "/x", random), "blue/stable");
    EXPECT_EQ(side(table, "any", "/other", random), "other/stable");
  }
}

TEST(RoutingTable, BlueGreenWithoutPreviewTheRouteServesTheActiveVersion) {
  const auto config = load(kBlueGreen);
  ASSERT_NE(config, nullptr);
  const RoutingTable first_start(*config);
  EXPECT_EQ(side(first_start, "preview.example.com", "/", 0), "blue/stable");
  const RoutingTable idle = blue_green_table(*config, -1, false, 0);
  EXPECT_EQ(side(idle, "preview.example.com", "/", 0), "blue/stable");
  EXPECT_EQ(side(idle, "shop", "/", 0), "blue/stable");
}

TEST(RoutingTable, BlueGreenSwitchSendsEveryRequestToTheNewVersion) {
  const auto config = load(kBlueGreen);
  ASSERT_NE(config, nullptr);
  const RoutingTable switched = blue_green_table(*config, 2, true, 10000);
  for (uint64_t random = 0; random < 20000; random += 7) {
    ASSERT_EQ(side(switched, "shop", "/", random), "green/canary") << random;
    ASSERT_EQ(side(switched, "preview.example.com", "/", random), "green/canary") << random;
  }
}

struct HostCase {
  std::string_view in;
  std::string_view out;
};

class HostWithoutPortTest : public ::testing::TestWithParam<HostCase> {};

TEST_P(HostWithoutPortTest, StripsThePort) {
  EXPECT_EQ(host_without_port(GetParam().in), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(RoutingTable, HostWithoutPortTest,
                         ::testing::Values(HostCase{"a.b:80", "a.b"}, HostCase{"a.b", "a.b"},
                                           HostCase{"A.B:8080", "A.B"}, HostCase{"a.b:", "a.b"},
                                           HostCase{"", ""}, HostCase{"[::1]:80", "[::1]"},
                                           HostCase{"[::1]", "[::1]"},
                                           HostCase{"[2001:db8::1]:443", "[2001:db8::1]"},
                                           HostCase{"[::1", "[::1"},
                                           HostCase{"10.0.0.1:8080", "10.0.0.1"}));

TEST(RoutingTable, ServesNamesTheUpstreamsThatTakeARolloutsTraffic) {
  const auto config = load(kBlueGreen);
  ASSERT_NE(config, nullptr);
  EXPECT_TRUE(blue_green_table(*config, 2, false, 5000).serves(0, 1));  // stable
  EXPECT_TRUE(blue_green_table(*config, 2, false, 5000).serves(0, 2));  // weighted canary
  EXPECT_TRUE(blue_green_table(*config, 2, true, 0).serves(0, 2));      // preview only
  EXPECT_FALSE(blue_green_table(*config, 2, false, 0).serves(0, 2));    // no share left
  EXPECT_FALSE(blue_green_table(*config, -1, false, 5000).serves(0, 2));  // aborted
  EXPECT_FALSE(blue_green_table(*config, 2, false, 5000).serves(0, 0));   // another upstream
  EXPECT_FALSE(blue_green_table(*config, 2, false, 5000).serves(1, 1));   // no such rollout
}

}  // namespace
}  // namespace vane::rollout
