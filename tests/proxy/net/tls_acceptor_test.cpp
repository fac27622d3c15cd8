// TlsAcceptor: certificate names from subjectAltName (else CN), SNI selection (exact, then one-label
// wildcard, else the default), and loading errors that name the file.
#include "proxy/net/tls_acceptor.hpp"

#include <gtest/gtest.h>

#include "tests/proxy/net/tls_test_files.hpp"

namespace vane::proxy {
namespace {

TEST(TlsAcceptor, NameMatchesFollowsRfc6125) {
  struct Case {
    const char* pattern;
    const char* host;
    bool match;
  };
  const Case cases[] = {
      {"a.test", "a.test", true},        {"a.test", "b.test", false},
      {"*.w.test", "x.w.test", true},    {"*.w.test", "w.test", false},
      {"*.w.test", "a.x.w.test", false}, {"*.w.test", ".w.test", false},
      {"*.w.test", "xw.test", false},    {"a.test", "*.test", false},
  };
  for (const auto& c : cases) EXPECT_EQ(name_matches(c.pattern, c.host), c.match) << c.pattern << " " << c.host;
}

TEST(TlsAcceptor, SelectsByExactNameThenWildcardElseTheDefault) {
  test::TlsFiles files;
  config::ListenerTls tls;
  for (const auto& [cn, sans] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"a.test", {"DNS:a.test", "DNS:www.a.test"}},
           {"wild", {"DNS:*.w.test"}},
           {"x.w.test", {"DNS:x.w.test"}},
           {"Only.CN.test", {}}}) {
    const auto pair = files.issue(cn, sans);
    tls.certificates.push_back({pair.cert, pair.key});
  }
  TlsAcceptor server(tls);
  EXPECT_EQ(server.names(0), (std::vector<std::string>{"a.test", "www.a.test"}));
  EXPECT_EQ(server.names(3), std::vector<std::string>{"only.cn.test"}) << "no SAN: the CN, lower-case";
  EXPECT_EQ(server.select("www.a.test"), 0U);
  EXPECT_EQ(server.select("WWW.A.TEST"), 0U);
  EXPECT_EQ(server.select("y.w.test"), 1U);
  EXPECT_EQ(server.select("x.w.test"), 2U) << "an exact name beats an earlier wildcard";
  EXPECT_EQ(server.select("only.cn.test"), 3U);
  EXPECT_EQ(server.select("a.y.w.test"), 0U);
  EXPECT_EQ(server.select("nothing.test"), 0U);
}

TEST(TlsAcceptor, LoadingErrorsNameTheFile) {
  test::TlsFiles files;
  const auto a = files.issue("a.test", {"DNS:a.test"});
  const auto b = files.issue("b.test", {"DNS:b.test"});
  try {
    TlsAcceptor server(config::ListenerTls{{{a.cert, a.key}, {b.cert, a.key}}});
    FAIL() << "a key of another certificate was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), a.key + " does not match the certificate in " + b.cert);
  }
}

}  // namespace
}  // namespace vane::proxy
