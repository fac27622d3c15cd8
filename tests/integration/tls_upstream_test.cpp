// Upstreams over TLS (SPEC §2: https:// endpoints, upstreams[].tls): verification against caFile
// or the system store, host name checks (from the endpoint or serverName, also sent as SNI),
// insecureSkipVerify, a verification failure answered 502, pooled TLS connections reused.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/integration/body_pattern.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/test_ca.hpp"

namespace vane::it {
namespace {

/// vane-test-upstream serving TLS with `cert` (and plain HTTP, for its /__stats).
class TlsUpstream {
 public:
  explicit TlsUpstream(const CertFiles& cert) {
    const auto ready = dir_.path() / "ready.json";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{upstream_binary(), "--name", "secure", "--ready-file",
                                 ready.string(), "--tls-cert", cert.cert, "--tls-key", cert.key},
        dir_.path(), dir_.path() / "out", dir_.path() / "err");
    boost::json::object info;
    const bool ready_in_time = wait_until(
        [&] {
          boost::system::error_code ec;
          const auto value = boost::json::parse(read_file(ready), ec);
          if (!ec && value.is_object()) info = value.as_object();
          return !info.empty() || !process_->running();
        },
        10s);
    if (!ready_in_time || info.empty() || !info.contains("tls_port")) {
      throw std::runtime_error("TLS upstream not ready: " + read_file(dir_.path() / "err"));
    }
    plain_port_ = static_cast<uint16_t>(info.at("port").to_number<uint64_t>());
    tls_port_ = static_cast<uint16_t>(info.at("tls_port").to_number<uint64_t>());
  }

  uint16_t tls_port() const { return tls_port_; }
  /// /__stats: connections and requests served (TLS ones included), and the last SNI.
  boost::json::object stats() const {
    const Response r = http_get(plain_port_, "/__stats", "127.0.0.1");
    if (r.status != 200) throw std::runtime_error("GET /__stats failed");
    return boost::json::parse(r.body).as_object();
  }
  uint64_t count(const char* key) const { return stats().at(key).to_number<uint64_t>(); }
  std::string sni() const { return std::string(stats().at("sni").as_string()); }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t plain_port_ = 0;
  uint16_t tls_port_ = 0;
};

// One worker: one pool, so reuse is exact. The upstream's certificate names upstream.test and
// 127.0.0.1; the route's path names the upstream block that reaches it.
constexpr std::string_view upstream_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - name: by-address
    endpoints: ["https://127.0.0.1:{{port}}"]
    tls: {caFile: "{{ca}}"}
  - name: by-server-name
    endpoints: ["https://127.0.0.1:{{port}}"]
    tls: {caFile: "{{ca}}", serverName: upstream.test}
  - name: wrong-name
    endpoints: ["https://127.0.0.1:{{port}}"]
    tls: {caFile: "{{ca}}", serverName: other.test}
  - name: system-store
    endpoints: ["https://127.0.0.1:{{port}}"]
  - name: other-ca
    endpoints: ["https://127.0.0.1:{{port}}"]
    tls: {caFile: "{{other_ca}}"}
  - name: insecure
    endpoints: ["https://127.0.0.1:{{port}}"]
    tls: {caFile: "{{other_ca}}", insecureSkipVerify: true, serverName: insecure.test}
routes:
  - {name: by-address, match: {pathPrefix: /by-address}, upstream: by-address}
  - {name: by-server-name, match: {pathPrefix: /by-server-name}, upstream: by-server-name}
  - {name: wrong-name, match: {pathPrefix: /wrong-name}, upstream: wrong-name}
  - {name: system-store, match: {pathPrefix: /system-store}, upstream: system-store}
  - {name: other-ca, match: {pathPrefix: /other-ca}, upstream: other-ca}
  - {name: insecure, match: {pathPrefix: /insecure}, upstream: insecure}
)";

class TlsUpstreamTest : public ::testing::Test {
 protected:
  std::string yaml() {
    return render(std::string(upstream_yaml), {{"port", std::to_string(upstream_.tls_port())},
                                               {"ca", ca_.ca_file()},
                                               {"other_ca", other_ca_.ca_file()}});
  }
  Response get(const std::string& target) { return http_get(vane_.port(), target, "app.test"); }

  TestCa ca_;
  TestCa other_ca_{"another CA"};
  TlsUpstream upstream_{ca_.issue("upstream.test", {"DNS:upstream.test", "IP:127.0.0.1"})};
  Vane vane_{yaml()};
};

TEST_F(TlsUpstreamTest, VerifiedByCaFileAndTheEndpointsAddress) {
  const Response r = get("/by-address/x");
  EXPECT_EQ(r.status, 200) << vane_.log();
  EXPECT_EQ(r.body, "secure GET /by-address/x\n");
  EXPECT_EQ(upstream_.sni(), "") << "an address is never sent as SNI";
}

TEST_F(TlsUpstreamTest, ServerNameIsSentAsSniAndVerified) {
  const Response r = get("/by-server-name/x");
  EXPECT_EQ(r.status, 200) << vane_.log();
  EXPECT_EQ(upstream_.sni(), "upstream.test");
}

TEST_F(TlsUpstreamTest, AFailedVerificationIs502) {
  for (const std::string target : {"/wrong-name", "/system-store", "/other-ca"}) {
    const Response r = get(target);
    EXPECT_EQ(r.status, 502) << target;
    EXPECT_FALSE(r.header("X-Upstream")) << target << ": the 502 must come from vane";
  }
  EXPECT_EQ(upstream_.count("requests"), 0U) << "no request may cross an unverified connection";
  EXPECT_NE(vane_.log().find("certificate verify failed"), std::string::npos) << vane_.log();
}

TEST_F(TlsUpstreamTest, InsecureSkipVerifyAcceptsAnyCertificate) {
  const Response r = get("/insecure/x");
  EXPECT_EQ(r.status, 200) << vane_.log();
  EXPECT_EQ(upstream_.sni(), "insecure.test");
}

TEST_F(TlsUpstreamTest, KeptAliveTlsConnectionsAreReused) {
  for (int i = 0; i < 5; ++i) {
    const Response r = get("/by-server-name/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i;
  }
  // A body larger than one TLS record, both ways through the pooled connection.
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(request("GET", "/by-server-name/big?body_bytes=300000", "app.test")));
  const Response big = client.read_response(10s);
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.body.size(), 300000U);
  EXPECT_EQ(fnv1a(big.body), pattern_fnv(300000));
  EXPECT_EQ(upstream_.count("requests"), 6U);
  EXPECT_EQ(upstream_.count("connections"), 1U) << "each request opened its own TLS connection";
}

}  // namespace
}  // namespace vane::it
