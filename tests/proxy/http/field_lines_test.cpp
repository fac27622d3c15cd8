// field_lines: the public helpers iequals/valid_request_id, field line parsing and kinds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/field_lines.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy::http {
namespace {

TEST(ValidRequestId, AcceptsTheSpecAlphabet) {
  EXPECT_TRUE(valid_request_id("a"));
  EXPECT_TRUE(valid_request_id("abcXYZ019._:-"));
  EXPECT_TRUE(valid_request_id("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(valid_request_id(std::string(128, 'x')));
}

TEST(ValidRequestId, RejectsEverythingElse) {
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id(std::string(129, 'x')));
  for (const char* id : {"a b", "a/b", "a+b", "a\"b", "a,b", "a;b", "a\tb", "a\nb", "caf\xc3\xa9",
                         "a~b", "a=b", "a%20"}) {
    EXPECT_FALSE(valid_request_id(id)) << id;
  }
  EXPECT_FALSE(valid_request_id(std::string("a\0b", 3)));
}

TEST(Iequals, IsAsciiCaseInsensitive) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("ABC-xyz_09", "abc-XYZ_09"));
  EXPECT_FALSE(iequals("chunked", "chunke"));
  EXPECT_FALSE(iequals("chunked", "chunkes"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5B vs 0x7B differ by the case bit but are not letters
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // no Unicode folding
}

TEST(ParseFieldLine, SplitsNameAndTrimmedValue) {
  Field f;
  ParseError err;
  ASSERT_TRUE(detail::parse_field_line("X-A:  \t v a l \t ", f, err));
  EXPECT_EQ(f.name, "X-A");
  EXPECT_EQ(f.value, "v a l");
  EXPECT_EQ(f.kind, FieldKind::Other);
  ASSERT_TRUE(detail::parse_field_line("!#$%&'*+-.^_`|~09Az:", f, err));
  EXPECT_EQ(f.name, "!#$%&'*+-.^_`|~09Az");
  EXPECT_EQ(f.value, "");
}

TEST(ParseFieldLine, Rejects) {
  const std::vector<std::string> lines = {" X: a",  "\tX: a",    ": a",         "X a",
                                          "X : a",  "X\t: a",    "X",           "X(: a",
                                          "X: a\x7f", "X: \x1b[0m", std::string("X: \0", 4)};
  for (const std::string& line : lines) {
    Field f;
    ParseError err;
    EXPECT_FALSE(detail::parse_field_line(line, f, err)) << line;
    EXPECT_EQ(err.status, 400);
  }
}

TEST(ClassifyField, KnowsTheSpecialNames) {
  using detail::classify_field;
  EXPECT_EQ(classify_field("Host"), FieldKind::Host);
  EXPECT_EQ(classify_field("hosT"), FieldKind::Host);
  EXPECT_EQ(classify_field("Hosts"), FieldKind::Other);
  EXPECT_EQ(classify_field("Content-Length"), FieldKind::ContentLength);
  EXPECT_EQ(classify_field("Transfer-Encoding"), FieldKind::TransferEncoding);
  EXPECT_EQ(classify_field("Expect"), FieldKind::Expect);
  EXPECT_EQ(classify_field("X-Forwarded-For"), FieldKind::XForwardedFor);
  EXPECT_EQ(classify_field("X-Forwarded-Proto"), FieldKind::XForwardedProto);
  EXPECT_EQ(classify_field("X-Request-Id"), FieldKind::XRequestId);
  for (const char* name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                           "Upgrade"}) {
    EXPECT_EQ(classify_field(name), FieldKind::HopByHop) << name;
  }
  for (const char* name : {"Te-X", "Trailers", "X-Forwarded-Host", "Content-Type", "Accept",
                           "Transfer-Encodinx", "X-Request-Ix", "Connectio"}) {
    EXPECT_EQ(classify_field(name), FieldKind::Other) << name;
  }
}

TEST(ClassifyField, KnowsFramingLookalikesWithUnderscores) {
  using detail::classify_field;
  for (const char* name : {"Content_Length", "content_length", "CONTENT_LENGTH", "Content_length",
                           "Transfer_Encoding", "transfer_encoding", "TRANSFER_ENCODING"}) {
    EXPECT_EQ(classify_field(name), FieldKind::FramingLookalike) << name;
  }
  // Any other '_' is an ordinary tchar: the field is kept as it is.
  for (const char* name : {"X_Custom", "Content_Type", "X_Forwarded_Proto", "X_Request_Id",
                           "Content_Lengtx", "Transfer_Encodinx", "Content-Length_",
                           "_ontent-Length", "Transfer__Encoding", "Content__Length"}) {
    EXPECT_EQ(classify_field(name), FieldKind::Other) << name;
  }
}

TEST(FindLine, FindsCrlfAndRejectsBareLf) {
  size_t cr = 99;
  EXPECT_EQ(detail::find_line("ab\r\ncd", 0, 100, cr), detail::LineStatus::Found);
  EXPECT_EQ(cr, 2U);
  EXPECT_EQ(detail::find_line("ab\r\ncd\r\n", 4, 100, cr), detail::LineStatus::Found);
  EXPECT_EQ(cr, 6U);
  EXPECT_EQ(detail::find_line("ab\ncd", 0, 100, cr), detail::LineStatus::BareLf);
  EXPECT_EQ(detail::find_line("\n", 0, 100, cr), detail::LineStatus::BareLf);
  EXPECT_EQ(detail::find_line("ab\r", 0, 100, cr), detail::LineStatus::Incomplete);
  EXPECT_EQ(detail::find_line("abcd\r\n", 0, 5, cr), detail::LineStatus::Incomplete);  // window
  EXPECT_EQ(detail::find_line("abcd\r\n", 0, 6, cr), detail::LineStatus::Found);
}

}  // namespace
}  // namespace vane::proxy::http
