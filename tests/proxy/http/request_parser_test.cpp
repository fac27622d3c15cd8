// parse_request on accepted requests: what it extracts, pipelining, reuse, partial data and limits.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

struct Result {
  ParseStatus status;
  ParseError err;
};

Result parse(std::string_view data, RequestHead& head, const Limits& limits = Limits{}) {
  ParseError err;
  const ParseStatus status = parse_request(data, limits, head, err);
  return {status, err};
}

const Field* find(const RequestHead& head, std::string_view name) {
  for (const Field& f : head.fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

const std::string kBrowserGet =
    "GET /products/42?ref=home&lang=en HTTP/1.1\r\n"
    "Host: shop.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=abc123; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";

const std::string kPostLength =
    "POST /api/items HTTP/1.1\r\nHost: api.example.com:8080\r\nContent-Type: application/json\r\n"
    "Content-Length: 13\r\n\r\n";

const std::string kPostChunked =
    "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \r\nExpect: 100-continue\r\n"
    "\r\n";

const std::string kAbsolute =
    "\r\nGET HTTP://Example.COM:8080/a/b?x=1 HTTP/1.1\r\nhost: example.com:8080\r\n\r\n";

TEST(ParseRequest, BrowserGet) {
  RequestHead head;
  const Result r = parse(kBrowserGet, head);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.err.reason;
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/products/42?ref=home&lang=en");
  EXPECT_EQ(head.path, "/products/42?ref=home&lang=en");
  EXPECT_EQ(head.host, "shop.example.com");
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.framing, Framing::None);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_FALSE(head.upgrade);
  EXPECT_EQ(head.head_bytes, kBrowserGet.size());
  ASSERT_EQ(head.fields.size(), 8U);
  EXPECT_EQ(head.fields[0].name, "Host");
  EXPECT_EQ(head.fields[0].kind, FieldKind::Host);
  EXPECT_EQ(head.fields[4].value, "gzip, deflate, br");
  EXPECT_EQ(head.fields[5].kind, FieldKind::HopByHop);  // Connection
  EXPECT_EQ(head.fields[7].name, "Upgrade-Insecure-Requests");
  EXPECT_EQ(head.fields[7].kind, FieldKind::Other);
}

TEST(ParseRequest, PostWithContentLength) {
  RequestHead head;
  ASSERT_EQ(parse(kPostLength, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.framing, Framing::Length);
  EXPECT_EQ(head.content_length, 13U);
  EXPECT_EQ(head.host, "api.example.com:8080");
  EXPECT_EQ(find(head, "content-length")->kind, FieldKind::ContentLength);
}

TEST(ParseRequest, ContentLengthEdgeValues) {
  for (const auto& [value, expected] : std::vector<std::pair<std::string, uint64_t>>{
           {"0", 0}, {"007", 7}, {"9223372036854775807", 9223372036854775807ULL}}) {
    const std::string req = "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + "\r\n\r\n";
    RequestHead head;
    ASSERT_EQ(parse(req, head).status, ParseStatus::Complete) << value;
    EXPECT_EQ(head.framing, Framing::Length);
    EXPECT_EQ(head.content_length, expected);
  }
}

TEST(ParseRequest, ChunkedWithOwsAndExpect) {
  RequestHead head;
  ASSERT_EQ(parse(kPostChunked, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.framing, Framing::Chunked);
  EXPECT_TRUE(head.expect_continue);
  EXPECT_EQ(find(head, "transfer-encoding")->value, "chunked");
  EXPECT_EQ(find(head, "transfer-encoding")->kind, FieldKind::TransferEncoding);
  EXPECT_EQ(find(head, "expect")->kind, FieldKind::Expect);
}

TEST(ParseRequest, ChunkedIsCaseInsensitive) {
  RequestHead head;
  const std::string req = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n";
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.framing, Framing::Chunked);
}

TEST(ParseRequest, AbsoluteFormWithLeadingEmptyLine) {
  RequestHead head;
  ASSERT_EQ(parse(kAbsolute, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.target, "HTTP://Example.COM:8080/a/b?x=1");
  EXPECT_EQ(head.path, "/a/b?x=1");
  EXPECT_EQ(head.host, "example.com:8080");
  EXPECT_EQ(head.head_bytes, kAbsolute.size());
}

TEST(ParseRequest, AbsoluteFormWithoutPath) {
  RequestHead head;
  const std::string req = "GET https://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n";
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.path, "/");
  EXPECT_EQ(head.host, "a.example");
}

// RFC 9112 §3.2.2: a server MUST accept the absolute-form; path-abempty may be empty before a
// query (RFC 3986 §3), and the origin-form forwarded then starts with "/".
TEST(ParseRequest, AbsoluteFormWithAQueryAndNoPath) {
  struct Case {
    std::string request_line, host_field, path, host;
  };
  const std::vector<Case> cases = {
      {"GET http://a.example?q=1 HTTP/1.1", "Host: a.example\r\n", "/?q=1", "a.example"},
      {"GET HTTPS://a.example:8443? HTTP/1.1", "Host: a.example:8443\r\n", "/?", "a.example:8443"},
      {"GET http://a.example?a/b?c HTTP/1.1", "Host: a.example\r\n", "/?a/b?c", "a.example"},
      {"GET http://b.example:81?x HTTP/1.0", "", "/?x", "b.example:81"},  // Host from the target
  };
  for (const Case& c : cases) {
    const std::string req = c.request_line + "\r\n" + c.host_field + "\r\n";
    RequestHead head;
    const Result r = parse(req, head);
    ASSERT_EQ(r.status, ParseStatus::Complete) << c.request_line << ": " << r.err.reason;
    EXPECT_EQ(head.path, c.path) << c.request_line;
    EXPECT_EQ(head.host, c.host) << c.request_line;
    EXPECT_EQ(head.target, c.request_line.substr(4, c.request_line.rfind(' ') - 4));  // as sent
  }
}

TEST(ParseRequest, BuiltPathIsRebuiltForEachRequestAndKeepsItsStorage) {
  const std::string long_query(64, 'q');
  const std::string first = "GET http://a?" + long_query + " HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET http://a?z HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parse(first, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.path, "/?" + long_query);
  const char* storage = head.built_path.data();
  ASSERT_EQ(parse(kBrowserGet, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.path, "/products/42?ref=home&lang=en");  // a view into the request, not stale
  EXPECT_GE(head.path.data(), kBrowserGet.data());
  EXPECT_LT(head.path.data(), kBrowserGet.data() + kBrowserGet.size());
  ASSERT_EQ(parse(second, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.path, "/?z");
  EXPECT_EQ(head.built_path.data(), storage);  // no allocation for the next such request
}

TEST(ParseRequest, AbsoluteFormHttp10TakesHostFromAuthority) {
  RequestHead head;
  const std::string req = "GET http://[::1]:8080/x HTTP/1.0\r\n\r\n";
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.host, "[::1]:8080");
  EXPECT_EQ(head.path, "/x");
}

TEST(ParseRequest, OptionsAsterisk) {
  RequestHead head;
  const std::string req = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.method, "OPTIONS");
  EXPECT_EQ(head.path, "*");
}

TEST(ParseRequest, ExtensionMethodAndValidHosts) {
  for (const char* host : {"a", "A.B-c_d~e", "10.0.0.1:80", "[2001:db8::1]", "[::ffff:1.2.3.4]:443",
                           "xn--bcher-kva.example", "a%41b", "a!$&'()*+,;=b"}) {
    const std::string req = "PURGE /x HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    RequestHead head;
    ASSERT_EQ(parse(req, head).status, ParseStatus::Complete) << host;
    EXPECT_EQ(head.host, host);
    EXPECT_EQ(head.method, "PURGE");
  }
}

TEST(ParseRequest, Http10DefaultsAndKeepAlive) {
  struct Case {
    std::string fields;
    int minor;
    bool keep_alive;
  };
  const std::vector<Case> cases = {
      {"", 0, false},
      {"Connection: keep-alive\r\n", 0, true},
      {"Connection: Keep-Alive\r\n", 0, true},
      {"Connection: keep-alive, close\r\n", 0, false},
      {"Connection: x-foo\r\n", 0, false},
      {"", 1, true},
      {"Connection: close\r\n", 1, false},
      {"Connection: CLOSE\r\n", 1, false},
      {"Connection: x-a, , close\r\n", 1, false},
      {"Connection: keep-alive\r\n", 1, true},
      {"Connection: upgrade\r\nConnection: close\r\n", 1, false},
  };
  for (const Case& c : cases) {
    const std::string req =
        "GET / HTTP/1." + std::to_string(c.minor) + "\r\nHost: a\r\n" + c.fields + "\r\n";
    RequestHead head;
    ASSERT_EQ(parse(req, head).status, ParseStatus::Complete) << req;
    EXPECT_EQ(head.minor_version, c.minor) << req;
    EXPECT_EQ(head.keep_alive, c.keep_alive) << req;
  }
}

TEST(ParseRequest, Http10WithoutHostAndExpectIgnored) {
  RequestHead head;
  const std::string req = "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.host, "");
  EXPECT_FALSE(head.expect_continue);
  EXPECT_EQ(head.framing, Framing::Length);
}

TEST(ParseRequest, FieldKinds) {
  const std::string req =
      "GET / HTTP/1.1\r\nHOST: a\r\nkeep-alive: timeout=5\r\nProxy-Connection: x\r\n"
      "te: trailers\r\nTrailer: X\r\nUPGRADE: h2c\r\nconnection: Upgrade\r\n"
      "X-Forwarded-For: 1.2.3.4\r\nx-forwarded-proto: http\r\nX-Request-ID: abc\r\n"
      "Expect: 100-Continue\r\nX-Other: 1\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  const std::vector<FieldKind> expected = {
      FieldKind::Host,          FieldKind::HopByHop,        FieldKind::HopByHop,
      FieldKind::HopByHop,      FieldKind::HopByHop,        FieldKind::HopByHop,
      FieldKind::HopByHop,      FieldKind::XForwardedFor,   FieldKind::XForwardedProto,
      FieldKind::XRequestId,    FieldKind::Expect,          FieldKind::Other};
  ASSERT_EQ(head.fields.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(head.fields[i].kind, expected[i]) << head.fields[i].name;
  }
  EXPECT_TRUE(head.upgrade);
  EXPECT_TRUE(head.expect_continue);
}

// '_' is a tchar: only names that read as Content-Length or Transfer-Encoding once '_' is read
// as '-' are refused (request_rejection_test); every other one is an ordinary field.
TEST(ParseRequest, OtherFieldNamesWithUnderscoresAreKept) {
  const std::string req =
      "POST / HTTP/1.1\r\nHost: a\r\nX_Custom: 1\r\nContent_Type: text/plain\r\n"
      "X_Forwarded_Proto: https\r\nContent_Lengths: 2\r\nContent-Length_: 3\r\n"
      "Transfer__Encoding: chunked\r\n_: 4\r\nContent-Length: 5\r\n\r\n";
  RequestHead head;
  const Result r = parse(req, head);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.err.reason;
  ASSERT_EQ(head.fields.size(), 9U);
  for (size_t i = 1; i + 1 < head.fields.size(); ++i) {
    EXPECT_EQ(head.fields[i].kind, FieldKind::Other) << head.fields[i].name;
  }
  EXPECT_EQ(find(head, "content_type")->value, "text/plain");
  EXPECT_EQ(head.framing, Framing::Length);
  EXPECT_EQ(head.content_length, 5U);
}

TEST(ParseRequest, ConnectionNamedFieldsBecomeHopByHop) {
  // Connection comes after the fields it names; the framing fields keep their own kinds.
  const std::string req =
      "POST / HTTP/1.1\r\nX-Secret: 1\r\nHost: a\r\nX-Keep: 2\r\nx-forwarded-for: 3\r\n"
      "Content-Length: 0\r\nConnection: x-secret , X-Forwarded-For\r\n"
      "Connection: host, content-length, transfer-encoding\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(find(head, "x-secret")->kind, FieldKind::HopByHop);
  EXPECT_EQ(find(head, "x-keep")->kind, FieldKind::Other);
  EXPECT_EQ(find(head, "x-forwarded-for")->kind, FieldKind::HopByHop);
  EXPECT_EQ(find(head, "host")->kind, FieldKind::Host);
  EXPECT_EQ(find(head, "content-length")->kind, FieldKind::ContentLength);
  EXPECT_EQ(head.host, "a");
  EXPECT_TRUE(head.keep_alive);

  const std::string chunked =
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Connection: Transfer-Encoding, close\r\n\r\n";
  ASSERT_EQ(parse(chunked, head).status, ParseStatus::Complete);
  EXPECT_EQ(find(head, "transfer-encoding")->kind, FieldKind::TransferEncoding);
  EXPECT_EQ(head.framing, Framing::Chunked);
  EXPECT_FALSE(head.keep_alive);
}

TEST(ParseRequest, ValuesAreTrimmedAndMayHoldObsText) {
  const std::string req =
      "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t two  words \t\r\nX-Empty:\r\nX-Blank:  \r\n"
      "X-Utf8: caf\xc3\xa9\r\nX-Tab: a\tb\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parse(req, head).status, ParseStatus::Complete);
  EXPECT_EQ(find(head, "host")->value, "a");
  EXPECT_EQ(find(head, "x-a")->value, "two  words");
  EXPECT_EQ(find(head, "x-empty")->value, "");
  EXPECT_EQ(find(head, "x-blank")->value, "");
  EXPECT_EQ(find(head, "x-utf8")->value, "caf\xc3\xa9");
  EXPECT_EQ(find(head, "x-tab")->value, "a\tb");
}

TEST(ParseRequest, PipelinedRequests) {
  const std::string body = "{\"name\":\"x\"}!";
  const std::string wire = kPostLength + body + kBrowserGet + kPostChunked;
  RequestHead head;
  ASSERT_EQ(parse(wire, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.head_bytes, kPostLength.size());
  ASSERT_EQ(head.content_length, body.size());
  size_t at = head.head_bytes + head.content_length;
  ASSERT_EQ(parse(std::string_view(wire).substr(at), head).status, ParseStatus::Complete);
  EXPECT_EQ(head.host, "shop.example.com");
  EXPECT_EQ(head.framing, Framing::None);  // reset from the previous request
  EXPECT_EQ(head.fields.size(), 8U);       // cleared, not appended to
  at += head.head_bytes;
  ASSERT_EQ(parse(std::string_view(wire).substr(at), head).status, ParseStatus::Complete);
  EXPECT_EQ(head.framing, Framing::Chunked);
  EXPECT_EQ(at + head.head_bytes, wire.size());
}

TEST(ParseRequest, ReusesFieldCapacity) {
  RequestHead head;
  ASSERT_EQ(parse(kBrowserGet, head).status, ParseStatus::Complete);
  const Field* storage = head.fields.data();
  const size_t capacity = head.fields.capacity();
  ASSERT_EQ(parse(kBrowserGet, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.fields.data(), storage);
  EXPECT_EQ(head.fields.capacity(), capacity);
}

TEST(ParseRequest, EveryPrefixOfAValidRequestIsIncomplete) {
  for (const std::string& req : {kBrowserGet, kPostLength, kPostChunked, kAbsolute}) {
    for (size_t n = 0; n < req.size(); ++n) {
      RequestHead head;
      const Result r = parse(std::string_view(req).substr(0, n), head);
      ASSERT_EQ(r.status, ParseStatus::Incomplete) << "prefix " << n << ": " << r.err.reason;
    }
    RequestHead head;
    EXPECT_EQ(parse(req, head).status, ParseStatus::Complete);
  }
}

TEST(ParseRequest, BytesAfterTheHeadDoNotMatter) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string wire = kBrowserGet;
    const size_t extra = rng() % 64;
    for (size_t j = 0; j < extra; ++j) wire.push_back(static_cast<char>(rng() & 0xff));
    RequestHead head;
    ASSERT_EQ(parse(wire, head).status, ParseStatus::Complete);
    EXPECT_EQ(head.head_bytes, kBrowserGet.size());
  }
}

// http::Random single-byte corruptions never crash the parser and never produce a head whose views
// escape the input (checked under ASan/UBSan).
TEST(ParseRequest, SurvivesCorruptedInput) {
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string wire = kBrowserGet;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) wire[rng() % wire.size()] = static_cast<char>(rng() & 0xff);
    wire.resize(rng() % (wire.size() + 1));
    RequestHead head;
    const Result r = parse(wire, head);
    if (r.status == ParseStatus::Complete) {
      EXPECT_LE(head.head_bytes, wire.size());
      for (const Field& f : head.fields) {
        EXPECT_GE(f.name.data(), wire.data());
        EXPECT_LE(f.value.data() + f.value.size(), wire.data() + wire.size());
      }
    } else if (r.status == ParseStatus::Error) {
      EXPECT_TRUE(r.err.status == 400 || r.err.status == 414 || r.err.status == 417 ||
                  r.err.status == 431 || r.err.status == 501 || r.err.status == 505)
          << r.err.status;
    }
  }
}

// RFC 6455 §4.1: only a GET over HTTP/1.1 with both the upgrade option and the websocket
// protocol is a WebSocket handshake (SPEC §10); anything else is a plain request.
TEST(ParseRequest, WebSocketHandshakeIsRecognisedOnlyWhenComplete) {
  struct Case {
    const char* name;
    std::string head;
    bool websocket;
  };
  const std::vector<Case> cases = {
      {"handshake", "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true},
      {"any case, in lists", "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, UPGRADE\r\n"
                             "Upgrade: foo, WebSocket\r\n\r\n", true},
      {"no upgrade option", "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false},
      {"another protocol", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", false},
      {"HTTP/1.0", "GET /ws HTTP/1.0\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false},
      {"POST", "POST /ws HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: Upgrade\r\n"
               "Upgrade: websocket\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    RequestHead head;
    ASSERT_EQ(parse(c.head, head).status, ParseStatus::Complete) << c.name;
    EXPECT_EQ(head.websocket, c.websocket) << c.name;
  }
}

}  // namespace
}  // namespace vane::proxy::http
