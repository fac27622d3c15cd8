// Upstream failures (SPEC §3): 502 for connect failure, reset and malformed responses; a close
// mid-body reaches the client as a closed connection; 504 past `timeout`; 503 when the pool is
// exhausted past connectTimeout or no endpoint is healthy.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

// One worker, so maxConnectionsPerEndpoint is one pool whatever vane does per worker.
constexpr std::string_view failures_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - {name: ok, endpoints: ["{{ok}}"], connectTimeout: 300ms, timeout: 500ms}
  - {name: dead, endpoints: ["127.0.0.1:{{dead_port}}"], connectTimeout: 300ms}
  - name: narrow
    endpoints: ["{{narrow}}"]
    maxConnectionsPerEndpoint: 1
    connectTimeout: 300ms
    timeout: 5s
  - name: sick
    endpoints: ["{{sick}}"]
    healthCheck:
      {path: /healthz, interval: 100ms, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 1}
routes:
  - {name: ok, match: {pathPrefix: /ok}, upstream: ok}
  - {name: dead, match: {pathPrefix: /dead}, upstream: dead}
  - {name: narrow, match: {pathPrefix: /narrow}, upstream: narrow}
  - {name: sick, match: {pathPrefix: /sick}, upstream: sick}
)";

Millis since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

class UpstreamFailureTest : public ::testing::Test {
 protected:
  TestUpstream ok_{"ok"}, narrow_{"narrow"}, sick_{"sick", 503};
  Vane vane_{render(std::string(failures_yaml), {{"ok", ok_.address()},
                                                 {"dead_port", std::to_string(unused_port())},
                                                 {"narrow", narrow_.address()},
                                                 {"sick", sick_.address()}})};
};

TEST_F(UpstreamFailureTest, ConnectRefusedIs502) {
  const auto start = Clock::now();
  const Response r = http_get(vane_.port(), "/dead", "x.test");
  EXPECT_EQ(r.status, 502);
  EXPECT_LT(since(start), 2s);
}

TEST_F(UpstreamFailureTest, UpstreamResetIs502) {
  EXPECT_EQ(http_get(vane_.port(), "/ok?reset=1", "x.test").status, 502);
}

TEST_F(UpstreamFailureTest, MalformedResponseIs502) {
  EXPECT_EQ(http_get(vane_.port(), "/ok?garbage=1", "x.test").status, 502);
}

TEST_F(UpstreamFailureTest, CloseMidBodyClosesTheClientConnection) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(request("GET", "/ok?close_mid=1&body_bytes=100000", "x.test")));
  const Response r = client.read_response(3s);
  if (r.status == 502) return;  // allowed when vane had sent nothing yet
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete) << "a truncated body must not look complete to the client";
  EXPECT_LT(r.body.size(), 100000U);
  EXPECT_TRUE(r.peer_closed || client.wait_closed(2s)) << "vane must close the client connection";
}

TEST_F(UpstreamFailureTest, SlowUpstreamIs504AfterTimeout) {
  const auto start = Clock::now();
  const Response r = http_get(vane_.port(), "/ok?delay_ms=3000", "x.test");
  EXPECT_EQ(r.status, 504);
  EXPECT_GE(since(start), 400ms) << "timed out before `timeout: 500ms`";
  EXPECT_LE(since(start), 2000ms);
  EXPECT_EQ(http_get(vane_.port(), "/ok/after", "x.test").status, 200) << "next request fails";
}

TEST_F(UpstreamFailureTest, FailuresDoNotBreakTheClientConnection) {
  RawClient client(vane_.port());
  for (const char* target : {"/ok?garbage=1", "/ok?reset=1", "/dead", "/ok/fine"}) {
    ASSERT_TRUE(client.send(request("GET", target, "x.test"))) << target;
    const Response r = client.read_response(3s);
    EXPECT_EQ(r.status, std::string_view(target) == "/ok/fine" ? 200 : 502) << target;
    ASSERT_FALSE(r.peer_closed) << "a 502 answer need not end the client connection: " << target;
  }
}

TEST_F(UpstreamFailureTest, ExhaustedPoolIs503AfterConnectTimeout) {
  RawClient slow(vane_.port());
  ASSERT_TRUE(slow.send(request("GET", "/narrow/slow?delay_ms=1500", "x.test")));
  ASSERT_TRUE(wait_until([&] { return narrow_.stats().active == 1; }, 3s))
      << "slow request not in flight";
  const auto start = Clock::now();
  const Response r = http_get(vane_.port(), "/narrow/second", "x.test", 5s);
  EXPECT_EQ(r.status, 503);
  EXPECT_GE(since(start), 200ms) << "did not wait for connectTimeout (300ms)";
  EXPECT_LE(since(start), 1200ms) << "waited longer than connectTimeout (300ms)";
  EXPECT_EQ(slow.read_response(5s).status, 200) << "the request holding the connection fails";
  EXPECT_EQ(narrow_.stats().connections, 1U) << "maxConnectionsPerEndpoint: 1 exceeded";
}

TEST_F(UpstreamFailureTest, BusyPoolQueuesWithinConnectTimeout) {
  RawClient first(vane_.port());
  ASSERT_TRUE(first.send(request("GET", "/narrow/first?delay_ms=100", "x.test")));
  ASSERT_TRUE(wait_until([&] { return narrow_.stats().active == 1; }, 3s));
  const Response second = http_get(vane_.port(), "/narrow/second", "x.test");
  EXPECT_EQ(second.status, 200) << "should have waited for the busy connection";
  EXPECT_EQ(first.read_response().status, 200);
  const UpstreamStats stats = narrow_.stats();
  EXPECT_EQ(stats.requests, 2U);
  EXPECT_EQ(stats.connections, 1U);
}

// Active health checks arrive with issue #3; this test is enabled there.
TEST_F(UpstreamFailureTest, DISABLED_NoHealthyEndpointIs503) {
  // /healthz answers 503 on `sick`: once probed (at start, every 100ms) it has no healthy endpoint.
  Response r;
  EXPECT_TRUE(wait_until(
      [&] {
        r = http_get(vane_.port(), "/sick", "x.test");
        return r.status == 503;
      },
      3s))
      << "last status " << r.status;
  EXPECT_FALSE(r.header("X-Upstream")) << "the 503 must come from vane, not the upstream";
}

}  // namespace
}  // namespace vane::it
