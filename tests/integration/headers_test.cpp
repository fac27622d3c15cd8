// Header handling on the way to the upstream (SPEC §3): X-Forwarded-For appended,
// X-Forwarded-Proto set, X-Request-Id kept when valid else a new UUID v4 (echoed on the response),
// Host kept, hop-by-hop fields (and those named in Connection) removed. The echo upstream shows
// what arrived.
#include <gtest/gtest.h>

#include <regex>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view headers_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: echo, endpoints: ["{{echo}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: echo}
)";

bool is_uuid_v4(const std::string& text) {
  static const std::regex uuid(
      "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}");
  return std::regex_match(text, uuid);
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class HeadersTest : public ::testing::Test {
 protected:
  /// Sends one GET with `extra` header lines; returns the response and what the upstream saw.
  std::pair<Response, Echo> exchange(std::string_view extra, std::string_view host = "app.test") {
    RawClient client(vane_.port());
    EXPECT_TRUE(client.send(request("GET", "/h?echo=1", host, extra)));
    Response r = client.read_response();
    EXPECT_EQ(r.status, 200);
    auto echo = parse_echo(r.body);
    EXPECT_TRUE(echo) << "not an echo: " << r.body;
    return {r, echo.value_or(Echo{})};
  }

  TestUpstream echo_{"echo"};
  Vane vane_{render(std::string(headers_yaml), {{"echo", echo_.address()}})};
};

TEST_F(HeadersTest, ForwardingHeadersAndHopByHopRemoval) {
  const auto [r, echo] = exchange(
      "X-Forwarded-For: 203.0.113.7\r\n"
      "X-Request-Id: abc-123.x:Y9\r\n"
      "Connection: keep-alive, X-Drop-Me\r\n"
      "X-Drop-Me: 1\r\n"
      "Keep-Alive: timeout=5\r\n"
      "TE: trailers\r\n"
      "Upgrade: websocket\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "X-Keep: yes\r\n",
      "app.test:8080");
  EXPECT_EQ(joined(echo.values("X-Forwarded-For")), "203.0.113.7, 127.0.0.1");
  EXPECT_EQ(echo.values("X-Forwarded-Proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(echo.values("X-Request-Id"), std::vector<std::string>{"abc-123.x:Y9"});
  EXPECT_EQ(r.header("X-Request-Id").value_or("(none)"), "abc-123.x:Y9");
  EXPECT_EQ(echo.values("Host"), std::vector<std::string>{"app.test:8080"});
  EXPECT_EQ(echo.values("X-Keep"), std::vector<std::string>{"yes"});
  for (const char* gone : {"X-Drop-Me", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection"})
    EXPECT_TRUE(echo.values(gone).empty()) << gone << " reached the upstream";
  for (const auto& value : echo.values("Connection")) {  // vane's own Connection may remain
    EXPECT_EQ(lower(value).find("x-drop-me"), std::string::npos) << value;
    EXPECT_EQ(lower(value).find("upgrade"), std::string::npos) << value;
  }
}

TEST_F(HeadersTest, ForwardedForStartsWithTheClient) {
  const auto [r, echo] = exchange("");
  EXPECT_EQ(joined(echo.values("X-Forwarded-For")), "127.0.0.1");
  EXPECT_EQ(echo.values("X-Forwarded-Proto"), std::vector<std::string>{"http"});
}

TEST_F(HeadersTest, ClientForwardedProtoIsReplaced) {
  const auto [r, echo] = exchange("X-Forwarded-Proto: https\r\n");
  EXPECT_EQ(echo.values("X-Forwarded-Proto"), std::vector<std::string>{"http"});
}

TEST_F(HeadersTest, LongestValidRequestIdIsKept) {
  const std::string id = std::string(119, 'A') + "z9._:-Q_7";  // 128 characters, every class
  ASSERT_EQ(id.size(), 128U);
  const auto [r, echo] = exchange("X-Request-Id: " + id + "\r\n");
  EXPECT_EQ(echo.values("X-Request-Id"), std::vector<std::string>{id});
  EXPECT_EQ(r.header("X-Request-Id").value_or("(none)"), id);
}

TEST_F(HeadersTest, InvalidOrMissingRequestIdIsReplacedByUuidV4) {
  const std::string invalid[] = {"has space",           "semi;colon",  "slash/", "plus+",
                                 std::string(129, 'a'), "caf\xC3\xA9", ""};
  for (const auto& id : invalid) {
    SCOPED_TRACE("X-Request-Id: '" + id + "'");
    const auto [r, echo] = exchange("X-Request-Id: " + id + "\r\n");
    const std::string sent = r.header("X-Request-Id").value_or("(none)");
    EXPECT_TRUE(is_uuid_v4(sent)) << sent;
    EXPECT_EQ(echo.values("X-Request-Id"), std::vector<std::string>{sent});
  }
  const auto [first, first_echo] = exchange("");
  const auto [second, second_echo] = exchange("");
  const std::string a = first.header("X-Request-Id").value_or("(none)");
  const std::string b = second.header("X-Request-Id").value_or("(none)");
  EXPECT_TRUE(is_uuid_v4(a)) << a;
  EXPECT_TRUE(is_uuid_v4(b)) << b;
  EXPECT_NE(a, b) << "each request needs its own id";
  EXPECT_EQ(first_echo.values("X-Request-Id"), std::vector<std::string>{a});
}

TEST_F(HeadersTest, UpgradeH2cIsDroppedAndTheRequestServed) {
  const auto [r, echo] = exchange(
      "Connection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\n"
      "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n");
  EXPECT_EQ(r.status, 200) << "no 101: the upgrade is refused by dropping it";
  EXPECT_FALSE(r.header("Upgrade"));
  EXPECT_TRUE(echo.values("Upgrade").empty());
  EXPECT_TRUE(echo.values("HTTP2-Settings").empty());
  EXPECT_EQ(echo.method, "GET");
}

}  // namespace
}  // namespace vane::it
