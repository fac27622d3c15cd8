// parse_response: status line variants, framing (RFC 9112 §6.3), keep-alive, errors (502).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

struct Result {
  ParseStatus status;
  ParseError err;
};

Result parse(std::string_view data, ResponseHead& head, bool head_request = false,
             const Limits& limits = Limits{}) {
  ParseError err;
  const ParseStatus status = parse_response(data, limits, head_request, head, err);
  return {status, err};
}

TEST(ParseResponse, OkWithContentLength) {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
  ResponseHead head;
  ASSERT_EQ(parse(wire, head).status, ParseStatus::Complete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.framing, Framing::Length);
  EXPECT_EQ(head.content_length, 5U);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(head.head_bytes, wire.size() - 5);
  ASSERT_EQ(head.fields.size(), 2U);
  EXPECT_EQ(head.fields[0].kind, FieldKind::ContentLength);
  EXPECT_EQ(head.fields[1].value, "x");
}

TEST(ParseResponse, StatusLineVariants) {
  struct Case {
    std::string line;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1 200", 200, ""},
      {"HTTP/1.1 200 ", 200, ""},
      {"HTTP/1.1 404 Not Found Here", 404, "Not Found Here"},
      {"HTTP/1.0 503 Service\tUnavailable", 503, "Service\tUnavailable"},
      {"HTTP/1.1 599 caf\xc3\xa9", 599, "caf\xc3\xa9"},
      {"HTTP/1.1 100 Continue", 100, "Continue"},
  };
  for (const Case& c : cases) {
    ResponseHead head;
    const std::string wire = c.line + "\r\nContent-Length: 0\r\n\r\n";
    const Result r = parse(wire, head);
    ASSERT_EQ(r.status, ParseStatus::Complete) << c.line << ": " << r.err.reason;
    EXPECT_EQ(head.status, c.status);
    EXPECT_EQ(head.reason, c.reason);
  }
}

struct FramingCase {
  std::string name;
  std::string head;  // without the final CRLF
  bool head_request;
  Framing framing;
  uint64_t content_length;
  bool keep_alive;
};

std::ostream& operator<<(std::ostream& os, const FramingCase& c) { return os << c.name; }

class ResponseFraming : public ::testing::TestWithParam<FramingCase> {};

TEST_P(ResponseFraming, Decides) {
  const FramingCase& c = GetParam();
  ResponseHead head;
  const std::string wire = c.head + "\r\n";
  const Result r = parse(wire, head, c.head_request);
  ASSERT_EQ(r.status, ParseStatus::Complete) << r.err.reason;
  EXPECT_EQ(head.framing, c.framing);
  EXPECT_EQ(head.content_length, c.content_length);
  EXPECT_EQ(head.keep_alive, c.keep_alive);
}

const std::vector<FramingCase> kFramingCases = {
    {"length", "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n", false, Framing::Length, 42, true},
    {"length_zero", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", false, Framing::Length, 0, true},
    {"length_dup_fields", "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n", false,
     Framing::Length, 7, true},
    {"length_dup_list", "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n", false, Framing::Length, 7,
     true},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", false, Framing::Chunked, 0,
     true},
    {"gzip_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n", false,
     Framing::Chunked, 0, true},
    {"unknown_then_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\nTransfer-Encoding: "
     "chunked\r\n", false, Framing::Chunked, 0, true},
    {"chunked_not_final", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n", false,
     Framing::UntilClose, 0, false},
    {"gzip_only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n", false, Framing::UntilClose, 0,
     false},
    {"te_and_cl", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n",
     false, Framing::Chunked, 0, false},
    {"until_close", "HTTP/1.1 200 OK\r\nServer: x\r\n", false, Framing::UntilClose, 0, false},
    {"connection_close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n", false,
     Framing::Length, 1, false},
    {"http10_default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n", false, Framing::Length, 1,
     false},
    {"http10_keep_alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n",
     false, Framing::Length, 1, true},
    {"http10_chunked", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: "
     "chunked\r\n", false, Framing::Chunked, 0, false},
    {"head_request", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n", true, Framing::None, 1234,
     true},
    {"head_request_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", true,
     Framing::None, 0, true},
    {"head_request_no_length", "HTTP/1.1 200 OK\r\n", true, Framing::None, 0, true},
    {"continue", "HTTP/1.1 100 Continue\r\n", false, Framing::None, 0, true},
    {"switching", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
     "Upgrade\r\n", false, Framing::None, 0, true},
    {"early_hints", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n", false, Framing::None, 0,
     true},
    {"no_content", "HTTP/1.1 204 No Content\r\n", false, Framing::None, 0, true},
    {"no_content_with_length", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n", false,
     Framing::None, 0, true},
    {"not_modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n", false, Framing::None,
     99, true},
    {"reset_content", "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n", false,
     Framing::Length, 0, true},
};

INSTANTIATE_TEST_SUITE_P(All, ResponseFraming, ::testing::ValuesIn(kFramingCases),
                         [](const auto& param_info) { return param_info.param.name; });

struct BadResponse {
  std::string name;
  std::string wire;
};

