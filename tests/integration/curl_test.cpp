// curl as a real client through vane: GET, uploads (curl sends Expect: 100-continue for large
// bodies, and chunked on request), and connection reuse across URLs of one invocation.
#include <gtest/gtest.h>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view curl_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: web, endpoints: ["{{web}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: web}
)";

class CurlTest : public ::testing::Test {
 protected:
  std::string url(std::string_view target) const {
    return "http://127.0.0.1:" + std::to_string(vane_.port()) + std::string(target);
  }

  /// Uploads a pattern body of `size` bytes from a file; returns what the upstream saw.
  std::optional<Echo> upload(uint64_t size, std::vector<std::string> extra) {
    const auto file = dir_.path() / "body.bin";
    write_file(file, pattern_body(static_cast<size_t>(size)));
    std::vector<std::string> args{"--data-binary", "@" + file.string(), "-H",
                                  "Content-Type: application/octet-stream"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url("/upload?echo=1"));
    const CommandResult r = curl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse_echo(r.out);
  }

  TempDir dir_;
  TestUpstream web_{"web"};
  Vane vane_{render(std::string(curl_yaml), {{"web", web_.address()}})};
};

TEST_F(CurlTest, Get) {
  const CommandResult r = curl({"-i", url("/hello")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("HTTP/1.1 200", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("X-Upstream: web"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\r\n\r\nweb GET /hello\n"), std::string::npos) << r.out;
}

TEST_F(CurlTest, PostWithContentLength) {
  const uint64_t size = 3 * 1024 * 1024 + 7;
  const auto echo = upload(size, {});
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->method, "POST");
  EXPECT_EQ(echo->body_bytes, size);
  EXPECT_EQ(echo->body_fnv, pattern_fnv(size));
}

TEST_F(CurlTest, PostChunked) {
  const uint64_t size = 1024 * 1024 + 3;
  const auto echo = upload(size, {"-H", "Transfer-Encoding: chunked"});
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body_bytes, size);
  EXPECT_EQ(echo->body_fnv, pattern_fnv(size));
}

TEST_F(CurlTest, TwoUrlsShareOneConnection) {
  const CommandResult r = curl({"-w", "%{http_code} %{num_connects}\\n", "-o", "/dev/null", "-o",
                                "/dev/null", url("/one"), url("/two")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200 1\n200 0\n") << "the second transfer should reuse the first connection";
}

}  // namespace
}  // namespace vane::it
