// RouteIndex (SPEC §3 "Routes"): exact > wildcard > host-less, then the longest pathPrefix, then
// the first route in the file. Table cases for the rules, then the index against a plain scan of
// the same rules on random tables and requests.
#include "rollout/route_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"

namespace vane::rollout {
namespace {

config::Config routes_config(const std::vector<std::pair<std::string, std::string>>& matches) {
  config::Config config;
  config::Upstream upstream;
  upstream.name = "u";
  config.upstreams.push_back(upstream);
  for (size_t i = 0; i < matches.size(); ++i) {
    config::Route route;
    route.name = "r" + std::to_string(i);
    route.upstream = "u";
    route.match.host = matches[i].first;
    route.match.path_prefix = matches[i].second;
    config.routes.push_back(route);
  }
  return config;
}

/// The rules, written as plainly as possible: the route a request gets, or -1.
int reference(const config::Config& config, std::string_view host, std::string_view path) {
  std::string bare(host_without_port(host));
  std::transform(bare.begin(), bare.end(), bare.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto rank = [&](const std::string& h) {  // 3 exact, 2 wildcard, 1 any host, 0 no match
    if (h.empty()) return 1;
    if (h.starts_with("*.")) {
      const auto dot = bare.find('.');
      return dot != 0 && dot != std::string::npos && bare.substr(dot) == h.substr(1) ? 2 : 0;
    }
    return bare == h ? 3 : 0;
  };
  int best = -1;
  int best_rank = 0;
  size_t best_length = 0;
  for (size_t i = 0; i < config.routes.size(); ++i) {
    const auto& m = config.routes[i].match;
    const int r = rank(m.host);
    if (r == 0 || !path.starts_with(m.path_prefix)) continue;
    if (r > best_rank || (r == best_rank && m.path_prefix.size() > best_length)) {
      best = static_cast<int>(i);
      best_rank = r;
      best_length = m.path_prefix.size();
    }
  }
  return best;
}

int found(const RouteIndex& index, std::string_view host, std::string_view path) {
  const auto* route = index.find(host, path);
  return route == nullptr ? -1 : static_cast<int>(route->index);
}

struct Case {
  const char* host;
  const char* path;
  int route;
};

TEST(RouteIndex, ExactBeatsWildcardBeatsAnyHostThenLongestPrefix) {
  const auto config = routes_config({
      {"", "/"},                     // 0
      {"*.example.com", "/"},        // 1
      {"shop.example.com", "/"},     // 2
      {"*.example.com", "/api"},     // 3
      {"shop.example.com", "/api/v2"},  // 4
      {"", "/api/v2/long"},          // 5
      {"[::1]", "/"},                // 6
      {"shop.example.com", "/api/v2"},  // 7: same as 4, later: never chosen
  });
  const RouteIndex index(config);
  const Case cases[] = {
      {"shop.example.com", "/", 2},
      {"SHOP.Example.com:8080", "/x", 2},          // case and port ignored
      {"shop.example.com", "/api/v2/x", 4},
      {"shop.example.com", "/api/v1", 2},           // exact host first, even with a shorter prefix
      {"shop.example.com", "/api/v2/long", 4},      // a host route beats a longer host-less one
      {"a.example.com", "/api/x", 3},               // wildcard, longest prefix
      {"a.example.com", "/other", 1},
      {"example.com", "/", 0},                      // `*.` needs one more label
      {"a.b.example.com", "/api", 0},               // and exactly one
      {".example.com", "/", 0},                     // an empty first label is no label
      {"other.org", "/api/v2/long/x", 5},
      {"[::1]:80", "/", 6},
      {"", "/", 0},
      {"", "relative", -1},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(found(index, c.host, c.path), c.route) << c.host << " " << c.path;
    EXPECT_EQ(reference(config, c.host, c.path), c.route) << "reference: " << c.host << " " << c.path;
  }
}

TEST(RouteIndex, NoRouteWithoutACatchAll) {
  const RouteIndex index(routes_config({{"a.example", "/api"}}));
  EXPECT_EQ(found(index, "a.example", "/ap"), -1);
  EXPECT_EQ(found(index, "b.example", "/api"), -1);
  EXPECT_EQ(found(index, std::string(300, 'a'), "/api"), -1);  // longer than any host name
}

TEST(RouteIndex, AgreesWithAPlainScanOnRandomTables) {
  std::mt19937 random(20261206);  // fixed: a failure names its table
  const std::vector<std::string> hosts = {"", "", "a.example.com", "b.example.com", "*.example.com",
                                          "x.a.example.com", "*.a.example.com", "other.org",
                                          "*.org", "[::1]"};
  const std::vector<std::string> segments = {"", "/", "/a", "/ab", "/a/b", "/b", "/a/bc", "/abc/d"};
  const std::vector<std::string> request_hosts = {
      "a.example.com", "B.example.com:80", "c.example.com", "example.com", "x.a.example.com",
      "y.a.example.com", "other.org", "www.org", "org", "[::1]:9", "", "a.example.com."};
  auto pick = [&](const auto& items) { return items[random() % items.size()]; };
  for (int table = 0; table < 300; ++table) {
    std::vector<std::pair<std::string, std::string>> matches;
    const size_t size = 1 + random() % 40;
    for (size_t i = 0; i < size; ++i) matches.emplace_back(pick(hosts), pick(segments));
    const auto config = routes_config(matches);
    const RouteIndex index(config);
    for (int request = 0; request < 50; ++request) {
      const std::string host = pick(request_hosts);
      const std::string path = pick(segments) + pick(segments);
      ASSERT_EQ(found(index, host, path), reference(config, host, path))
          << "table " << table << ", request " << host << " " << path;
    }
  }
}

TEST(PrefixSet, NestedAndSiblingPrefixes) {
  PrefixSet set;
  const char* prefixes[] = {"/a", "/a/b", "/a/b/c", "/a/bd", "/b", "/a/b/c"};
  for (uint32_t i = 0; i < 6; ++i) set.add(prefixes[i], i);
  set.build();
  EXPECT_EQ(set.find("/a/b/c/d"), 2u);
  EXPECT_EQ(set.find("/a/b/cx"), 2u);
  EXPECT_EQ(set.find("/a/bdx"), 3u);
  EXPECT_EQ(set.find("/a/bc"), 1u);  // sorts after /a/b/c, no prefix of it: back to /a/b
  EXPECT_EQ(set.find("/a/c"), 0u);
  EXPECT_EQ(set.find("/c"), PrefixSet::kNone);
  EXPECT_EQ(set.find(""), PrefixSet::kNone);
}

TEST(RouteIndex, WildcardHostsAreValidatedAtLoad) {
  for (const char* host : {"a.*.com", "*example.com", "*", "*.", "**.a.com"}) {
    const std::string yaml = std::string(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, upstream: u, match: {host: ")") + host + "\"}}]\n";
    const auto result = config::load_string(yaml, "test.yaml");
    ASSERT_FALSE(result.errors.empty()) << host;
    EXPECT_NE(result.errors.front().to_string().find("wildcard"), std::string::npos)
        << result.errors.front().to_string();
  }
  const auto ok = config::load_string(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, upstream: u, match: {host: "*.Example.com"}}]
)", "test.yaml");
  EXPECT_TRUE(ok.errors.empty());
}

}  // namespace
}  // namespace vane::rollout
