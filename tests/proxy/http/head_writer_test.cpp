// http::write_request_head / http::client_framing / http::write_response_head (SPEC §3 header hygiene), on heads
// parsed from raw bytes by the real parsers.
#include "proxy/http/head_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http/parser.hpp"

namespace vane::proxy {
namespace {

constexpr http::ForwardInfo kInfo{"192.0.2.7", "http", "req-1", "default.example"};

/// A written head split into its start line and field lines.
struct Written {
  std::string start_line;
  std::vector<std::pair<std::string, std::string>> fields;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : fields) {
      if (http::iequals(n, name)) out.push_back(v);
    }
    return out;
  }
  size_t count(std::string_view name) const { return values(name).size(); }
  /// The only value of `name`; "<absent>" or "<N times>" otherwise, so a mismatch reads well.
  std::string value(std::string_view name) const {
    const auto all = values(name);
    if (all.empty()) return "<absent>";
    if (all.size() > 1) return "<" + std::to_string(all.size()) + " times>";
    return all.front();
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& field : fields) out.push_back(field.first);
    return out;
  }
};

/// Splits `out`, checking the shape every head must have: CRLF lines, `name: value`, one final
/// empty line at the very end.
Written split(std::string_view out) {
  Written w;
  EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
  EXPECT_EQ(out.find("\r\n\r\n"), out.size() - 4) << out;
  size_t pos = 0;
  bool first = true;
  while (pos < out.size()) {
    const size_t end = out.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    const std::string_view line = out.substr(pos, end - pos);
    pos = end + 2;
    if (first) {
      w.start_line = line;
      first = false;
      continue;
    }
    const size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string_view::npos) << line;
    if (colon == std::string_view::npos) continue;
    w.fields.emplace_back(line.substr(0, colon), line.substr(colon + 2));
  }
  return w;
}

/// Parses `raw` as a request head and writes the head to forward.
std::string forward(std::string_view raw, const http::ForwardInfo& info = kInfo) {
  http::RequestHead head;
  http::ParseError err;
  const auto status = http::parse_request(raw, http::Limits{}, head, err);
  EXPECT_EQ(status, http::ParseStatus::Complete) << err.reason << "\n" << raw;
  std::string out = "stale bytes from a previous request";
  http::write_request_head(head, info, out);
  return out;
}

// ---- request ------------------------------------------------------------------------------------

TEST(WriteRequestHead, ExactHeadForASimpleGet) {
  EXPECT_EQ(forward("GET /a?b=1 HTTP/1.1\r\nHost: shop.example.com\r\nAccept: */*\r\n\r\n"),
            "GET /a?b=1 HTTP/1.1\r\n"
            "Host: shop.example.com\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-Id: req-1\r\n"
            "\r\n");
}

