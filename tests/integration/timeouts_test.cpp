// The time-based rows of SPEC §3's bad-request table and Expect: 100-continue: 408 + close when
// headers or the body stall, silent close of a silent or idle connection, timed with short limits.
#include <gtest/gtest.h>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view timeouts_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
limits:
  requestHeaderTimeout: 500ms
  requestBodyTimeout: 500ms
  idleTimeout: 1s
upstreams:
  - {name: echo, endpoints: ["{{echo}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: echo}
)";

class TimeoutsTest : public ::testing::Test {
 protected:
  TestUpstream echo_{"echo"};
  Vane vane_{render(std::string(timeouts_yaml), {{"echo", echo_.address()}})};
};

Millis since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

TEST_F(TimeoutsTest, ExpectContinueGetsContinueThenTheResponse) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(
      request("POST", "/e?echo=1", "x.test", "Content-Length: 5\r\nExpect: 100-continue\r\n")));
  const Response interim = client.read_response(3s);
  ASSERT_EQ(interim.status, 100) << "vane must ask for the body";
  ASSERT_TRUE(client.send("hello"));
  const Response r = client.read_response(3s);
  ASSERT_EQ(r.status, 200);
  const auto echo = parse_echo(r.body);
  ASSERT_TRUE(echo) << r.body;
  EXPECT_EQ(echo->body_bytes, 5U);
  EXPECT_EQ(echo->body_fnv, fnv1a("hello"));
}

TEST_F(TimeoutsTest, IncompleteHeadersGet408AndClose) {
  RawClient client(vane_.port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x.te"));
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 408);
  EXPECT_GE(since(start), 400ms) << "answered before requestHeaderTimeout";
  EXPECT_LE(since(start), 2500ms);
  EXPECT_TRUE(r.peer_closed || client.wait_closed(2s));
}

TEST_F(TimeoutsTest, TricklingHeadersStillTimeOut) {
  // requestHeaderTimeout bounds the whole head, not the gap between bytes.
  RawClient client(vane_.port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\n"));
  for (int i = 0; i < 30; ++i) {  // one more field every 100 ms, until vane answers or closes
    const bool closed = client.wait_closed(100ms);
    if (!client.pending().empty() || closed) break;
    if (!client.send("X-T" + std::to_string(i) + ": 1\r\n")) break;
  }
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 408);
  EXPECT_LE(since(start), 2500ms);
}

TEST_F(TimeoutsTest, StalledBodyGets408AndClose) {
  RawClient client(vane_.port());
  ASSERT_TRUE(
      client.send(request("POST", "/s?echo=1", "x.test", "Content-Length: 100\r\n") + "hello"));
  const auto start = Clock::now();
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 408);
  EXPECT_GE(since(start), 400ms) << "answered before requestBodyTimeout";
  EXPECT_LE(since(start), 2500ms);
  EXPECT_TRUE(r.peer_closed || client.wait_closed(2s));
}

TEST_F(TimeoutsTest, SilentConnectionClosedWithoutAnswer) {
  RawClient client(vane_.port());
  const auto start = Clock::now();
  EXPECT_TRUE(client.wait_closed(4s)) << "a connection that sends nothing must be closed";
  EXPECT_TRUE(client.pending().empty()) << "no answer expected, got: " << client.pending();
  EXPECT_GE(since(start), 400ms);
}

TEST_F(TimeoutsTest, IdleKeepAliveConnectionClosedAfterIdleTimeout) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(request("GET", "/i", "x.test")));
  ASSERT_EQ(client.read_response().status, 200);
  const auto start = Clock::now();
  EXPECT_FALSE(client.wait_closed(600ms)) << "closed before idleTimeout (1s)";
  EXPECT_TRUE(client.wait_closed(3s)) << "idle connection not closed";
  EXPECT_TRUE(client.pending().empty()) << "no answer expected, got: " << client.pending();
  EXPECT_GE(since(start), 900ms);
}

TEST_F(TimeoutsTest, ActiveKeepAliveConnectionIsNotCutByIdleTimeout) {
  RawClient client(vane_.port());
  const auto start = Clock::now();
  for (int i = 0; since(start) < 1500ms; ++i) {  // longer than idleTimeout, never idle that long
    ASSERT_TRUE(client.send(request("GET", "/busy?delay_ms=100", "x.test"))) << "request " << i;
    ASSERT_EQ(client.read_response().status, 200) << "request " << i;
  }
}

}  // namespace
}  // namespace vane::it
