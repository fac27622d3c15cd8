// H2Inbound: an HTTP/2 message's fields and DATA as the HTTP/1.1 bytes the data plane reads.
// tests/fuzz/h2_request_fuzz.cpp checks requests from a real nghttp2 session against vane's
// parser; these pin the shapes by example.
#include "proxy/http/h2_inbound.hpp"

#include <gtest/gtest.h>

namespace vane::proxy::http {
namespace {

using Kind = H2Inbound::Kind;

TEST(H2InboundTest, ARequestWithoutBodyIsItsHeadAlone) {
  H2Inbound in(Kind::Request);
  for (auto [n, v] : {std::pair{":method", "GET"}, {":scheme", "https"}, {":authority", "a.test"},
                      {":path", "/x?y"}, {"accept", "*/*"}, {"te", "trailers"}}) {
    in.add_field(n, v);
  }
  EXPECT_TRUE(in.end_fields(true));
  EXPECT_TRUE(in.complete());
  EXPECT_EQ(in.bytes, "GET /x?y HTTP/1.1\r\nHost: a.test\r\naccept: */*\r\n\r\n");
  EXPECT_EQ(in.method(), "GET");
}

TEST(H2InboundTest, CookiesAreJoinedAndEmptyCrumbsDropped) {
  H2Inbound in(Kind::Request);
  for (auto [n, v] : {std::pair{":method", "GET"}, {":path", "/"}, {"cookie", ""}, {"host", "h.test"},
                      {"cookie", "a=1"}, {"cookie", ""}, {"cookie", "b=2"}}) {
    in.add_field(n, v);
  }
  in.end_fields(true);
  EXPECT_EQ(in.bytes, "GET / HTTP/1.1\r\nHost: h.test\r\nCookie: a=1; b=2\r\n\r\n");
}

TEST(H2InboundTest, ABodyWithoutLengthIsChunkedWithItsTrailersInTheLastChunk) {
  H2Inbound in(Kind::Request);
  for (auto [n, v] : {std::pair{":method", "POST"}, {":authority", "g.test"}, {":path", "/svc/M"}}) {
    in.add_field(n, v);
  }
  in.end_fields(false);
  in.add_body("hello", false);
  EXPECT_FALSE(in.complete());
  in.add_field("x-sum", "5");
  in.add_field("content-length", "9");  // a framing field is no trailer
  EXPECT_TRUE(in.end_fields(true));
  EXPECT_TRUE(in.complete());
  EXPECT_EQ(in.bytes,
            "POST /svc/M HTTP/1.1\r\nHost: g.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n");
}

TEST(H2InboundTest, AResponsesInterimHeadIsDroppedAndAnEmptyOneGetsALength) {
  H2Inbound in(Kind::Response);
  in.add_field(":status", "103");
  in.add_field("link", "</a>; rel=preload");
  EXPECT_FALSE(in.end_fields(false));
  EXPECT_TRUE(in.bytes.empty());
  in.add_field(":status", "200");
  in.add_field("grpc-status", "0");
  EXPECT_TRUE(in.end_fields(true));
  EXPECT_EQ(in.bytes, "HTTP/1.1 200 OK\r\ngrpc-status: 0\r\nContent-Length: 0\r\n\r\n");
}

TEST(H2InboundTest, AnAnswerToHeadKeepsItsLengthUnsaid) {
  H2Inbound in(Kind::Response);
  in.set_head_request(true);
  in.add_field(":status", "200");
  in.end_fields(true);
  EXPECT_EQ(in.bytes, "HTTP/1.1 200 OK\r\n\r\n");
}

// Found by tests/fuzz/h2_response_fuzz.cpp: a 204 whose stream went on to trailers was written
// with Transfer-Encoding: chunked, and its last chunk was left after a head that has no body.
TEST(H2InboundTest, AnAnswerWithoutBodyIsNeverFramedEvenWhenItsStreamGoesOn) {
  for (const bool head_request : {false, true}) {
    H2Inbound in(Kind::Response);
    in.set_head_request(head_request);
    in.add_field(":status", head_request ? "200" : "204");
    in.end_fields(false);
    in.add_body("", false);
    in.add_field("x-t", "1");
    EXPECT_TRUE(in.end_fields(true));
    EXPECT_TRUE(in.complete());
    EXPECT_EQ(in.bytes, head_request ? "HTTP/1.1 200 OK\r\n\r\n" : "HTTP/1.1 204 \r\n\r\n");
  }
}

}  // namespace
}  // namespace vane::proxy::http
