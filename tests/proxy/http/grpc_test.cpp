// What vane reads of gRPC: which requests are gRPC, the grpc-status field, how an answer is
// measured (SPEC §10), and the trailers-only answer that stands for vane's own errors.
#include "proxy/http/grpc.hpp"

#include <gtest/gtest.h>

#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

bool grpc_request(std::string_view content_type) {
  const std::string wire = "POST /s/M HTTP/1.1\r\nHost: h\r\nContent-Type: " + std::string(content_type) +
                           "\r\nContent-Length: 0\r\n\r\n";
  RequestHead head;
  ParseError error;
  EXPECT_EQ(parse_request(wire, Limits{}, head, error), ParseStatus::Complete);
  return is_grpc(head);
}

TEST(Grpc, RequestsAreKnownByTheirContentType) {
  EXPECT_TRUE(grpc_request("application/grpc"));
  EXPECT_TRUE(grpc_request("application/grpc+proto"));
  EXPECT_TRUE(grpc_request("Application/GRPC;charset=x"));
  EXPECT_FALSE(grpc_request("application/grpc-web"));  // grpc-web speaks HTTP/1.1 to upstreams
  EXPECT_FALSE(grpc_request("application/json"));
  EXPECT_FALSE(grpc_request("application/grp"));
}

TEST(Grpc, StatusValues) {
  EXPECT_EQ(parse_grpc_status("0"), 0);
  EXPECT_EQ(parse_grpc_status("14"), 14);
  EXPECT_EQ(parse_grpc_status(""), -1);
  EXPECT_EQ(parse_grpc_status("1a"), -1);
  EXPECT_EQ(parse_grpc_status("140"), -1);
}

TEST(Grpc, FailingStatusesAreMeasuredAs5xx) {
  // SPEC §10: 2, 4, 8, 13, 14 and 15 count as failures; any other keeps the HTTP status.
  for (const int failing : {2, 8, 13, 15}) EXPECT_EQ(grpc_measured_status(failing, 200), 500) << failing;
  EXPECT_EQ(grpc_measured_status(4, 200), 504);
  EXPECT_EQ(grpc_measured_status(14, 200), 503);
  for (const int caller : {0, 1, 3, 5, 6, 7, 9, 10, 11, 12, 16}) {
    EXPECT_EQ(grpc_measured_status(caller, 200), 200) << caller;
  }
  EXPECT_EQ(grpc_measured_status(-1, 404), 404);
}

TEST(Grpc, VanesOwnAnswersAreTrailersOnly) {
  const std::string answer = grpc_error_response(502, false);
  ResponseHead head;
  ParseError error;
  ASSERT_EQ(parse_response(answer, Limits{}, false, head, error), ParseStatus::Complete);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_NE(answer.find("Grpc-Status: 14\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Grpc-Message: vane: 502 Bad Gateway\r\n"), std::string::npos);
  EXPECT_EQ(grpc_status_for(404), 12);
  EXPECT_EQ(grpc_status_for(504), 14);
  EXPECT_EQ(grpc_status_for(413), 8);
  EXPECT_NE(grpc_error_response(503, true).find("Connection: close\r\n"), std::string::npos);
}

}  // namespace
}  // namespace vane::proxy::http
