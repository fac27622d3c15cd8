// parse_request limits: 414 for the request line, 431 for the header section and field count,
// decided on complete and on partial data alike.
#include <gtest/gtest.h>

#include <string>

#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

struct Result {
  ParseStatus status;
  int code;
};

Result parse(std::string_view data, const Limits& limits) {
  RequestHead head;
  ParseError err;
  err.status = 0;
  const ParseStatus status = parse_request(data, limits, head, err);
  return {status, status == ParseStatus::Error ? err.status : 0};
}

Limits line_limit(uint32_t bytes) {
  Limits limits;
  limits.max_line_bytes = bytes;
  return limits;
}

Limits header_limit(uint32_t bytes) {
  Limits limits;
  limits.max_header_bytes = bytes;
  return limits;
}

// A request line of exactly `length` bytes (CRLF excluded).
std::string request_line(size_t length) {
  return "GET /" + std::string(length - 14, 'a') + " HTTP/1.1";
}

TEST(RequestLimits, RequestLineAtTheLimitIsAccepted) {
  const std::string req = request_line(32) + "\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parse(req, line_limit(32)).status, ParseStatus::Complete);
}

TEST(RequestLimits, RequestLineOverTheLimitIs414) {
  const std::string req = request_line(33) + "\r\nHost: a\r\n\r\n";
  const Result r = parse(req, line_limit(32));
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.code, 414);
}

TEST(RequestLimits, RequestLineOverTheLimitIs414OnPartialData) {
  const std::string endless = request_line(500);
  const Limits limits = line_limit(32);
  // max+2 bytes without CRLF cannot be a request line within the limit.
  EXPECT_EQ(parse(std::string_view(endless).substr(0, 34), limits).code, 414);
  EXPECT_EQ(parse(endless, limits).code, 414);
  // Up to max bytes, or max bytes and a CR, it still might be.
  EXPECT_EQ(parse(std::string_view(endless).substr(0, 32), limits).status,
            ParseStatus::Incomplete);
  EXPECT_EQ(parse(request_line(32) + "\r", limits).status, ParseStatus::Incomplete);
}

TEST(RequestLimits, LeadingEmptyLinesDoNotCountInTheRequestLine) {
  const std::string req = "\r\n\r\n" + request_line(32) + "\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parse(req, line_limit(32)).status, ParseStatus::Complete);
}

TEST(RequestLimits, EndlessEmptyLinesAreRejected) {
  std::string crlfs;
  for (int i = 0; i < 5000; ++i) crlfs += "\r\n";
  const Result r = parse(crlfs, Limits{});
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.code, 400);
}

// A head of exactly `length` bytes, final CRLF included.
std::string head_of(size_t length) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";  // 28 bytes
  return start + std::string(length - start.size() - 4, 'v') + "\r\n\r\n";
}

TEST(RequestLimits, HeaderSectionAtTheLimitIsAccepted) {
  const std::string req = head_of(64);
  ASSERT_EQ(req.size(), 64U);
  EXPECT_EQ(parse(req, header_limit(64)).status, ParseStatus::Complete);
}

TEST(RequestLimits, HeaderSectionOverTheLimitIs431) {
  const Result r = parse(head_of(65), header_limit(64));
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.code, 431);
}

TEST(RequestLimits, HeaderSectionOverTheLimitIs431OnPartialData) {
  const std::string big = head_of(1000);
  const Limits limits = header_limit(64);
  EXPECT_EQ(parse(std::string_view(big).substr(0, 63), limits).status, ParseStatus::Incomplete);
  EXPECT_EQ(parse(std::string_view(big).substr(0, 64), limits).code, 431);
  EXPECT_EQ(parse(std::string_view(big).substr(0, 200), limits).code, 431);
}

TEST(RequestLimits, HeaderLimitCountsFromTheRequestLine) {
  EXPECT_EQ(parse("\r\n\r\n" + head_of(64), header_limit(64)).status, ParseStatus::Complete);
}

TEST(RequestLimits, RequestLineAloneOverTheHeaderLimitIs431) {
  Limits limits;
  limits.max_line_bytes = 100;
  limits.max_header_bytes = 20;
  const std::string req = request_line(40) + "\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parse(req, limits).code, 431);
  EXPECT_EQ(parse(request_line(40), limits).code, 431);  // no CRLF yet
}

TEST(RequestLimits, LongLineWins414OverHeaderLimit) {
  Limits limits;
  limits.max_line_bytes = 16;
  limits.max_header_bytes = 20;
  EXPECT_EQ(parse(request_line(60), limits).code, 414);
}

TEST(RequestLimits, HopelessPartialRequestLineIsRejectedAtOnce) {
  EXPECT_EQ(parse("\x16\x03\x01\x02\x00\x01", Limits{}).code, 400);  // a TLS ClientHello
  EXPECT_EQ(parse("GET /a\x01", Limits{}).code, 400);
  EXPECT_EQ(parse("GET\t", Limits{}).code, 400);
  EXPECT_EQ(parse(" GET", Limits{}).code, 400);
  EXPECT_EQ(parse("GET /a\r", Limits{}).code, 400);  // the target must end with SP first
  EXPECT_EQ(parse("GET /a#", Limits{}).code, 400);   // no fragment in a request-target
  for (const char* viable : {"G", "GET", "GET ", "GET /", "GET / ", "GET / HTTP/1.", "GET / x"}) {
    EXPECT_EQ(parse(viable, Limits{}).status, ParseStatus::Incomplete) << viable;
  }
}

Limits field_limit(uint32_t fields) {
  Limits limits;
  limits.max_headers = fields;
  return limits;
}

TEST(RequestLimits, FieldCountAtTheLimitIsAccepted) {
  const std::string req = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
  EXPECT_EQ(parse(req, field_limit(3)).status, ParseStatus::Complete);
}

TEST(RequestLimits, TooManyFieldsIs431) {
  const std::string req = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  const Result r = parse(req, field_limit(3));
  EXPECT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.code, 431);
}

TEST(RequestLimits, TooManyFieldsIs431OnPartialData) {
  const Limits limits = field_limit(3);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n", limits).status,
            ParseStatus::Incomplete);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r", limits).status,
            ParseStatus::Incomplete);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC", limits).code, 431);
}

TEST(RequestLimits, DefaultLimitsMatchTheSpec) {
  const Limits limits;
  EXPECT_EQ(limits.max_line_bytes, 8192U);
  EXPECT_EQ(limits.max_header_bytes, 65536U);
  EXPECT_EQ(limits.max_headers, 100U);
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 99; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(parse(req + "\r\n", limits).status, ParseStatus::Complete);
  EXPECT_EQ(parse(req + "X-Last: v\r\n\r\n", limits).code, 431);
}

}  // namespace
}  // namespace vane::proxy::http