TEST(WriteRequestHead, EndToEndFieldsKeepTheirOrderNamesAndValues) {
  const Written w = split(forward(
      "POST /p HTTP/1.1\r\nUser-Agent: t/1\r\nhost: h\r\nCookie: a=1\r\ncookie: b=2\r\n"
      "Accept:   text/html  \r\nContent-Length: 0\r\n\r\n"));
  const std::vector<std::string> expected = {"User-Agent", "host", "Cookie", "cookie", "Accept"};
  const auto names = w.names();
  ASSERT_GE(names.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 5), expected);
  EXPECT_EQ(w.values("cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(w.value("Accept"), "text/html");  // OWS trimmed by the parser
}

struct HopCase {
  const char* what;
  std::string fields;                ///< field lines of a GET to /, Host: h included
  std::vector<std::string> dropped;  ///< names that must not be forwarded
  std::vector<std::string> kept;     ///< names that must be forwarded
};

class HopByHop : public ::testing::TestWithParam<HopCase> {};

TEST_P(HopByHop, AreRemoved) {
  const HopCase& c = GetParam();
  SCOPED_TRACE(c.what);
  const std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\n" + c.fields + "\r\n");
  const Written w = split(out);
  for (const auto& name : c.dropped) EXPECT_EQ(w.count(name), 0u) << name << " in\n" << out;
  for (const auto& name : c.kept) EXPECT_EQ(w.count(name), 1u) << name << " in\n" << out;
  EXPECT_EQ(w.value("Host"), "h");
}

INSTANTIATE_TEST_SUITE_P(
    WriteRequestHead, HopByHop,
    ::testing::Values(
        HopCase{"Connection keep-alive", "Connection: keep-alive\r\n", {"Connection"}, {}},
        HopCase{"Connection close (upstream side stays keep-alive)", "Connection: close\r\n",
                {"Connection"}, {}},
        HopCase{"Keep-Alive", "Keep-Alive: timeout=5, max=100\r\n", {"Keep-Alive"}, {}},
        HopCase{"TE", "TE: trailers\r\n", {"TE"}, {}},
        HopCase{"Trailer", "Trailer: Expires\r\n", {"Trailer"}, {}},
        HopCase{"Upgrade", "Connection: Upgrade\r\nUpgrade: h2c\r\n", {"Connection", "Upgrade"},
                {}},
        HopCase{"Upgrade without Connection", "Upgrade: websocket\r\n", {"Upgrade"}, {}},
        HopCase{"Proxy-Connection", "Proxy-Connection: keep-alive\r\n", {"Proxy-Connection"}, {}},
        HopCase{"names in any case", "CONNECTION: close\r\nkeep-alive: 1\r\nte: trailers\r\n"
                                     "UPGRADE: h2c\r\nproxy-connection: close\r\n",
                {"Connection", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection"}, {}},
        HopCase{"a field named in Connection",
                "Connection: keep-alive, X-Secret\r\nX-Secret: 1\r\nX-Public: 2\r\n",
                {"Connection", "X-Secret"}, {"X-Public"}},
        HopCase{"named in Connection in another case, before the Connection field",
                "x-secret: 1\r\nConnection: X-SECRET\r\nX-Other: 3\r\n",
                {"Connection", "x-secret"}, {"X-Other"}},
        HopCase{"named across two Connection fields",
                "Connection: A-One\r\nConnection: B-Two\r\nA-One: 1\r\nB-Two: 2\r\nC-Three: 3\r\n",
                {"Connection", "A-One", "B-Two"}, {"C-Three"}},
        HopCase{"named with extra list whitespace",
                "Connection: ,  X-A ,X-B\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n",
                {"Connection", "X-A", "X-B"}, {"X-C"}},
        HopCase{"Expect is answered by the proxy", "Expect: 100-continue\r\nContent-Length: 1\r\n",
                {"Expect"}, {"Content-Length"}}));

TEST(WriteRequestHead, ConnectionCannotStripTheFieldsTheProxyRegenerates) {
  const Written w = split(forward(
      "POST / HTTP/1.1\r\nHost: h\r\nConnection: Host, Content-Length\r\nContent-Length: 3\r\n\r\n"));
  EXPECT_EQ(w.value("Host"), "h");
  EXPECT_EQ(w.value("Content-Length"), "3");
  EXPECT_EQ(w.count("Connection"), 0u);
}

TEST(WriteRequestHead, ForwardedForNamedInConnectionIsDroppedButTheClientIsStillAdded) {
  const Written w = split(forward(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For\r\n"
      "X-Forwarded-For: 10.9.9.9\r\n\r\n"));
  EXPECT_EQ(w.value("X-Forwarded-For"), "192.0.2.7");
}

struct XffCase {
  const char* what;
  std::string fields;
  std::string expected;  ///< the one X-Forwarded-For value sent upstream
};

class ForwardedFor : public ::testing::TestWithParam<XffCase> {};

TEST_P(ForwardedFor, AppendsTheClientAddressInOneField) {
  const XffCase& c = GetParam();
  SCOPED_TRACE(c.what);
  const std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\n" + c.fields + "\r\n");
  const Written w = split(out);
  EXPECT_EQ(w.count("X-Forwarded-For"), 1u) << out;
  EXPECT_EQ(w.value("X-Forwarded-For"), c.expected) << out;
}

INSTANTIATE_TEST_SUITE_P(
    WriteRequestHead, ForwardedFor,
    ::testing::Values(
        XffCase{"none", "", "192.0.2.7"},
        XffCase{"one", "X-Forwarded-For: 10.0.0.1\r\n", "10.0.0.1, 192.0.2.7"},
        XffCase{"one, lower-case name", "x-forwarded-for: 10.0.0.1\r\n", "10.0.0.1, 192.0.2.7"},
        XffCase{"one with a list", "X-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n",
                "10.0.0.1, 10.0.0.2, 192.0.2.7"},
        XffCase{"two fields joined in order",
                "X-Forwarded-For: 10.0.0.1\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.2\r\n",
                "10.0.0.1, 10.0.0.2, 192.0.2.7"},
        XffCase{"three fields", "X-Forwarded-For: a\r\nX-Forwarded-For: b\r\nX-Forwarded-For: c\r\n",
                "a, b, c, 192.0.2.7"},
        XffCase{"two fields with the same value",
                "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.1\r\n",
                "10.0.0.1, 10.0.0.1, 192.0.2.7"},
        XffCase{"IPv6 client", "X-Forwarded-For: 2001:db8::1\r\n", "2001:db8::1, 192.0.2.7"}));

TEST(WriteRequestHead, IPv6ClientAddressIsAppendedAsGiven) {
  http::ForwardInfo info = kInfo;
  info.client_address = "2001:db8::7";
  const Written w = split(forward("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: a\r\n\r\n", info));
  EXPECT_EQ(w.value("X-Forwarded-For"), "a, 2001:db8::7");
}

// An empty X-Forwarded-For field (`X-Forwarded-For:` with no value) is legal on the wire. It must
// still yield exactly one X-Forwarded-For field that ends with the client's address.
TEST(WriteRequestHead, EmptyForwardedForStillYieldsOneField) {
  const struct {
    const char* what;
    std::string fields;
  } cases[] = {
      {"empty only", "X-Forwarded-For:\r\n"},
      {"empty then a value", "X-Forwarded-For:\r\nX-Forwarded-For: 10.0.0.1\r\n"},
      {"a value then empty", "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: \r\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\n" + c.fields + "\r\n");
    const Written w = split(out);
    EXPECT_EQ(w.count("X-Forwarded-For"), 1u) << out;
    for (const auto& v : w.values("X-Forwarded-For")) {
      EXPECT_TRUE(v.ends_with("192.0.2.7")) << v;
      EXPECT_EQ(v.find("192.0.2.7"), v.size() - 9) << "client address repeated: " << v;
    }
  }
}

TEST(WriteRequestHead, ForwardedProtoIsReplaced) {
  for (const std::string_view proto : {"http", "https"}) {
    http::ForwardInfo info = kInfo;
    info.proto = proto;
    const std::string out = forward(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: ftp\r\nx-forwarded-proto: gopher\r\n\r\n",
        info);
    const Written w = split(out);
    EXPECT_EQ(w.count("X-Forwarded-Proto"), 1u) << out;
    EXPECT_EQ(w.value("X-Forwarded-Proto"), proto) << out;
  }
}

TEST(WriteRequestHead, RequestIdIsReplacedByTheGivenId) {
  http::ForwardInfo info = kInfo;
  info.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  const struct {
    const char* what;
    std::string fields;
  } cases[] = {
      {"none", ""},
      {"valid client id", "X-Request-Id: client-chosen.1\r\n"},
      {"invalid client id", "X-Request-Id: bad id!\r\n"},
      {"two client ids", "x-request-id: a\r\nX-REQUEST-ID: b\r\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\n" + c.fields + "\r\n", info);
    const Written w = split(out);
    EXPECT_EQ(w.count("X-Request-Id"), 1u) << out;
    EXPECT_EQ(w.value("X-Request-Id"), info.request_id) << out;
  }
}

TEST(WriteRequestHead, HostIsKeptAsSent) {
  const Written w = split(forward("GET / HTTP/1.1\r\nHost: Shop.Example.com:8080\r\n\r\n"));
  EXPECT_EQ(w.value("Host"), "Shop.Example.com:8080");
}

TEST(WriteRequestHead, Http10WithoutHostGetsTheDefaultHost) {
  const std::string out = forward("GET /x HTTP/1.0\r\nAccept: */*\r\n\r\n");
  const Written w = split(out);
  EXPECT_EQ(w.start_line, "GET /x HTTP/1.1");
  EXPECT_EQ(w.value("Host"), "default.example") << out;
}

TEST(WriteRequestHead, Http10WithHostKeepsIt) {
  const Written w = split(forward("GET /x HTTP/1.0\r\nHost: given.example\r\n\r\n"));
  EXPECT_EQ(w.value("Host"), "given.example");
}

TEST(WriteRequestHead, Http10AbsoluteFormWithoutHostUsesTheTargetAuthority) {
  const Written w = split(forward("GET http://target.example:81/a HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(w.start_line, "GET /a HTTP/1.1");
  EXPECT_EQ(w.value("Host"), "target.example:81");
}

TEST(WriteRequestHead, UnderscoreNamesAreForwardedAsSent) {
  const Written w = split(
      forward("GET / HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\nX_Forwarded_Proto: ftp\r\n\r\n"));
  EXPECT_EQ(w.value("X_Custom"), "1");
  EXPECT_EQ(w.value("X_Forwarded_Proto"), "ftp");
  EXPECT_EQ(w.value("X-Forwarded-Proto"), "http");
}

struct LineCase {
  std::string request_line;
  std::string host_field;  ///< "" for none
  std::string expected;
};

class RequestLine : public ::testing::TestWithParam<LineCase> {};

TEST_P(RequestLine, IsHttp11WithTheOriginFormPath) {
  const LineCase& c = GetParam();
  const std::string raw = c.request_line + "\r\n" + c.host_field + "\r\n";
  EXPECT_EQ(split(forward(raw)).start_line, c.expected) << raw;
}

INSTANTIATE_TEST_SUITE_P(
    WriteRequestHead, RequestLine,
    ::testing::Values(
        LineCase{"GET / HTTP/1.1", "Host: h\r\n", "GET / HTTP/1.1"},
        LineCase{"GET /a/b?c=d&e HTTP/1.0", "", "GET /a/b?c=d&e HTTP/1.1"},
        LineCase{"PATCH /x HTTP/1.1", "Host: h\r\n", "PATCH /x HTTP/1.1"},
        LineCase{"GET http://example.com/a/b?x=1 HTTP/1.1", "Host: example.com\r\n",
                 "GET /a/b?x=1 HTTP/1.1"},
        LineCase{"GET HTTPS://Example.COM:8443/p HTTP/1.1", "Host: example.com:8443\r\n",
                 "GET /p HTTP/1.1"},
        LineCase{"GET http://example.com HTTP/1.1", "Host: example.com\r\n", "GET / HTTP/1.1"},
        LineCase{"GET http://example.com?q=1 HTTP/1.1", "Host: example.com\r\n",
                 "GET /?q=1 HTTP/1.1"},
        LineCase{"HEAD https://example.com:8443? HTTP/1.0", "", "HEAD /? HTTP/1.1"},
        LineCase{"DELETE http://example.com/r HTTP/1.0", "", "DELETE /r HTTP/1.1"},
        LineCase{"OPTIONS * HTTP/1.1", "Host: h\r\n", "OPTIONS * HTTP/1.1"}));

TEST(WriteRequestHead, ContentLengthIsRegenerated) {
  const std::string out =
      forward("POST /u HTTP/1.1\r\nHost: h\r\ncontent-length:   0013 \r\n\r\n");
  const Written w = split(out);
  EXPECT_EQ(w.count("Content-Length"), 1u) << out;
  EXPECT_EQ(w.value("Content-Length"), "13") << out;
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
}

TEST(WriteRequestHead, LargeContentLengthIsWrittenInFull) {
  const Written w = split(
      forward("PUT /u HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n"));
  EXPECT_EQ(w.value("Content-Length"), "9223372036854775807");
}

TEST(WriteRequestHead, ZeroContentLengthIsKept) {
  const Written w = split(forward("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(w.value("Content-Length"), "0");
}

TEST(WriteRequestHead, ChunkedIsRegenerated) {
  const std::string out =
      forward("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  Chunked \r\n\r\n");
  const Written w = split(out);
  EXPECT_EQ(w.count("Transfer-Encoding"), 1u) << out;
  EXPECT_EQ(w.value("Transfer-Encoding"), "chunked") << out;
  EXPECT_EQ(w.count("Content-Length"), 0u) << out;
}

TEST(WriteRequestHead, NoBodyNoFramingFields) {
  const std::string out = forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  const Written w = split(out);
  EXPECT_EQ(w.count("Content-Length"), 0u) << out;
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
}

TEST(WriteRequestHead, UpstreamSideIsAlwaysKeepAlive) {
  for (const std::string_view raw :
       {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "GET / HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"}) {
    const std::string out = forward(raw);
    const Written w = split(out);
    EXPECT_EQ(w.count("Connection"), 0u) << out;
    EXPECT_TRUE(w.start_line.ends_with(" HTTP/1.1")) << out;
  }
}

TEST(WriteRequestHead, OutIsReplacedNotAppendedTo) {
  const std::string raw_a = "GET /first HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n";
  const std::string raw_b = "GET /second HTTP/1.1\r\nHost: b\r\n\r\n";
  http::RequestHead head;
  http::ParseError err;
  std::string out;
  ASSERT_EQ(http::parse_request(raw_a, http::Limits{}, head, err), http::ParseStatus::Complete);
  http::write_request_head(head, kInfo, out);
  const std::string first = out;
  ASSERT_EQ(http::parse_request(raw_b, http::Limits{}, head, err), http::ParseStatus::Complete);
  http::write_request_head(head, kInfo, out);
  EXPECT_EQ(out.find("X-A"), std::string::npos) << out;
  EXPECT_EQ(out.find("/first"), std::string::npos) << out;
  EXPECT_EQ(split(out).start_line, "GET /second HTTP/1.1");
  EXPECT_EQ(split(first).value("Host"), "a");
}

// ---- response -----------------------------------------------------------------------------------

struct FramingCase {
  const char* what;
  std::string raw;  ///< a response head
  bool head_request;
  http::Framing upstream;
  http::ClientFraming for_10;
  http::ClientFraming for_11;
};

class ClientFramingTest : public ::testing::TestWithParam<FramingCase> {};

TEST_P(ClientFramingTest, DependsOnUpstreamFramingAndClientVersion) {
  const FramingCase& c = GetParam();
  SCOPED_TRACE(c.what);
  http::ResponseHead head;
  http::ParseError err;
  ASSERT_EQ(http::parse_response(c.raw, http::Limits{}, c.head_request, head, err),
            http::ParseStatus::Complete)
      << err.reason;
  ASSERT_EQ(head.framing, c.upstream);
  EXPECT_EQ(http::client_framing(head, 0), c.for_10);
  EXPECT_EQ(http::client_framing(head, 1), c.for_11);
}

INSTANTIATE_TEST_SUITE_P(
    WriteResponseHead, ClientFramingTest,
    ::testing::Values(
        FramingCase{"204: none", "HTTP/1.1 204 No Content\r\n\r\n", false, http::Framing::None,
                    http::ClientFraming::None, http::ClientFraming::None},
        FramingCase{"304 with length: none", "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
                    false, http::Framing::None, http::ClientFraming::None, http::ClientFraming::None},
        FramingCase{"HEAD: none", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true,
                    http::Framing::None, http::ClientFraming::None, http::ClientFraming::None},
        FramingCase{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false,
                    http::Framing::Length, http::ClientFraming::Length, http::ClientFraming::Length},
        FramingCase{"length from HTTP/1.0 upstream", "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n",
                    false, http::Framing::Length, http::ClientFraming::Length, http::ClientFraming::Length},
        FramingCase{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
                    http::Framing::Chunked, http::ClientFraming::Close, http::ClientFraming::Chunked},
        FramingCase{"until close", "HTTP/1.1 200 OK\r\n\r\n", false, http::Framing::UntilClose,
                    http::ClientFraming::Close, http::ClientFraming::Chunked},
        FramingCase{"until close, HTTP/1.0 upstream", "HTTP/1.0 200 OK\r\nServer: s\r\n\r\n",
                    false, http::Framing::UntilClose, http::ClientFraming::Close,
                    http::ClientFraming::Chunked}));

/// Parses `raw` as a response head and writes the head for the client.
std::string respond(std::string_view raw, int client_minor, bool keep_alive,
                    std::string_view request_id = "req-1", bool head_request = false) {
  http::ResponseHead head;
  http::ParseError err;
  const auto status = http::parse_response(raw, http::Limits{}, head_request, head, err);
  EXPECT_EQ(status, http::ParseStatus::Complete) << err.reason << "\n" << raw;
  std::string out = "stale";
  http::write_response_head(head, http::client_framing(head, client_minor), request_id, keep_alive,
                      client_minor, out);
  return out;
}

TEST(WriteResponseHead, ExactHeadForALengthResponse) {
  EXPECT_EQ(respond("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n", 1,
                    true),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "X-Request-Id: req-1\r\n"
            "Content-Length: 5\r\n"
            "\r\n");
}

TEST(WriteResponseHead, KeepsEndToEndFieldsInOrder) {
  const std::string out = respond(
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\n"
      "Cache-Control: no-store\r\nset-cookie: b=2\r\nLocation: /items/1\r\nContent-Length: 2\r\n\r\n",
      1, true);
  const Written w = split(out);
  EXPECT_EQ(w.start_line, "HTTP/1.1 201 Created");
  const std::vector<std::string> expected = {"Content-Type", "Set-Cookie", "Cache-Control",
                                             "set-cookie", "Location"};
  const auto names = w.names();
  ASSERT_GE(names.size(), expected.size()) << out;
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 5), expected) << out;
  EXPECT_EQ(w.values("Set-Cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(w.value("Location"), "/items/1");
}

TEST(WriteResponseHead, DropsHopByHopFields) {
  const std::string out = respond(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Connection: keep-alive\r\nTrailer: Expires\r\nUpgrade: h2c\r\nX-Hop: 1\r\n"
      "X-End: 2\r\nContent-Length: 0\r\n\r\n",
      1, true);
  const Written w = split(out);
  for (const char* name :
       {"Connection", "Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade", "X-Hop"}) {
    EXPECT_EQ(w.count(name), 0u) << name << " in\n" << out;
  }
  EXPECT_EQ(w.value("X-End"), "2") << out;
}

// Requests with such names are refused; an upstream's are its own business and pass as before.
TEST(WriteResponseHead, KeepsUnderscoreFramingLookalikes) {
  const Written w = split(respond(
      "HTTP/1.1 200 OK\r\nContent_Length: 9\r\nTransfer_Encoding: gzip\r\n"
      "Content-Length: 0\r\n\r\n",
      1, true));
  EXPECT_EQ(w.value("Content_Length"), "9");
  EXPECT_EQ(w.value("Transfer_Encoding"), "gzip");
  EXPECT_EQ(w.value("Content-Length"), "0");
}

TEST(WriteResponseHead, RequestIdIsAddedAndReplacesTheUpstreamOne) {
  for (const std::string_view raw :
       {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-Request-Id: upstream-made\r\nContent-Length: 0\r\n\r\n"}) {
    const std::string out = respond(raw, 1, true, "the-id");
    const Written w = split(out);
    EXPECT_EQ(w.count("X-Request-Id"), 1u) << out;
    EXPECT_EQ(w.value("X-Request-Id"), "the-id") << out;
  }
}

TEST(WriteResponseHead, LengthIsRegenerated) {
  const std::string out =
      respond("HTTP/1.1 200 OK\r\nContent-Length: 007\r\ncontent-length: 7\r\n\r\n", 1, true);
  const Written w = split(out);
  EXPECT_EQ(w.count("Content-Length"), 1u) << out;
  EXPECT_EQ(w.value("Content-Length"), "7") << out;
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
}

TEST(WriteResponseHead, ChunkedOrUntilCloseIsRechunkedForHttp11) {
  for (const std::string_view raw : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                     "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n"}) {
    const std::string out = respond(raw, 1, true);
    const Written w = split(out);
    EXPECT_EQ(w.count("Transfer-Encoding"), 1u) << out;
    EXPECT_EQ(w.value("Transfer-Encoding"), "chunked") << out;
    EXPECT_EQ(w.count("Content-Length"), 0u) << out;
  }
}

TEST(WriteResponseHead, ChunkedForHttp10IsSentRawAndClosed) {
  const std::string out =
      respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, false);
  const Written w = split(out);
  EXPECT_EQ(w.start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
  EXPECT_EQ(w.count("Content-Length"), 0u) << out;
  EXPECT_EQ(w.value("Connection"), "close") << out;
}

struct ConnectionCase {
  int client_minor;
  bool keep_alive;
  const char* expected;  ///< the Connection value, or "<absent>"
};

class ResponseConnection : public ::testing::TestWithParam<ConnectionCase> {};

TEST_P(ResponseConnection, DependsOnKeepAliveAndVersion) {
  const ConnectionCase& c = GetParam();
  // The upstream's own Connection field never leaks through.
  const std::string out = respond("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
                                  c.client_minor, c.keep_alive);
  EXPECT_EQ(split(out).value("Connection"), c.expected) << out;
}

INSTANTIATE_TEST_SUITE_P(WriteResponseHead, ResponseConnection,
                         ::testing::Values(ConnectionCase{1, true, "<absent>"},
                                           ConnectionCase{1, false, "close"},
                                           ConnectionCase{0, true, "keep-alive"},
                                           ConnectionCase{0, false, "close"}));

TEST(WriteResponseHead, HeadAnswerKeepsItsContentLength) {
  const std::string out = respond("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n",
                                  1, true, "req-1", /*head_request=*/true);
  const Written w = split(out);
  EXPECT_EQ(w.count("Content-Length"), 1u) << out;
  EXPECT_EQ(w.value("Content-Length"), "1234") << out;
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
  EXPECT_EQ(w.value("ETag"), "\"x\"");
}

TEST(WriteResponseHead, NotModifiedKeepsItsContentLength) {
  const std::string out =
      respond("HTTP/1.1 304 Not Modified\r\nContent-Length: 77\r\n\r\n", 1, true);
  const Written w = split(out);
  EXPECT_EQ(w.start_line, "HTTP/1.1 304 Not Modified");
  EXPECT_EQ(w.count("Content-Length"), 1u) << out;
  EXPECT_EQ(w.value("Content-Length"), "77") << out;
}

// Found by tests/fuzz/response_fuzz: the Content-Length beside a Transfer-Encoding was never
// checked ("0g" here) and reached the client, which then could not parse the head.
TEST(WriteResponseHead, BodilessAnswerDropsAContentLengthThatCameWithTransferEncoding) {
  for (const bool head_request : {false, true}) {
    const std::string_view status = head_request ? "200 OK" : "304 Not Modified";
    const std::string raw = "HTTP/1.1 " + std::string(status) +
                            "\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 0g\r\n"
                            "ETag: \"x\"\r\n\r\n";
    const std::string out = respond(raw, 1, true, "req-1", head_request);
    const Written w = split(out);
    EXPECT_EQ(w.count("Content-Length"), 0u) << out;
    EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
    EXPECT_EQ(w.value("ETag"), "\"x\"") << out;
  }
}

// Found by tests/fuzz/response_fuzz: `chunked, gzip` (close-delimited) was re-chunked as
// `chunked, gzip, chunked`, chunked applied twice (RFC 9112 §6.1), which clients refuse.
TEST(WriteResponseHead, BodyChunkedInsideGoesCloseDelimitedWithItsCodings) {
  const std::string_view raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  http::ResponseHead head;
  http::ParseError err;
  ASSERT_EQ(http::parse_response(raw, http::Limits{}, false, head, err), http::ParseStatus::Complete);
  EXPECT_EQ(http::client_framing(head, 1), http::ClientFraming::Close);
  const std::string out = respond(raw, 1, false);
  const Written w = split(out);
  EXPECT_EQ(w.value("Transfer-Encoding"), "chunked, gzip") << out;
  EXPECT_EQ(w.value("Connection"), "close") << out;
  // Chunked not inside: re-chunked as before, the other codings kept.
  EXPECT_EQ(split(respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 1, true))
                .value("Transfer-Encoding"),
            "gzip, chunked");
}

TEST(WriteResponseHead, NoContentGetsNoFramingField) {
  const std::string out = respond("HTTP/1.1 204 No Content\r\n\r\n", 1, true);
  const Written w = split(out);
  EXPECT_EQ(w.count("Content-Length"), 0u) << out;
  EXPECT_EQ(w.count("Transfer-Encoding"), 0u) << out;
}

TEST(WriteResponseHead, StatusLineIsHttp11WithTheUpstreamReason) {
  EXPECT_EQ(split(respond("HTTP/1.0 200 Fine Thanks\r\nContent-Length: 0\r\n\r\n", 1, true))
                .start_line,
            "HTTP/1.1 200 Fine Thanks");
  // No reason from the upstream: vane's own phrase for a status it knows.
  EXPECT_EQ(split(respond("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 1, true)).start_line,
            "HTTP/1.1 404 Not Found");
  EXPECT_EQ(split(respond("HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", 1, true)).start_line,
            "HTTP/1.1 503 Service Unavailable");
}

TEST(WriteResponseHead, OutIsReplacedNotAppendedTo) {
  http::ResponseHead head;
  http::ParseError err;
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  ASSERT_EQ(http::parse_response(raw, http::Limits{}, false, head, err),
            http::ParseStatus::Complete);
  std::string out;
  http::write_response_head(head, http::ClientFraming::Length, "a", true, 1, out);
  const std::string first = out;
  http::write_response_head(head, http::ClientFraming::Length, "a", true, 1, out);
  EXPECT_EQ(out, first);
}

// ---- WebSocket (SPEC §10) -----------------------------------------------------------------------

TEST(WriteRequestHead, AWebSocketHandshakeKeepsItsUpgrade) {
  const std::string out = forward(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n\r\n");
  EXPECT_EQ(out,
            "GET /chat HTTP/1.1\r\n"
            "Host: a\r\n"
            "Sec-WebSocket-Key: k\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "X-Forwarded-For: 192.0.2.7\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-Id: req-1\r\n"
            "Connection: upgrade\r\n"
            "Upgrade: websocket\r\n"
            "\r\n");
}

TEST(WriteRequestHead, AnyOtherUpgradeIsDropped) {
  const std::string out = forward(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  EXPECT_EQ(out.find("pgrade"), std::string::npos) << out;
}

TEST(WriteResponseHead, ASwitchingProtocolsAnswerUpgradesTheClientConnection) {
  EXPECT_EQ(respond("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: x\r\n\r\n",
                    1, false),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Sec-WebSocket-Accept: x\r\n"
            "X-Request-Id: req-1\r\n"
            "Connection: upgrade\r\n"
            "Upgrade: websocket\r\n"
            "\r\n");
}

}  // namespace
}  // namespace vane::proxy
