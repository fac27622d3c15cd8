// TLS termination on a listener (SPEC §2 listeners[].tls): certificates from a CA the test makes,
// chosen by SNI (exact names, then wildcards, else the first); TLS 1.2 and 1.3 only with modern
// suites; ALPN h2 then http/1.1 (protocols' default); a handshake deadline; X-Forwarded-Proto https; keep-alive over TLS; and
// bad certificate files as config errors with their position.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/test_ca.hpp"

namespace vane::it {
namespace {

constexpr std::string_view tls_yaml = R"(
listeners:
  - name: public
    address: "127.0.0.1:0"
    tls:
      certificates:
        - {certFile: "{{a_cert}}", keyFile: "{{a_key}}"}
        - {certFile: "{{b_cert}}", keyFile: "{{b_key}}"}
        - {certFile: "{{w_cert}}", keyFile: "{{w_key}}"}
admin: {address: "127.0.0.1:0"}
limits: {requestHeaderTimeout: 500ms}
upstreams:
  - {name: web, endpoints: ["{{web}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: web}
)";

class TlsListenerTest : public ::testing::Test {
 protected:
  std::string yaml() {
    const CertFiles a = ca_.issue("a.test", {"DNS:a.test"});
    const CertFiles b = ca_.issue("b.test", {"DNS:b.test"});
    const CertFiles w = ca_.issue("wild.test", {"DNS:*.wild.test"});
    return render(std::string(tls_yaml),
                  {{"a_cert", a.cert}, {"a_key", a.key}, {"b_cert", b.cert}, {"b_key", b.key},
                   {"w_cert", w.cert}, {"w_key", w.key}, {"web", web_.address()}});
  }

  /// curl verifying against the test CA, with `host` resolved to vane's listener.
  CommandResult https(const std::string& host, std::vector<std::string> args) {
    const std::string port = std::to_string(vane_.port());
    args.insert(args.begin(), {"--cacert", ca_.ca_file(), "--resolve", host + ":" + port + ":127.0.0.1"});
    return curl(std::move(args));
  }
  std::string url(const std::string& host, const std::string& target) const {
    return "https://" + host + ":" + std::to_string(vane_.port()) + target;
  }

  TestCa ca_;
  TestUpstream web_{"web"};
  Vane vane_{yaml()};
};

TEST_F(TlsListenerTest, CurlGetsTheUpstreamsAnswerWithForwardedProtoHttps) {
  const CommandResult r = https("a.test", {url("a.test", "/hello?echo=1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto echo = parse_echo(r.out);
  ASSERT_TRUE(echo) << r.out;
  EXPECT_EQ(echo->target, "/hello?echo=1");
  EXPECT_EQ(echo->values("X-Forwarded-Proto"), std::vector<std::string>{"https"});
}

// A client that reads slower than vane writes: the socket fills, OpenSSL's write waits and is
// tried again with the same bytes (write_now, then write_rest); every byte arrives, in order.
TEST_F(TlsListenerTest, ASlowReaderGetsALargeAnswerWholeOverHttp11AndHttp2) {
  constexpr uint64_t kBytes = 16 << 20;  // past what the loopback's socket buffers hold
  for (const char* protocol : {"--http1.1", "--http2"}) {
    const CommandResult r = https("a.test", {protocol, "--limit-rate", "16M",
                                             url("a.test", "/big?body_bytes=" + std::to_string(kBytes))});
    ASSERT_EQ(r.exit_code, 0) << protocol << ": " << r.err;
    EXPECT_EQ(r.out.size(), kBytes) << protocol;
    EXPECT_EQ(fnv1a(r.out), pattern_fnv(kBytes)) << protocol;
  }
}

TEST_F(TlsListenerTest, SniPicksTheCertificate) {
  struct Case {
    std::vector<std::string> args;
    std::string subject;
  };
  const std::vector<Case> cases{
      {{"-servername", "b.test"}, "CN = b.test"},
      {{"-servername", "B.Test"}, "CN = b.test"},         // names are case-insensitive
      {{"-servername", "x.wild.test"}, "CN = wild.test"},  // a wildcard covers one label
      {{"-servername", "a.b.wild.test"}, "CN = a.test"},   // ... not two: the default
      {{"-servername", "unknown.test"}, "CN = a.test"},
      {{"-noservername"}, "CN = a.test"},
  };
  for (const auto& c : cases) {
    const CommandResult r = s_client(vane_.port(), c.args);
    EXPECT_EQ(r.exit_code, 0) << c.args.back() << ": " << r.err;
    EXPECT_EQ(served_subject(r), "subject=" + c.subject) << c.args.back();
  }
  // curl checks the name against the certificate it got: only the right one verifies.
  for (const std::string host : {"a.test", "b.test", "x.wild.test"}) {
    const CommandResult r = https(host, {"-o", "/dev/null", "-w", "%{http_code}", url(host, "/")});
    EXPECT_EQ(r.exit_code, 0) << host << ": " << r.err;
    EXPECT_EQ(r.out, "200") << host;
  }
}

TEST_F(TlsListenerTest, KeepAliveCarriesSeveralRequestsOnOneTlsConnection) {
  const CommandResult r =
      https("a.test", {"-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-w",
                       "%{http_code}:%{num_connects} ", url("a.test", "/1"), url("a.test", "/2"),
                       url("a.test", "/3")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200:1 200:0 200:0 ") << "one connection, then reused";
  EXPECT_EQ(web_.stats().requests, 3U);
}

TEST_F(TlsListenerTest, OnlyTls12And13WithModernSuites) {
  const CommandResult v13 = s_client(vane_.port(), {"-tls1_3"});
  EXPECT_EQ(v13.exit_code, 0) << v13.err;
  EXPECT_NE(v13.out.find("New, TLSv1.3, Cipher is"), std::string::npos) << v13.out;
  const CommandResult v12 = s_client(vane_.port(), {"-tls1_2"});
  EXPECT_EQ(v12.exit_code, 0) << v12.err;
  EXPECT_NE(v12.out.find("New, TLSv1.2, Cipher is ECDHE-"), std::string::npos) << v12.out;
  // Security level 0 lets this client offer TLS 1.1 at all: the refusal is the server's.
  const CommandResult v11 = s_client(vane_.port(), {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  EXPECT_NE(v11.exit_code, 0);
  EXPECT_NE((v11.out + v11.err).find("protocol version"), std::string::npos) << v11.out << v11.err;
  // A TLS 1.2 suite without forward secrecy is not offered by the server.
  const CommandResult weak = s_client(vane_.port(), {"-tls1_2", "-cipher", "AES128-SHA"});
  EXPECT_NE(weak.exit_code, 0) << weak.out;
  const CommandResult old = curl({"-k", "--tlsv1.1", "--tls-max", "1.1", url("a.test", "/")});
  EXPECT_NE(old.exit_code, 0) << old.out;
}

TEST_F(TlsListenerTest, AlpnOffersH2ThenHttp11ByDefault) {
  const CommandResult both = s_client(vane_.port(), {"-alpn", "http/1.1,h2"});
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.out.find("ALPN protocol: h2"), std::string::npos) << both.out;  // vane's order
  const CommandResult h1 = s_client(vane_.port(), {"-alpn", "http/1.1"});
  EXPECT_NE(h1.out.find("ALPN protocol: http/1.1"), std::string::npos) << h1.out;
  // A client offering none of them still gets a handshake, without ALPN, and may speak HTTP/1.1.
  const CommandResult other = s_client(vane_.port(), {"-alpn", "spdy/3"});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(other.out.find("No ALPN negotiated"), std::string::npos) << other.out;
  const CommandResult curl_v = https("a.test", {"-v", "-o", "/dev/null", url("a.test", "/")});
  EXPECT_NE(curl_v.err.find("ALPN: server accepted h2"), std::string::npos) << curl_v.err;
  EXPECT_NE(curl_v.err.find("< HTTP/2 200"), std::string::npos) << curl_v.err;
  const CommandResult curl_h1 = https("a.test", {"-v", "--http1.1", "-o", "/dev/null", url("a.test", "/")});
  EXPECT_NE(curl_h1.err.find("< HTTP/1.1 200"), std::string::npos) << curl_h1.err;
}

TEST_F(TlsListenerTest, HandshakeDeadlineClosesASilentClient) {
  RawClient silent(vane_.port());
  const auto start = Clock::now();
  EXPECT_TRUE(silent.wait_closed(5s)) << "a client that sends nothing must be closed";
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 400ms) << "closed before requestHeaderTimeout (500ms)";
  // A client stalled mid-handshake: a partial ClientHello record header.
  RawClient stalled(vane_.port());
  ASSERT_TRUE(stalled.send(std::string("\x16\x03\x01\x02", 4)));
  EXPECT_TRUE(stalled.wait_closed(5s));
  EXPECT_TRUE(stalled.pending().empty()) << "no answer, only the close";
}

// A reload (SIGHUP) reads the certificate files again: rotation without a restart.
TEST(TlsReloadTest, ARotatedCertificateIsServedAfterSighup) {
  TestCa ca;
  TempDir dir;
  const CertFiles old_cert = ca.issue("old.test", {"DNS:old.test"});
  const CertFiles new_cert = ca.issue("new.test", {"DNS:new.test"});
  const auto cert = (dir.path() / "tls.crt").string(), key = (dir.path() / "tls.key").string();
  write_file(cert, read_file(old_cert.cert));
  write_file(key, read_file(old_cert.key));
  TestUpstream web("web");
  Vane vane(render(R"(
listeners:
  - {name: public, address: "127.0.0.1:0", tls: {certFile: "{{cert}}", keyFile: "{{key}}"}}
admin: {address: "127.0.0.1:0"}
upstreams: [{name: web, endpoints: ["{{web}}"]}]
routes: [{name: main, match: {pathPrefix: /}, upstream: web}]
)",
                   {{"cert", cert}, {"key", key}, {"web", web.address()}}));
  EXPECT_EQ(served_subject(s_client(vane.port(), {})), "subject=CN = old.test");
  write_file(cert, read_file(new_cert.cert));
  write_file(key, read_file(new_cert.key));
  vane.process().signal(SIGHUP);
  EXPECT_TRUE(wait_until([&] { return served_subject(s_client(vane.port(), {})) == "subject=CN = new.test"; }, 10s))
      << vane.log();
}

// ---- bad certificate files are config errors --------------------------------------------------

class TlsConfigTest : public ::testing::Test {
 protected:
  /// `vane validate` on a listener whose tls block is `tls` (indented by 6).
  CommandResult validate(const std::string& tls) {
    const std::string yaml = "listeners:\n  - name: public\n    address: \"127.0.0.1:0\"\n    tls:\n" +
                             tls + "routes: []\n";
    write_file(dir_.path() / "vane.yaml", yaml);
    return run_command({vane_binary(), "validate", "-c", "vane.yaml"}, 20s, dir_.path());
  }

  TestCa ca_;
  TempDir dir_;
};

TEST_F(TlsConfigTest, MissingUnreadableOrMismatchedFilesNameTheirPosition) {
  const CertFiles a = ca_.issue("a.test", {"DNS:a.test"});
  const CertFiles b = ca_.issue("b.test", {"DNS:b.test"});
  write_file(dir_.path() / "not.pem", "hello\n");
  struct Case {
    std::string tls;
    std::string error;
  };
  const std::vector<Case> cases{
      {"      certFile: /nonexistent/x.crt\n      keyFile: " + a.key + "\n",
       "vane.yaml:5:17: listeners[0].tls.certFile: cannot read /nonexistent/x.crt: No such file"},
      {"      certFile: not.pem\n      keyFile: " + a.key + "\n",
       "vane.yaml:5:17: listeners[0].tls.certFile: not.pem holds no PEM certificate"},
      {"      certFile: " + a.cert + "\n      keyFile: not.pem\n",
       "vane.yaml:6:16: listeners[0].tls.keyFile: not.pem holds no PEM private key"},
      {"      certificates:\n        - {certFile: " + a.cert + ", keyFile: " + a.key +
           "}\n        - {certFile: " + b.cert + ", keyFile: " + a.key + "}\n",
       "vane.yaml:7:" + std::to_string(33 + b.cert.size()) +
           ": listeners[0].tls.certificates[1].keyFile: " + a.key + " does not match the certificate in " + b.cert},
  };
  for (const auto& c : cases) {
    const CommandResult r = validate(c.tls);
    EXPECT_EQ(r.exit_code, 1) << c.tls;
    EXPECT_EQ(r.err.find(c.error), 0U) << "expected: " << c.error << "\ngot: " << r.err;
  }
  const CommandResult ok = validate("      certFile: " + a.cert + "\n      keyFile: " + a.key + "\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(TlsConfigTest, RunRefusesToStartWithABadCertificate) {
  validate("      certFile: /nonexistent/x.crt\n      keyFile: /nonexistent/x.key\n");
  Process vane({vane_binary(), "run", "-c", "vane.yaml"}, dir_.path(), dir_.path() / "out",
               dir_.path() / "err");
  EXPECT_EQ(vane.wait_exit(20s), 1);
  EXPECT_NE(read_file(dir_.path() / "err").find("listeners[0].tls.certFile"), std::string::npos);
}

}  // namespace
}  // namespace vane::it
