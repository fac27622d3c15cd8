// Upstream failures (SPEC §3): 502 for connect failure, reset and malformed responses; a close
// mid-body reaches the client as a closed connection; 504 past `timeout`; 503 when the pool is
// exhausted past connectTimeout or no endpoint is healthy; retries on another endpoint, for
// idempotent methods only.
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

TEST_F(UpstreamFailureTest, NoHealthyEndpointIs503) {
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

// Endpoint 0 refuses connections, endpoint 1 serves. One worker: its round-robin starts at 0.
constexpr std::string_view retry_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - name: svc
    endpoints: ["127.0.0.1:{{dead_port}}", "{{live}}"]
    connectTimeout: 300ms
    retries: {attempts: 1, on: [connect-failure]}
routes:
  - {name: svc, match: {pathPrefix: /}, upstream: svc}
)";

class RetryTest : public ::testing::Test {
 protected:
  /// vane_upstream_failures_total{upstream="svc",kind="connect"} (0 when absent).
  double connect_failures() {
    const Response r = http_get(vane_.admin_port(), "/metrics", "127.0.0.1");
    const std::string prefix = "vane_upstream_failures_total{kind=\"connect\",upstream=\"svc\"} ";
    const size_t at = r.body.find(prefix);
    return at == std::string::npos ? 0 : std::stod(r.body.substr(at + prefix.size()));
  }

  TestUpstream live_{"live"};
  Vane vane_{render(std::string(retry_yaml), {{"dead_port", std::to_string(unused_port())},
                                              {"live", live_.address()}})};
};

TEST_F(RetryTest, ConnectFailureIsRetriedOnAnotherEndpoint) {
  for (const char* method : {"GET", "HEAD", "GET", "DELETE", "GET", "PUT", "GET", "OPTIONS"}) {
    RawClient client(vane_.port());
    const std::string extra = std::string(method) == "PUT" ? "Content-Length: 0\r\n" : "";
    ASSERT_TRUE(client.send(request(method, "/r", "x.test", extra + "Connection: close\r\n")));
    const Response r = client.read_response(5s, std::string_view(method) == "HEAD");
    EXPECT_EQ(r.status, 200) << method;
    EXPECT_EQ(r.header("X-Upstream").value_or("(vane)"), "live") << method;
  }
  EXPECT_GE(connect_failures(), 1) << "the dead endpoint was never tried: nothing was retried";
  EXPECT_EQ(live_.stats().requests, 8U) << "each request reaches the live endpoint once";
}

TEST_F(RetryTest, PostIsNeverRetried) {
  // Round-robin: of four POSTs two go to the dead endpoint first (four failures: too few to eject).
  int refused = 0, served = 0;
  for (int i = 0; i < 4; ++i) {
    RawClient client(vane_.port());
    const std::string body = i % 2 == 0 ? "hello" : "";
    const std::string extra =
        "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
    ASSERT_TRUE(client.send(request("POST", "/p", "x.test", extra) + body));
    const Response r = client.read_response(5s);
    if (r.status == 502) ++refused;
    if (r.status == 200) ++served;
    EXPECT_TRUE(r.status == 200 || r.status == 502) << "POST " << i << ": " << r.status;
  }
  EXPECT_EQ(refused, 2) << "a POST that failed to connect must be answered 502, not retried";
  EXPECT_EQ(served, 2);
  EXPECT_EQ(live_.stats().requests, 2U) << "a failed POST reached the other endpoint";
  EXPECT_EQ(connect_failures(), 2);
}

}  // namespace
}  // namespace vane::it
