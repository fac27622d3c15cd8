// field_semantics: Content-Length, transfer codings, Connection options, Host syntax.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proxy/http/field_semantics.hpp"

namespace vane::proxy::http::detail {
namespace {

TEST(ParseContentLength, AcceptsDigitsOnly) {
  uint64_t n = 77;
  EXPECT_TRUE(parse_content_length("0", n));
  EXPECT_EQ(n, 0U);
  EXPECT_TRUE(parse_content_length("0012", n));
  EXPECT_EQ(n, 12U);
  EXPECT_TRUE(parse_content_length("9223372036854775807", n));
  EXPECT_EQ(n, 9223372036854775807ULL);
  for (const char* bad : {"", " 1", "1 ", "+1", "-1", "1,1", "0x1", "1e3", "9223372036854775808",
                          "18446744073709551616", "99999999999999999999999", "١"}) {
    n = 5;
    EXPECT_FALSE(parse_content_length(bad, n)) << bad;
    EXPECT_EQ(n, 5U) << "untouched on failure: " << bad;
  }
}

TransferCodings codings(const std::vector<std::string>& fields) {
  TransferCodings te;
  for (const std::string& f : fields) te.add(f);
  return te;
}

TEST(TransferCodings, CountsAndOrders) {
  TransferCodings te = codings({"chunked"});
  EXPECT_EQ(te.fields, 1U);
  EXPECT_EQ(te.codings, 1U);
  EXPECT_EQ(te.chunked, 1U);
  EXPECT_TRUE(te.last_chunked);
  EXPECT_FALSE(te.unknown);
  EXPECT_FALSE(te.malformed);

  te = codings({"gzip", "Chunked"});
  EXPECT_EQ(te.fields, 2U);
  EXPECT_EQ(te.codings, 2U);
  EXPECT_TRUE(te.last_chunked);
  EXPECT_FALSE(te.unknown);

  te = codings({"chunked , x-gzip"});
  EXPECT_FALSE(te.last_chunked);
  EXPECT_EQ(te.chunked, 1U);
  EXPECT_FALSE(te.unknown);

  EXPECT_TRUE(codings({"xchunked"}).unknown);
  EXPECT_TRUE(codings({"deflate, br, chunked"}).unknown);
  EXPECT_EQ(codings({"chunked, chunked"}).chunked, 2U);
}

TEST(TransferCodings, MalformedLists) {
  for (const char* bad : {"", "chunked,", ",chunked", "chunked,,chunked", "chunked;a=b",
                          "\"chunked\"", "chun ked"}) {
    EXPECT_TRUE(codings({bad}).malformed) << bad;
  }
}

TEST(ConnectionOptions, ReadsTokens) {
  ConnectionOptions c;
  c.add("Keep-Alive");
  EXPECT_TRUE(c.keep_alive);
  EXPECT_FALSE(c.close);
  EXPECT_FALSE(c.named_fields);
  c.add(" , close ,");
  EXPECT_TRUE(c.close);
  EXPECT_FALSE(c.named_fields);
  c.add("x-trace");
  EXPECT_TRUE(c.named_fields);
  EXPECT_FALSE(c.malformed);
  c.add("a=b");
  EXPECT_TRUE(c.malformed);
}

TEST(ValidHost, FollowsUriHostAndPort) {
  for (const char* ok : {"a", "example.com", "EXAMPLE.com:8080", "10.1.2.3", "10.1.2.3:1",
                         "[::1]", "[::1]:443", "[2001:db8::a:b]", "[::ffff:10.0.0.1]", "a-b_c~d",
                         "%41%42", "a.b.c.d.e:65535", "sub!$&'()*+,;=x"}) {
    EXPECT_TRUE(valid_host(ok)) << ok;
  }
  for (const char* bad : {"", ":80", "a:", "a:b", "a:1:2", "a:123456", "a b", "a/b", "a?b", "a#b",
                          "a@b", "a\\b", "[", "[]", "[::1", "::1", "[::1]x", "[::1]:", "[v1.x]",
                          "[1.2.3.4]", "a%", "a%4", "a%GG", "\"a\"", "caf\xc3\xa9", "a\tb"}) {
    EXPECT_FALSE(valid_host(bad)) << bad;
  }
}

TEST(ForEachElement, SplitsAndTrims) {
  std::vector<std::string> seen;
  for_each_element(" a ,b,, \tc\t", [&](std::string_view e) {
    seen.emplace_back(e);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "", "c"}));
  seen.clear();
  for_each_element("a,b,c", [&](std::string_view e) {
    seen.emplace_back(e);
    return e != "b";
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace vane::proxy::http::detail
