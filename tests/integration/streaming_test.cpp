// Bodies are streamed, never held whole (STYLE, SPEC §3): large response and request bodies arrive
// intact (checksum) while vane's peak RSS grows far less than the body size.
#include <gtest/gtest.h>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view streaming_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
limits: {maxRequestBodyBytes: 67108864}
upstreams:
  - {name: big, endpoints: ["{{big}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: big}
)";

constexpr uint64_t mib = 1024 * 1024;

class StreamingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Warm up both directions so that first-use costs (code pages, pools) are not counted.
    RawClient client(vane_.port());
    ASSERT_TRUE(client.send(request("POST", "/warm?echo=1", "x.test", "Content-Length: 5\r\n") +
                            "hello" + request("GET", "/warm?body_bytes=100000", "x.test")));
    ASSERT_EQ(client.read_response().status, 200);
    ASSERT_EQ(client.read_response().status, 200);
    rss_before_kib_ = proc_status_kib(vane_.pid(), "VmRSS");
    ASSERT_GT(rss_before_kib_, 0U) << "cannot read /proc/" << vane_.pid() << "/status";
    reset_peak_rss(vane_.pid());
  }

  /// Peak RSS since SetUp minus the RSS at SetUp, in MiB.
  double peak_growth_mib() const {
    const uint64_t peak = proc_status_kib(vane_.pid(), "VmHWM");
    return peak > rss_before_kib_ ? static_cast<double>(peak - rss_before_kib_) / 1024.0 : 0.0;
  }

  /// Sends a `size`-byte pattern body to the echo endpoint and checks what the upstream got.
  void upload(uint64_t size, bool chunked) {
    RawClient client(vane_.port());
    const std::string framing = chunked ? "Transfer-Encoding: chunked\r\n"
                                        : "Content-Length: " + std::to_string(size) + "\r\n";
    ASSERT_TRUE(client.send(request("POST", "/up?echo=1", "x.test", framing)));
    ASSERT_TRUE(client.send_pattern(size, chunked ? 100'003 : 65'536, chunked, 60s));
    const Response r = client.read_response(30s);
    ASSERT_EQ(r.status, 200);
    const auto echo = parse_echo(r.body);
    ASSERT_TRUE(echo) << r.body;
    EXPECT_EQ(echo->body_bytes, size);
    EXPECT_EQ(echo->body_fnv, pattern_fnv(size)) << "the body changed on the way";
  }

  TestUpstream big_{"big"};
  Vane vane_{render(std::string(streaming_yaml), {{"big", big_.address()}})};
  uint64_t rss_before_kib_ = 0;
};

TEST_F(StreamingTest, FiftyMebibyteResponseArrivesIntactWithoutBuffering) {
  const uint64_t size = 50 * mib;
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(request("GET", "/big?body_bytes=" + std::to_string(size), "x.test")));
  const Response r = client.read_response(60s);
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), size);
  EXPECT_EQ(fnv1a(r.body), pattern_fnv(size)) << "the body changed on the way";
  EXPECT_LT(peak_growth_mib(), 40.0) << "vane's RSS grew as if it held the body";
}

TEST_F(StreamingTest, ChunkedResponseArrivesIntact) {
  const uint64_t size = 8 * mib + 17;
  RawClient client(vane_.port());
  ASSERT_TRUE(
      client.send(request("GET", "/c?chunked=1&body_bytes=" + std::to_string(size), "x.test")));
  const Response r = client.read_response(30s);
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.complete);
  EXPECT_EQ(r.body.size(), size);
  EXPECT_EQ(fnv1a(r.body), pattern_fnv(size));
}

TEST_F(StreamingTest, TwentyMebibyteRequestWithContentLength) {
  upload(20 * mib, false);
  EXPECT_LT(peak_growth_mib(), 12.0) << "vane's RSS grew as if it held the request body";
}

TEST_F(StreamingTest, TwentyMebibyteChunkedRequest) {
  upload(20 * mib, true);
  EXPECT_LT(peak_growth_mib(), 12.0) << "vane's RSS grew as if it held the request body";
}

}  // namespace
}  // namespace vane::it
