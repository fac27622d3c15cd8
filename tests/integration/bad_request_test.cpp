// SPEC §3's bad-request table, one row per case: the exact answer, whether vane closes the
// connection, and (for head errors) that nothing reached the upstream. Small limits keep it fast.
#include <gtest/gtest.h>

#include <set>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

using namespace std::string_literals;

constexpr std::string_view bad_request_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
limits:
  maxRequestLineBytes: 1024
  maxRequestHeaderBytes: 4096
  maxRequestHeaders: 20
  maxRequestBodyBytes: 1024
upstreams:
  - {name: echo, endpoints: ["{{echo}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: echo}
)";

enum class Close { Yes, Any };        ///< Any: the table does not say
enum class Reaches { Never, Maybe };  ///< may the head reach the upstream before the error shows?

struct BadCase {
  const char* name;
  std::string bytes;
  std::set<int> statuses;
  Close close = Close::Yes;
  Reaches reaches = Reaches::Never;
  bool half_close = false;  ///< the client shuts down its side after sending
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

const std::string host = "Host: x.test\r\n";
const std::string post = "POST /?echo=1 HTTP/1.1\r\n" + host;
const std::string chunked_post = post + "Transfer-Encoding: chunked\r\n\r\n";

std::string get_with(const std::string& fields) {
  return "GET / HTTP/1.1\r\n" + host + fields + "\r\n";
}
std::string line(const std::string& request_line) { return request_line + "\r\n" + host + "\r\n"; }
std::string post_te(const std::string& te) {
  return post + "Transfer-Encoding: " + te + "\r\n\r\n0\r\n\r\n";
}
std::string post_cl(const std::string& cl) {
  return post + "Content-Length: " + cl + "\r\n\r\nhello";
}

std::string many_fields(int count, size_t value_bytes) {
  std::string fields;
  for (int i = 0; i < count; ++i)
    fields += "X-F" + std::to_string(i) + ": " + std::string(value_bytes, 'v') + "\r\n";
  return fields;
}

std::vector<BadCase> framing_cases() {
  const std::set<int> bad{400}, bad_or_unknown{400, 501};
  return {
      {"cl_and_te", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad},
      {"te_chunked_gzip", post_te("chunked, gzip"), bad_or_unknown},
      {"te_chunked_chunked", post_te("chunked, chunked"), bad},
      {"te_two_chunked_fields",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad},
      {"te_gzip", post_te("gzip"), bad_or_unknown},
      {"te_gzip_chunked", post_te("gzip, chunked"), bad_or_unknown},
      {"te_xchunked", post_te("xchunked"), bad_or_unknown},
      {"cl_list", post_cl("5, 6"), bad},
      {"cl_same_list", post_cl("5, 5"), bad},
      {"cl_two_fields", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", bad},
      {"cl_plus", post_cl("+5"), bad},
      {"cl_minus", post_cl("-1"), bad},
      {"cl_empty", post_cl(""), bad},
      {"cl_overflow", post_cl("18446744073709551616"), bad},
      {"cl_huge_overflow", post_cl("999999999999999999999999999999"), bad},
      {"cl_non_digits", post_cl("abc"), bad},
      {"cl_hex", post_cl("0x5"), bad},
      {"chunk_size_not_hex", chunked_post + "zz\r\nhello\r\n0\r\n\r\n", bad, Close::Yes,
       Reaches::Maybe},
      {"chunk_size_overflow", chunked_post + "10000000000000000\r\nhello\r\n0\r\n\r\n", bad,
       Close::Yes, Reaches::Maybe},
      {"chunk_missing_crlf", chunked_post + "5\r\nhelloXX0\r\n\r\n", bad, Close::Yes,
       Reaches::Maybe},
      {"chunk_bare_lf", chunked_post + "5\nhello\n0\n\n", bad, Close::Yes, Reaches::Maybe},
      {"chunk_bad_ext", chunked_post + "5;=x\r\nhello\r\n0\r\n\r\n", bad, Close::Yes,
       Reaches::Maybe},
      {"short_body_client_closes", post + "Content-Length: 100\r\n\r\nhello", bad, Close::Yes,
       Reaches::Maybe, true},
      {"short_chunk_client_closes", chunked_post + "5\r\nhel", bad, Close::Yes, Reaches::Maybe,
       true},
  };
}

std::vector<BadCase> syntax_cases() {
  const std::set<int> bad{400};
  return {
      {"obs_fold", get_with("X-A: a\r\n b\r\n"), bad},
      {"space_before_colon", get_with("X-A : b\r\n"), bad},
      {"tab_before_colon", get_with("X-A\t: b\r\n"), bad},
      {"nul_in_value", get_with("X-A: a\0b\r\n"s), bad},
      {"cr_in_value", get_with("X-A: a\rb\r\n"), bad},
      {"lf_in_value", get_with("X-A: a\nb\r\n"), bad},
      {"bad_char_in_name", get_with("X(A: b\r\n"), bad},
      {"space_in_name", get_with("X A: b\r\n"), bad},
      {"empty_name", get_with(": b\r\n"), bad},
      {"missing_host", "GET / HTTP/1.1\r\n\r\n", bad},
      {"two_hosts", get_with("Host: y.test\r\n"), bad},
      {"host_with_space", "GET / HTTP/1.1\r\nHost: x test\r\n\r\n", bad},
      {"host_with_path", "GET / HTTP/1.1\r\nHost: x.test/a\r\n\r\n", bad},
      {"host_bad_port", "GET / HTTP/1.1\r\nHost: x.test:port\r\n\r\n", bad},
      {"absolute_form_other_host", line("GET http://other.test/ HTTP/1.1"), bad},
      {"request_line_no_version", line("GET /"), bad},
      {"request_line_double_space", line("GET  / HTTP/1.1"), bad},
      {"request_line_extra_token", line("GET / HTTP/1.1 x"), bad},
      {"bad_method_char", line("GE(T / HTTP/1.1"), bad},
      {"lowercase_protocol", line("GET / http/1.1"), bad},
      {"asterisk_without_options", line("GET * HTTP/1.1"), bad},
      {"authority_form_without_connect", line("GET x.test:80 HTTP/1.1"), bad},
      {"target_without_slash", line("GET index.html HTTP/1.1"), bad},
      {"http_2_0", line("GET / HTTP/2.0"), {505}},
      {"http_1_2", line("GET / HTTP/1.2"), {505}},
      {"http_0_9", line("GET / HTTP/0.9"), {505}},
  };
}

std::vector<BadCase> limit_cases() {
  return {
      {"request_line_too_long", line("GET /" + std::string(2000, 'a') + " HTTP/1.1"), {414}},
      {"header_section_too_large", get_with(many_fields(5, 1000)), {431}},
      {"too_many_fields", get_with(many_fields(25, 2)), {431}},
      {"field_count_at_limit", get_with(many_fields(19, 2)), {200}, Close::Any},
      {"body_at_limit",
       post + "Content-Length: 1024\r\n\r\n" + std::string(1024, 'b'),
       {200},
       Close::Any},
      {"body_over_limit_content_length", post + "Content-Length: 2000\r\n\r\n", {413}, Close::Any},
      {"body_over_limit_no_100_continue",
       post + "Content-Length: 2000\r\nExpect: 100-continue\r\n\r\n",
       {413},
       Close::Any},
      {"body_over_limit_chunked",
       chunked_post + "400\r\n" + std::string(1024, 'b') + "\r\n400\r\n" + std::string(1024, 'b') +
           "\r\n0\r\n\r\n",
       {413},
       Close::Yes,
       Reaches::Maybe},
      {"expect_unknown", get_with("Expect: foo\r\n"), {417}, Close::Any},
  };
}

class BadRequestTest : public ::testing::TestWithParam<BadCase> {
 protected:
  TestUpstream echo_{"echo"};
  Vane vane_{render(std::string(bad_request_yaml), {{"echo", echo_.address()}})};
};

TEST_P(BadRequestTest, AnswerAndConnection) {
  const BadCase& c = GetParam();
  const UpstreamStats before = echo_.stats();
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(c.bytes));
  if (c.half_close) client.shutdown_send();
  const Response r = client.read_response(3s);
  EXPECT_TRUE(c.statuses.contains(r.status))
      << "got status " << r.status << " " << r.reason << (r.timed_out ? " (timed out)" : "");
  if (c.statuses.contains(200)) {
    EXPECT_EQ(r.header("X-Upstream").value_or("(none)"), "echo");
    return;
  }
  EXPECT_FALSE(r.header("X-Upstream")) << "the upstream answered a bad request";
  if (c.close == Close::Yes) {
    EXPECT_TRUE(r.peer_closed || client.wait_closed(2s)) << "vane must close the connection";
  }
  if (c.reaches == Reaches::Never) {
    EXPECT_EQ(echo_.stats().requests, before.requests) << "the bad request was forwarded";
  }
}

auto case_name = [](const ::testing::TestParamInfo<BadCase>& info) {
  return std::string(info.param.name);
};

INSTANTIATE_TEST_SUITE_P(Framing, BadRequestTest, ::testing::ValuesIn(framing_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Syntax, BadRequestTest, ::testing::ValuesIn(syntax_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Limits, BadRequestTest, ::testing::ValuesIn(limit_cases()), case_name);

}  // namespace
}  // namespace vane::it