std::ostream& operator<<(std::ostream& os, const BadResponse& c) { return os << c.name; }

class ResponseRejection : public ::testing::TestWithParam<BadResponse> {};

TEST_P(ResponseRejection, Is502) {
  ResponseHead head;
  const Result r = parse(GetParam().wire, head);
  ASSERT_EQ(r.status, ParseStatus::Error);
  EXPECT_EQ(r.err.status, 502);
  EXPECT_FALSE(r.err.reason.empty());
}

const std::vector<BadResponse> kBadResponses = {
    {"http2", "HTTP/2 200 OK\r\n\r\n"},
    {"http20", "HTTP/2.0 200 OK\r\n\r\n"},
    {"http12", "HTTP/1.2 200 OK\r\n\r\n"},
    {"lowercase", "http/1.1 200 OK\r\n\r\n"},
    {"two_digit_status", "HTTP/1.1 20 OK\r\n\r\n"},
    {"four_digit_status", "HTTP/1.1 2000 OK\r\n\r\n"},
    {"status_600", "HTTP/1.1 600 X\r\n\r\n"},
    {"status_099", "HTTP/1.1 099 X\r\n\r\n"},
    {"status_letters", "HTTP/1.1 2x0 X\r\n\r\n"},
    {"double_space", "HTTP/1.1  200 OK\r\n\r\n"},
    {"tab_separator", "HTTP/1.1\t200 OK\r\n\r\n"},
    {"reason_ctl", "HTTP/1.1 200 O\x01K\r\n\r\n"},
    {"leading_crlf", "\r\nHTTP/1.1 200 OK\r\n\r\n"},
    {"bare_lf_status", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"},
    {"bare_lf_field", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n"},
    {"obs_fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
    {"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"},
    {"cr_in_value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"},
    {"empty_name", "HTTP/1.1 200 OK\r\n: a\r\n\r\n"},
    {"cl_differing_fields", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"},
    {"cl_differing_list", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n"},
    {"cl_empty_element", "HTTP/1.1 200 OK\r\nContent-Length: 1, , 1\r\n\r\n"},
    {"cl_sign", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"},
    {"cl_empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"},
    {"cl_overflow", "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\n"},
    {"te_chunked_twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"},
    {"te_malformed", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n"},
    {"te_empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\n"},
    {"connection_malformed", "HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n"},
};

INSTANTIATE_TEST_SUITE_P(All, ResponseRejection, ::testing::ValuesIn(kBadResponses),
                         [](const auto& param_info) { return param_info.param.name; });

TEST(ParseResponse, ConnectionNamedFieldsBecomeHopByHop) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Internal: 1\r\nX-Public: 2\r\nConnection: x-internal, "
      "content-length\r\nContent-Length: 0\r\nKeep-Alive: timeout=5\r\n\r\n";
  ResponseHead head;
  ASSERT_EQ(parse(wire, head).status, ParseStatus::Complete);
  ASSERT_EQ(head.fields.size(), 5U);
  EXPECT_EQ(head.fields[0].kind, FieldKind::HopByHop);
  EXPECT_EQ(head.fields[1].kind, FieldKind::Other);
  EXPECT_EQ(head.fields[2].kind, FieldKind::HopByHop);
  EXPECT_EQ(head.fields[3].kind, FieldKind::ContentLength);
  EXPECT_EQ(head.fields[4].kind, FieldKind::HopByHop);
  EXPECT_TRUE(head.keep_alive);
}

TEST(ParseResponse, EveryPrefixIsIncomplete) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t n = 0; n < wire.size(); ++n) {
    ResponseHead head;
    const Result r = parse(std::string_view(wire).substr(0, n), head);
    ASSERT_EQ(r.status, ParseStatus::Incomplete) << "prefix " << n << ": " << r.err.reason;
  }
}

TEST(ParseResponse, LimitsAre502) {
  Limits limits;
  limits.max_line_bytes = 20;
  limits.max_header_bytes = 60;
  limits.max_headers = 2;
  ResponseHead head;
  EXPECT_EQ(parse("HTTP/1.1 200 " + std::string(30, 'r'), head, false, limits).err.status, 502);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", head, false, limits).status,
            ParseStatus::Error);
  const Result big = parse("HTTP/1.1 200 OK\r\nA: " + std::string(60, 'v'), head, false, limits);
  EXPECT_EQ(big.status, ParseStatus::Error);
  EXPECT_EQ(big.err.status, 502);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", head, false, limits).status,
            ParseStatus::Complete);
}

TEST(ParseResponse, ResetsBetweenParses) {
  ResponseHead head;
  ASSERT_EQ(parse("HTTP/1.0 404 Nope\r\nA: 1\r\nContent-Length: 3\r\n\r\n", head).status,
            ParseStatus::Complete);
  ASSERT_EQ(parse("HTTP/1.1 204\r\n\r\n", head).status, ParseStatus::Complete);
  EXPECT_EQ(head.status, 204);
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(head.content_length, 0U);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_TRUE(head.fields.empty());
}

}  // namespace
}  // namespace vane::proxy::http
