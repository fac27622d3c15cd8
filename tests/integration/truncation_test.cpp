// A response is complete only when its framing says so (SPEC §3): a body that ends early — a
// close-delimited body ended by a reset, a Content-Length body or a chunked body cut by a close,
// bad chunk framing — is never completed for the client (no terminating chunk, the connection
// closed, whatever status was sent) and counts as a 5xx and an upstream failure (`reset`,
// `protocol`), also for passive ejection. A close-delimited body ended by a clean close is whole.
#include <gtest/gtest.h>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// One worker: with two endpoints its round-robin alternates request by request.
constexpr std::string_view truncation_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - {name: origin, endpoints: ["{{origin}}"], timeout: 5s}
  - {name: pair, endpoints: ["{{a}}", "{{b}}"], timeout: 5s}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: origin}
  - {name: pair, match: {pathPrefix: /pair}, upstream: pair}
)";

constexpr size_t kBody = 10000;  ///< small enough that an RST never overtakes the bytes before it

class TruncationTest : public ::testing::Test {
 protected:
  /// vane_requests_total of route `main` in one code class.
  double requests(std::string_view code_class) const {
    return metric_sum(parse_metrics(scrape(vane_.admin_port())), "vane_requests_total",
                      {{"route", "main"}, {"code_class", std::string(code_class)}});
  }
  double failures(const std::string& upstream, const std::string& kind) const {
    return metric_sum(parse_metrics(scrape(vane_.admin_port())), "vane_upstream_failures_total",
                      {{"upstream", upstream}, {"kind", kind}});
  }

  /// The one request so far was measured as a 5xx and an upstream failure of `kind`, nothing else.
  void expect_counted_as_failure(const std::string& kind) const {
    // A request is recorded as its connection ends: await it.
    EXPECT_TRUE(wait_until([&] { return requests("5xx") == 1; }, 3s))
        << "a cut response must count as code_class=\"5xx\"; 2xx: " << requests("2xx");
    EXPECT_EQ(requests("2xx"), 0) << "a cut response is never a success";
    EXPECT_EQ(failures("origin", kind), 1) << "vane_upstream_failures_total{kind=\"" << kind << "\"}";
  }

  /// What the client must see of a cut response: the status sent, a body short of its end, no
  /// terminating chunk (not complete), and the connection closed.
  static void expect_cut(RawClient& client, const Response& r, bool chunked) {
    EXPECT_EQ(r.status, 200) << "the head went out before the cut";
    EXPECT_EQ(r.chunked, chunked);
    EXPECT_FALSE(r.complete) << "a cut response must not look complete to the client";
    EXPECT_LT(r.body.size(), kBody);
    EXPECT_TRUE(r.peer_closed || client.wait_closed(2s)) << "vane must close the client connection";
  }

  static std::string get(std::string_view query) {
    return request("GET", "/cut?body_bytes=" + std::to_string(kBody) + "&" + std::string(query),
                   "x.test");
  }

  TestUpstream origin_{"origin"}, a_{"a"}, b_{"b"};
  Vane vane_{render(std::string(truncation_yaml),
                    {{"origin", origin_.address()}, {"a", a_.address()}, {"b", b_.address()}})};
};

TEST_F(TruncationTest, CloseDelimitedBodyEndedByAResetIsCut) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("until_close=1&reset_mid=1")));
  const Response r = client.read_response(3s);
  expect_cut(client, r, true);
  EXPECT_EQ(r.body, pattern_body(kBody / 2)) << "the bytes before the reset are relayed";
  expect_counted_as_failure("reset");
}

TEST_F(TruncationTest, CloseDelimitedBodyEndedByAFinIsComplete) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("until_close=1")));
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked) << "an HTTP/1.1 client gets a close-delimited body chunked";
  EXPECT_TRUE(r.complete) << "a clean close ends a close-delimited body";
  EXPECT_EQ(r.body, pattern_body(kBody));
  ASSERT_FALSE(r.peer_closed);
  ASSERT_TRUE(client.send(request("GET", "/again", "x.test")));
  EXPECT_EQ(client.read_response(3s).status, 200) << "the client connection stays usable";
  EXPECT_TRUE(wait_until([&] { return requests("2xx") == 2; }, 3s)) << "2xx: " << requests("2xx");
  EXPECT_EQ(requests("5xx"), 0);
  EXPECT_EQ(failures("origin", "reset") + failures("origin", "protocol"), 0);
}

