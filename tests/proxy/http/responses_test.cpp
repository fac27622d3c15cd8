// http::canned_response and http::reason_phrase: the answers vane writes itself.
#include "proxy/http/responses.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "proxy/http/parser.hpp"

namespace vane::proxy {
namespace {

struct Canned {
  int status;
  std::string_view reason;
};

class CannedResponse : public ::testing::TestWithParam<Canned> {};

/// Checks one canned response with the response parser, independently of how it was built.
void check(const Canned& c, bool close) {
  const std::string_view wire = http::canned_response(c.status, close);
  SCOPED_TRACE(std::string(wire));
  const std::string status_line =
      "HTTP/1.1 " + std::to_string(c.status) + " " + std::string(c.reason) + "\r\n";
  EXPECT_TRUE(wire.starts_with(status_line));

  http::ResponseHead head;
  http::ParseError err;
  ASSERT_EQ(http::parse_response(wire, http::Limits{}, false, head, err),
            http::ParseStatus::Complete)
      << err.reason;
  EXPECT_EQ(head.status, c.status);
  EXPECT_EQ(head.minor_version, 1);
  EXPECT_EQ(head.reason, c.reason);
  ASSERT_EQ(head.framing, http::Framing::Length);
  // The body is exactly what Content-Length says: nothing missing, nothing trailing.
  EXPECT_EQ(head.content_length, wire.size() - head.head_bytes);
  EXPECT_GT(head.content_length, 0u);
  int connection_fields = 0;
  for (const auto& f : head.fields) {
    if (http::iequals(f.name, "connection")) {
      ++connection_fields;
      EXPECT_EQ(f.value, "close");
    }
  }
  EXPECT_EQ(connection_fields, close ? 1 : 0);
  EXPECT_EQ(head.keep_alive, !close);
}

TEST_P(CannedResponse, WithoutClose) { check(GetParam(), false); }
TEST_P(CannedResponse, WithClose) { check(GetParam(), true); }

TEST_P(CannedResponse, ReasonPhrase) { EXPECT_EQ(http::reason_phrase(GetParam().status), GetParam().reason); }

TEST_P(CannedResponse, SameViewEachTime) {
  // Built once per process: the same bytes at the same address on every call.
  const int status = GetParam().status;
  EXPECT_EQ(http::canned_response(status, true).data(), http::canned_response(status, true).data());
  EXPECT_NE(http::canned_response(status, true), http::canned_response(status, false));
}

INSTANTIATE_TEST_SUITE_P(
    Responses, CannedResponse,
    ::testing::Values(Canned{400, "Bad Request"}, Canned{404, "Not Found"},
                      Canned{408, "Request Timeout"}, Canned{413, "Content Too Large"},
                      Canned{414, "URI Too Long"}, Canned{417, "Expectation Failed"},
                      Canned{431, "Request Header Fields Too Large"},
                      Canned{500, "Internal Server Error"}, Canned{501, "Not Implemented"},
                      Canned{502, "Bad Gateway"}, Canned{503, "Service Unavailable"},
                      Canned{504, "Gateway Timeout"}, Canned{505, "HTTP Version Not Supported"}),
    [](const ::testing::TestParamInfo<Canned>& param) {
      return "status" + std::to_string(param.param.status);
    });

TEST(Responses, UnknownStatusFallsBackTo500) {
  for (const int status : {0, 200, 302, 418, 599, -1}) {
    EXPECT_EQ(http::canned_response(status, false), http::canned_response(500, false)) << status;
    EXPECT_EQ(http::canned_response(status, true), http::canned_response(500, true)) << status;
  }
}

TEST(Responses, OtherReasonPhrases) {
  EXPECT_EQ(http::reason_phrase(100), "Continue");
  EXPECT_EQ(http::reason_phrase(200), "OK");
  EXPECT_EQ(http::reason_phrase(401), "Unauthorized");
  EXPECT_EQ(http::reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(http::reason_phrase(409), "Conflict");
  EXPECT_EQ(http::reason_phrase(299), "Unknown");
}

TEST(Responses, ContinueIsAComplete1xxHead) {
  EXPECT_EQ(http::kContinue, "HTTP/1.1 100 Continue\r\n\r\n");
  http::ResponseHead head;
  http::ParseError err;
  ASSERT_EQ(http::parse_response(http::kContinue, http::Limits{}, false, head, err),
            http::ParseStatus::Complete);
  EXPECT_EQ(head.status, 100);
  EXPECT_EQ(head.head_bytes, http::kContinue.size());
  EXPECT_EQ(head.framing, http::Framing::None);
}

}  // namespace
}  // namespace vane::proxy
