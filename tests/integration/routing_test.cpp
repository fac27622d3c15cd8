// Routing (SPEC §3): a route whose host matches (case-insensitively, port ignored) beats a route
// without host, then the longest plain-string path prefix wins; no match gets 404.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view routing_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: a, endpoints: ["{{a}}"]}
  - {name: b, endpoints: ["{{b}}"]}
  - {name: c, endpoints: ["{{c}}"]}
  - {name: d, endpoints: ["{{d}}"]}
routes:
  - {name: api, match: {pathPrefix: /api}, upstream: a}
  - {name: api-long, match: {pathPrefix: /api/long}, upstream: b}
  - {name: shop, match: {host: shop.example.com, pathPrefix: /}, upstream: c}
  - {name: shop-v2, match: {host: shop.example.com, pathPrefix: /api/v2}, upstream: d}
  - {name: other-only, match: {host: other.example.com, pathPrefix: /only}, upstream: b}
)";

class RoutingTest : public ::testing::Test {
 protected:
  TestUpstream a_{"a"}, b_{"b"}, c_{"c"}, d_{"d"};
  Vane vane_{
      render(std::string(routing_yaml),
             {{"a", a_.address()}, {"b", b_.address()}, {"c", c_.address()}, {"d", d_.address()}})};
};

struct RouteCase {
  std::string_view host;
  std::string_view target;
  std::string_view upstream;  ///< empty: no route, 404
};

void expect_routed(uint16_t port, const RouteCase& c, const Response& r) {
  SCOPED_TRACE("Host: " + std::string(c.host) + ", target " + std::string(c.target) + " on port " +
               std::to_string(port));
  if (c.upstream.empty()) {
    EXPECT_EQ(r.status, 404);
    EXPECT_FALSE(r.header("X-Upstream")) << "answered by upstream " << *r.header("X-Upstream");
    EXPECT_GT(r.body.size(), 0U) << "404 without a body";
    EXPECT_LE(r.body.size(), 512U) << "404 body should be short";
    return;
  }
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Upstream").value_or("(none)"), c.upstream);
}

TEST_F(RoutingTest, HostThenLongestPrefix) {
  const RouteCase cases[] = {
      {"x.test", "/api/items", "a"},
      {"x.test", "/api/long/x", "b"},
      {"x.test", "/api/lon", "a"},
      {"x.test", "/apiary", "a"},                  // plain string prefix, not path segments
      {"shop.example.com", "/api/items", "c"},     // host route beats host-less /api
      {"shop.example.com", "/api/long/x", "c"},    // ... even a longer host-less prefix
      {"shop.example.com", "/api/v2/items", "d"},  // longest prefix among the host's routes
      {"SHOP.Example.COM", "/api/v2", "d"},        // host case-insensitive
      {"shop.example.com:8080", "/api/v2x", "d"},  // port ignored
      {"Shop.Example.Com:1", "/api/v", "c"},
      {"other.example.com", "/only/1", "b"},
      {"other.example.com", "/api/z", "a"},  // its host route's prefix does not match: host-less
      {"other.example.com", "/elsewhere", ""},
      {"x.test", "/", ""},
      {"x.test", "/foo", ""},
  };
  for (const auto& c : cases)
    expect_routed(vane_.port(), c, http_get(vane_.port(), c.target, c.host));
}

TEST_F(RoutingTest, AbsoluteFormTargetRoutesByItsAuthority) {
  RawClient client(vane_.port());
  ASSERT_TRUE(
      client.send("GET http://shop.example.com/api/v2/x HTTP/1.1\r\n"
                  "Host: shop.example.com\r\n\r\n"));
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Upstream").value_or("(none)"), "d");
}

TEST_F(RoutingTest, NotFoundKeepsServingTheConnection) {
  RawClient client(vane_.port());
  ASSERT_TRUE(
      client.send(request("GET", "/nowhere", "x.test") + request("GET", "/api/1", "x.test")));
  const Response miss = client.read_response();
  EXPECT_EQ(miss.status, 404);
  EXPECT_TRUE(miss.complete) << "a 404 must be framed (Content-Length or chunked)";
  const Response hit = client.read_response();
  EXPECT_EQ(hit.status, 200) << "the connection should survive a 404";
  EXPECT_EQ(hit.header("X-Upstream").value_or("(none)"), "a");
}

}  // namespace
}  // namespace vane::it