TEST_F(TruncationTest, ContentLengthBodyCutByAFinIsCut) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("close_mid=1")));
  const Response r = client.read_response(3s);
  expect_cut(client, r, false);
  expect_counted_as_failure("reset");
}

TEST_F(TruncationTest, ChunkedBodyCutBeforeTheLastChunkIsCut) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("chunked=1&close_mid=1")));
  const Response r = client.read_response(3s);
  expect_cut(client, r, true);
  expect_counted_as_failure("reset");
}

TEST_F(TruncationTest, ChunkedBodyWithBadFramingIsCutAsAProtocolFailure) {
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("chunked=1&bad_chunk=1")));
  const Response r = client.read_response(3s);
  expect_cut(client, r, true);
  EXPECT_EQ(r.body, pattern_body(kBody / 2)) << "the chunks before the bad one are relayed";
  expect_counted_as_failure("protocol");
}

TEST_F(TruncationTest, ABodyCutBeforeItsFirstByteIsA502) {
  // Nothing had reached the client: it gets an answer, and its connection stays usable.
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(get("close_mid=1&cut_bytes=0")));
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 502);
  EXPECT_TRUE(r.complete);
  EXPECT_FALSE(r.header("X-Upstream")) << "the 502 must come from vane, not the upstream's head";
  ASSERT_TRUE(client.send(request("GET", "/again", "x.test")));
  EXPECT_EQ(client.read_response(3s).status, 200);
  EXPECT_TRUE(wait_until([&] { return requests("5xx") == 1 && requests("2xx") == 1; }, 3s));
  EXPECT_EQ(failures("origin", "reset"), 1);
}

TEST_F(TruncationTest, AnHttp10ClientSeesOnlyTheCloseButTheCutStillCounts) {
  RawClient client(vane_.port());
  const std::string target = "/cut?body_bytes=" + std::to_string(kBody) + "&until_close=1&reset_mid=1";
  ASSERT_TRUE(client.send("GET " + target + " HTTP/1.0\r\nHost: x.test\r\n\r\n"));
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.chunked) << "an HTTP/1.0 client gets a close-delimited body";
  EXPECT_TRUE(r.peer_closed);
  EXPECT_EQ(r.body, pattern_body(kBody / 2)) << "it cannot tell the cut from an end";
  expect_counted_as_failure("reset");
}

TEST_F(TruncationTest, CutResponsesCountTowardsPassiveEjection) {
  // Close-delimited bodies ended by a reset: these once passed as complete, shorter answers.
  ASSERT_EQ(http_get(a_.port(), "/__behave?until_close=1&reset_mid=1", "127.0.0.1").status, 200);
  // Requests alternate between a (cut) and b (whole) until a's fifth cut in a row ejects it.
  int cut_by_a = 0;
  std::optional<double> healthy;
  ASSERT_TRUE(wait_until(
      [&] {
        const Response r = http_get(vane_.port(), "/pair?body_bytes=" + std::to_string(kBody), "x.test");
        if (r.header("X-Upstream") == "a" && !r.complete) ++cut_by_a;
        for (const Sample& s : parse_metrics(scrape(vane_.admin_port()))) {
          const auto it = s.labels.find("address");
          if (s.name == "vane_upstream_endpoint_healthy" && it != s.labels.end() &&
              it->second == a_.address())
            healthy = s.value;
        }
        return healthy == 0.0;
      },
      10s))
      << "a was not ejected after " << cut_by_a << " cut responses";
  EXPECT_GE(cut_by_a, 5) << "ejected before 5 failures";
  for (int i = 0; i < 10; ++i) {
    const Response r = http_get(vane_.port(), "/pair?body_bytes=" + std::to_string(kBody), "x.test");
    EXPECT_TRUE(r.complete && r.header("X-Upstream") == "b") << "request " << i << " after the ejection";
  }
}

}  // namespace
}  // namespace vane::it
