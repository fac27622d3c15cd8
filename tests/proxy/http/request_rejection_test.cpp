// SPEC §3 bad-request table: every malformed or smuggling request head and the status it gets.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

using namespace std::string_literals;

struct BadCase {
  std::string name;
  std::string input;
  int status;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

// A request with Host, the given extra field lines (each ending in CRLF) and the final CRLF.
std::string post_with(const std::string& fields) {
  return "POST /upload HTTP/1.1\r\nHost: example.com\r\n" + fields + "\r\n";
}

std::string get_line(const std::string& request_line) {
  return request_line + "\r\nHost: example.com\r\n\r\n";
}

std::vector<BadCase> smuggling_cases() {
  return {
      {"cl_and_te", post_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"te_and_cl", post_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
      {"te_chunked_chunked", post_with("Transfer-Encoding: chunked, chunked\r\n"), 400},
      {"te_chunked_twice_fields",
       post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"te_chunked_gzip", post_with("Transfer-Encoding: chunked, gzip\r\n"), 400},
      {"te_chunked_then_gzip_field",
       post_with("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400},
      {"te_gzip", post_with("Transfer-Encoding: gzip\r\n"), 400},
      {"te_gzip_chunked", post_with("Transfer-Encoding: gzip, chunked\r\n"), 501},
      {"te_gzip_then_chunked_field",
       post_with("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501},
      {"te_xchunked", post_with("Transfer-Encoding: xchunked\r\n"), 501},
      {"te_identity", post_with("Transfer-Encoding: identity\r\n"), 501},
      {"te_chunked_param", post_with("Transfer-Encoding: chunked;q=1\r\n"), 400},
      {"te_empty", post_with("Transfer-Encoding:\r\n"), 400},
      {"te_trailing_comma", post_with("Transfer-Encoding: chunked,\r\n"), 400},
      {"te_leading_comma", post_with("Transfer-Encoding: , chunked\r\n"), 400},
      {"te_quoted", post_with("Transfer-Encoding: \"chunked\"\r\n"), 400},
      {"te_http10",
       "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"cl_list_differing", post_with("Content-Length: 5, 6\r\n"), 400},
      {"cl_list_equal", post_with("Content-Length: 5, 5\r\n"), 400},
      {"cl_plus", post_with("Content-Length: +5\r\n"), 400},
      {"cl_minus", post_with("Content-Length: -1\r\n"), 400},
      {"cl_empty", post_with("Content-Length:\r\n"), 400},
      {"cl_blank", post_with("Content-Length:   \r\n"), 400},
      {"cl_overflow", post_with("Content-Length: 99999999999999999999999\r\n"), 400},
      {"cl_2pow63", post_with("Content-Length: 9223372036854775808\r\n"), 400},
      {"cl_hex", post_with("Content-Length: 0x10\r\n"), 400},
      {"cl_inner_space", post_with("Content-Length: 1 0\r\n"), 400},
      {"cl_decimal", post_with("Content-Length: 1.5\r\n"), 400},
      {"cl_two_equal_fields", post_with("Content-Length: 5\r\nContent-Length: 5\r\n"), 400},
      {"cl_two_fields", post_with("Content-Length: 5\r\nContent-Length: 6\r\n"), 400},
      // A framing name once '_' is read as '-' (CGI/WSGI do): the backend would frame the body
      // by a field vane ignored (smuggler.py "underjoin1").
      {"te_underscore", post_with("Transfer_Encoding: chunked\r\nContent-Length: 5\r\n"), 400},
      {"te_underscore_alone", post_with("Transfer_Encoding: chunked\r\n"), 400},
      {"te_underscore_lowercase", post_with("transfer_encoding: chunked\r\n"), 400},
      {"te_underscore_uppercase", post_with("TRANSFER_ENCODING: chunked\r\n"), 400},
      {"te_underscore_with_te",
       post_with("Transfer-Encoding: chunked\r\nTransfer_Encoding: chunked\r\n"), 400},
      {"cl_underscore", post_with("Content_Length: 5\r\n"), 400},
      {"cl_underscore_with_cl", post_with("Content-Length: 0\r\nContent_length: 5\r\n"), 400},
      {"cl_underscore_on_get", "GET / HTTP/1.1\r\nHost: a\r\ncontent_length: 0\r\n\r\n", 400},
      {"cl_underscore_http10", "GET / HTTP/1.0\r\nCONTENT_LENGTH: 5\r\n\r\n", 400},
  };
}

std::vector<BadCase> field_cases() {
  return {
      {"obs_fold", post_with("X-A: one\r\n two\r\n"), 400},
      {"obs_fold_tab", post_with("X-A: one\r\n\ttwo\r\n"), 400},
      {"ws_before_first_field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
      {"tab_before_colon", post_with("X-A\t: b\r\n"), 400},
      {"nul_in_value", post_with("X-A: a\0b\r\n"s), 400},
      {"cr_in_value", post_with("X-A: a\rb\r\n"), 400},
      {"cr_before_crlf", post_with("X-A: a\r\r\n"), 400},
      {"ctl_in_value", post_with("X-A: a\x01" "b\r\n"), 400},
      {"del_in_value", post_with("X-A: a\x7f\r\n"), 400},
      {"empty_name", post_with(": value\r\n"), 400},
      {"no_colon", post_with("X-A value\r\n"), 400},
      {"bad_name_char", post_with("X(A): v\r\n"), 400},
      {"non_ascii_name", post_with("X-\xc3\xa9: v\r\n"), 400},
      {"bare_lf_after_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
      {"bare_lf_after_field", "GET / HTTP/1.1\r\nHost: a\n\r\n", 400},
      {"bare_lf_final", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
      {"bare_lf_only", "GET / HTTP/1.1\nHost: a\n\n", 400},
      {"bare_lf_leading", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"cr_without_lf_leading", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"connection_not_token", post_with("Connection: close;x\r\n"), 400},
      {"expect_other", post_with("Expect: foo\r\n"), 417},
      {"expect_list", post_with("Expect: 100-continue, foo\r\n"), 417},
  };
}

std::vector<BadCase> host_cases() {
  return {
      {"missing_host_11", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
      {"empty_host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
      {"host_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"host_slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
      {"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
      {"host_bad_port", "GET / HTTP/1.1\r\nHost: a:x\r\n\r\n", 400},
      {"host_empty_port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400},
      {"host_long_port", "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400},
      {"host_two_colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400},
      {"host_only_port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400},
      {"host_open_bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
      {"host_bad_literal", "GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400},
      {"host_bad_pct", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},
      {"host_short_pct", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", 400},
      {"absolute_authority_mismatch",
       "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", 400},
      {"absolute_port_mismatch",
       "GET http://a.example:81/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 400},
      {"absolute_userinfo", "GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"absolute_empty_authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"absolute_query_no_path_mismatch", "GET http://a?q HTTP/1.1\r\nHost: b\r\n\r\n", 400},
      {"absolute_query_no_path_userinfo", "GET http://u@a?q HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"absolute_empty_authority_query", "GET http://?q HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"absolute_ftp", "GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400},
  };
}

std::vector<BadCase> request_line_cases() {
  return {
      {"asterisk_with_get", get_line("GET * HTTP/1.1"), 400},
      {"authority_form", get_line("GET example.com:443 HTTP/1.1"), 400},
      {"connect", get_line("CONNECT example.com:443 HTTP/1.1"), 501},
      {"no_leading_slash", get_line("GET index.html HTTP/1.1"), 400},
      {"http2", get_line("GET / HTTP/2.0"), 505},
      {"http12", get_line("GET / HTTP/1.2"), 505},
      {"http09_version", get_line("GET / HTTP/0.9"), 505},
      {"http30", get_line("PRI * HTTP/3.0"), 505},
      {"no_version", get_line("GET /"), 400},
      {"version_lowercase", get_line("GET / http/1.1"), 400},
      {"version_two_digits", get_line("GET / HTTP/1.10"), 400},
      {"version_no_minor", get_line("GET / HTTP/1"), 400},
      {"version_garbage", get_line("GET / HTTP/1.1x"), 400},
      {"double_space_after_method", get_line("GET  / HTTP/1.1"), 400},
      {"double_space_after_target", get_line("GET /  HTTP/1.1"), 400},
      {"trailing_space", get_line("GET / HTTP/1.1 "), 400},
      {"tab_separator", get_line("GET\t/ HTTP/1.1"), 400},
      {"leading_space", get_line(" GET / HTTP/1.1"), 400},
      {"bad_method_char", get_line("G@T / HTTP/1.1"), 400},
      {"method_non_ascii", get_line("G\xc3\x89T / HTTP/1.1"), 400},
      {"target_ctl", get_line("GET /a\x01 HTTP/1.1"), 400},
      {"target_del", get_line("GET /a\x7f HTTP/1.1"), 400},
      {"target_non_ascii", get_line("GET /caf\xc3\xa9 HTTP/1.1"), 400},
      {"target_nul", get_line("GET /a\0b HTTP/1.1"s), 400},
      {"target_space", get_line("GET /a b HTTP/1.1"), 400},
      {"cr_in_request_line", get_line("GET /a\rb HTTP/1.1"), 400},
      // A request-target has no fragment (RFC 9112 §3.2): the origin and the router could
      // disagree on where the path ends.
      {"fragment", get_line("GET /a#frag HTTP/1.1"), 400},
      {"fragment_empty", get_line("GET /a# HTTP/1.1"), 400},
      {"fragment_after_query", get_line("GET /a?b=1#c HTTP/1.1"), 400},
      {"fragment_only", get_line("GET # HTTP/1.1"), 400},
      {"fragment_after_slash", get_line("GET /# HTTP/1.1"), 400},
      {"fragment_absolute", get_line("GET http://example.com/a#f HTTP/1.1"), 400},
      {"fragment_absolute_no_path", get_line("GET http://example.com#f HTTP/1.1"), 400},
      {"fragment_absolute_query", get_line("GET http://example.com?q#f HTTP/1.1"), 400},
      {"fragment_asterisk", get_line("OPTIONS *# HTTP/1.1"), 400},
      {"empty_request_line", "\r\n\r\n\r\nHost: a\r\n\r\n", 400},
  };
}

class RequestRejection : public ::testing::TestWithParam<BadCase> {};

TEST_P(RequestRejection, AnswersTheSpecStatus) {
  const BadCase& c = GetParam();
  RequestHead head;
  ParseError err;
  ASSERT_EQ(parse_request(c.input, Limits{}, head, err), ParseStatus::Error);
  EXPECT_EQ(err.status, c.status);
  EXPECT_FALSE(err.reason.empty());
}

std::string case_name(const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Smuggling, RequestRejection, ::testing::ValuesIn(smuggling_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Fields, RequestRejection, ::testing::ValuesIn(field_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Host, RequestRejection, ::testing::ValuesIn(host_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(RequestLine, RequestRejection,
                         ::testing::ValuesIn(request_line_cases()), case_name);

// The same bad heads followed by more bytes (a body, a pipelined request) are still rejected, and
// the parser never reads past what it was given (checked under ASan with an exact-size copy).
TEST(RequestRejectionTail, TrailingBytesDoNotChangeTheAnswer) {
  for (const auto& cases : {smuggling_cases(), field_cases(), host_cases(), request_line_cases()}) {
    for (const BadCase& c : cases) {
      const std::string with_tail = c.input + "hello";
      RequestHead head;
      ParseError err;
      EXPECT_EQ(parse_request(with_tail, Limits{}, head, err), ParseStatus::Error) << c.name;
      EXPECT_EQ(err.status, c.status) << c.name;
    }
  }
}

}  // namespace
}  // namespace vane::proxy::http
