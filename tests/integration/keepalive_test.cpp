// Keep-alive on both sides (SPEC §3): many requests over one client connection, upstream
// connections reused (proved by the upstream's own counts), round-robin over endpoints, and
// pipelined requests answered in order. A close by either peer is noticed however it arrives
// (with the last request or answer, or on its own): vane reads a socket only when its reactor
// says there is something to read (proxy/net/readiness.hpp), so a missed close would show here.
#include <gtest/gtest.h>

#include <map>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view keepalive_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: single, endpoints: ["{{single}}"]}
  - {name: pair, endpoints: ["{{left}}", "{{right}}"]}
routes:
  - {name: rr, match: {pathPrefix: /rr}, upstream: pair}
  - {name: main, match: {pathPrefix: /}, upstream: single}
)";

class KeepAliveTest : public ::testing::Test {
 protected:
  TestUpstream single_{"single"}, left_{"left"}, right_{"right"};
  Vane vane_{render(
      std::string(keepalive_yaml),
      {{"single", single_.address()}, {"left", left_.address()}, {"right", right_.address()}})};

  /// Sends `n` GETs of `path` one after the other on one connection; counts X-Upstream values.
  std::map<std::string, int> sequential(RawClient& client, std::string_view path, int n) {
    std::map<std::string, int> seen;
    for (int i = 0; i < n; ++i) {
      const std::string target = std::string(path) + "?i=" + std::to_string(i);
      if (!client.send(request("GET", target, "x.test"))) {
        ADD_FAILURE() << "send failed at request " << i;
        break;
      }
      const Response r = client.read_response();
      if (r.status != 200 || !r.complete || r.peer_closed) {
        ADD_FAILURE() << "request " << i << ": status " << r.status << ", complete " << r.complete
                      << ", closed " << r.peer_closed;
        break;
      }
      ++seen[r.header("X-Upstream").value_or("(none)")];
    }
    return seen;
  }
};

TEST_F(KeepAliveTest, ManyRequestsOnOneConnectionReuseUpstreamConnections) {
  const UpstreamStats before = single_.stats();
  RawClient client(vane_.port());
  const auto seen = sequential(client, "/seq", 100);
  EXPECT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen.count("single") ? seen.at("single") : 0, 100);
  const UpstreamStats after = single_.stats();
  EXPECT_EQ(after.requests - before.requests, 100U);
  EXPECT_LE(after.connections - before.connections, 5U)
      << "100 requests should reuse a few upstream connections, not open one each";
}

TEST_F(KeepAliveTest, ClientConnectionCloseStillReusesUpstreamConnections) {
  const UpstreamStats before = single_.stats();
  for (int i = 0; i < 20; ++i) {
    RawClient client(vane_.port());
    ASSERT_TRUE(client.send(request("GET", "/close", "x.test", "Connection: close\r\n")));
    const Response r = client.read_response();
    ASSERT_EQ(r.status, 200) << "request " << i;
    EXPECT_TRUE(client.wait_closed(2s)) << "vane must close after Connection: close";
  }
  const UpstreamStats after = single_.stats();
  EXPECT_EQ(after.requests - before.requests, 20U);
  EXPECT_LE(after.connections - before.connections, 4U)
      << "the client's Connection: close is hop-by-hop: upstream connections stay pooled";
}

TEST_F(KeepAliveTest, Http10IsAnsweredThenClosed) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send("GET /old HTTP/1.0\r\n\r\n"));
  const Response r = client.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Upstream").value_or("(none)"), "single");
  EXPECT_TRUE(r.peer_closed || client.wait_closed(2s)) << "HTTP/1.0 without keep-alive";
}

TEST_F(KeepAliveTest, RoundRobinOverOneConnection) {
  RawClient client(vane_.port());
  const auto seen = sequential(client, "/rr", 100);
  const int left = seen.count("left") ? seen.at("left") : 0;
  const int right = seen.count("right") ? seen.at("right") : 0;
  EXPECT_EQ(left + right, 100);
  EXPECT_GE(left, 40);
  EXPECT_GE(right, 40);
}

TEST_F(KeepAliveTest, RoundRobinOverManyConnections) {
  std::map<std::string, int> seen;
  for (int i = 0; i < 40; ++i) {
    const Response r = http_get(vane_.port(), "/rr/" + std::to_string(i), "x.test");
    ASSERT_EQ(r.status, 200) << "request " << i;
    ++seen[r.header("X-Upstream").value_or("(none)")];
  }
  EXPECT_EQ(seen["left"] + seen["right"], 40);
  EXPECT_GE(seen["left"], 14);
  EXPECT_GE(seen["right"], 14);
}

TEST_F(KeepAliveTest, PipelinedRequestsAnsweredInOrder) {
  RawClient client(vane_.port());
  // The first is the slowest: answers must still come back in request order.
  ASSERT_TRUE(client.send(request("GET", "/p1?delay_ms=200", "x.test") +
                          request("GET", "/p2", "x.test") +
                          request("GET", "/p3?delay_ms=50", "x.test")));
  const char* expected[] = {"single GET /p1?delay_ms=200\n", "single GET /p2\n",
                            "single GET /p3?delay_ms=50\n"};
  for (const char* body : expected) {
    const Response r = client.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, body);
  }
  EXPECT_FALSE(client.wait_closed(100ms)) << "the connection should stay open";
}

TEST_F(KeepAliveTest, ClientCloseIsNoticedWithOrAfterItsRequests) {
  // The FIN behind the requests, in the same read: both answered, then closed at once (well
  // before idleTimeout).
  {
    RawClient client(vane_.port());
    ASSERT_TRUE(client.send(request("GET", "/a", "x.test") + request("GET", "/b", "x.test")));
    client.shutdown_send();
    for (const char* body : {"single GET /a\n", "single GET /b\n"}) {
      const Response r = client.read_response();
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.body, body);
    }
    EXPECT_TRUE(client.wait_closed(5s)) << "the client's FIN came with its requests";
  }
  // The FIN on its own, once the connection is idle.
  {
    RawClient client(vane_.port());
    ASSERT_TRUE(client.send(request("GET", "/c", "x.test")));
    EXPECT_EQ(client.read_response().status, 200);
    client.shutdown_send();
    EXPECT_TRUE(client.wait_closed(5s)) << "the client's FIN came on an idle connection";
  }
}

TEST_F(KeepAliveTest, UpstreamCloseAfterAnAnswerIsNoticedBeforeReuse) {
  // The upstream closes each connection right after answering (an idle close, without
  // `Connection: close`). Once that close has arrived, the connection must not be reused: a POST
  // is never retried, so one sent into it would be a 502.
  RawClient client(vane_.port());
  for (uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(client.send(request("GET", "/closing?close_after=1", "x.test")));
    ASSERT_EQ(client.read_response().status, 200) << "round " << i;
    ASSERT_TRUE(wait_until([&] { return single_.stats().closed == i; }, 5s)) << "round " << i;
    const std::string post = request("POST", "/after", "x.test", "Content-Length: 5\r\n") + "hello";
    ASSERT_TRUE(client.send(post));
    const Response r = client.read_response();
    ASSERT_EQ(r.status, 200) << "round " << i << ": the closed connection was reused";
    EXPECT_EQ(r.body, "single POST /after\n");
  }
}

}  // namespace
}  // namespace vane::it
