// HTTP/2 to upstreams (SPEC §10, `upstreams[].protocol: h2`): real HTTP/2 servers
// (tests/integration/h2_upstream.py, on Debian's python3-h2) behind the rollout's split, reached
// by HTTP/1.1 and HTTP/2 clients (curl, h2load, nghttp, raw bytes): requests multiplexed on
// pooled connections, bodies and trailers both ways, ALPN h2 on https, a slow stream timed out
// alone, an upstream that goes away replaced.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/raw_client.hpp"
#include "tests/integration/rollout_support.hpp"
#include "tests/integration/script_server.hpp"
#include "tests/integration/test_ca.hpp"

namespace vane::it {
namespace {

/// Two h2 upstreams, v1 (stable) and v2, 50/50 once v2 is desired.
struct H2Rig {
  explicit H2Rig(std::string v1_options = "", int workers = 2)
      : v1(VANE_H2_UPSTREAM, {"--name", "v1"}), v2(VANE_H2_UPSTREAM, {"--name", "v2"}) {
    RolloutSetup setup;
    setup.listener_extra = ", protocols: [http1, h2]";
    setup.canary = "        steps:\n          - setWeight: 50\n          - pause: {}\n";
    setup.endpoints = {{"v1", v1.address()}, {"v2", v2.address()}};
    setup.upstream_options = {{"v1", "protocol: h2" + v1_options}, {"v2", "protocol: h2"}};
    setup.workers = workers;
    rig.emplace(setup);
  }
  std::string url(std::string_view target) const {
    return "http://127.0.0.1:" + std::to_string(rig->port()) + std::string(target);
  }

  ScriptServer v1, v2;
  std::optional<RolloutRig> rig;
};

/// What h2_upstream.py has served: {"connections", "streams"}.
json::value served(const ScriptServer& upstream) {
  const CommandResult r = curl({"-sS", "--http2-prior-knowledge",
                                "http://" + upstream.address() + "/count"});
  return parse_json(r.out);
}

std::string sha_of(const std::filesystem::path& file) {
  return run_command({"sha256sum", file.string()}).out.substr(0, 64);
}

TEST(H2UpstreamTest, BothClientProtocolsAreSplitOverMultiplexedConnections) {
  H2Rig h2;
  RolloutRig& rig = *h2.rig;
  ASSERT_NE(h2.v1.port(), 0) << h2.v1.err();
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s)) << summary(s);
  // 400 HTTP/2 streams on one client connection, 50 at a time; 20 HTTP/1.1 requests.
  const CommandResult load = run_command({"h2load", "-n", "400", "-c", "1", "-m", "50",
                                          h2.url("/split")}, 60s);
  ASSERT_EQ(load.exit_code, 0) << load.out << load.err;
  EXPECT_NE(load.out.find("status codes: 400 2xx"), std::string::npos) << load.out;
  for (int i = 0; i < 20; ++i) {
    const CommandResult r = curl({"-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", h2.url("/h1")});
    EXPECT_EQ(r.out, "200");
  }
  const json::value a = served(h2.v1), b = served(h2.v2);
  const double streams_v1 = num(field(a, "streams")), streams_v2 = num(field(b, "streams"));
  EXPECT_EQ(streams_v1 + streams_v2, 420);
  EXPECT_NEAR(streams_v2, 210.0, binomial_band(0.5, 420)) << streams_v1 << "/" << streams_v2;
  // Multiplexed: a worker holds one connection per upstream while the streams fit on it.
  EXPECT_LE(num(field(a, "connections")), 2) << json::serialize(a);
  EXPECT_LE(num(field(b, "connections")), 2) << json::serialize(b);
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"target", "canary"}, {"code_class", "2xx"}}), streams_v2);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"target", "stable"}, {"code_class", "2xx"}}), streams_v1);
}

TEST(H2UpstreamTest, BodiesCrossWholeFromEitherProtocolAndFraming) {
  H2Rig h2;
  TempDir dir;
  const auto upload = dir.path() / "upload";
  ASSERT_EQ(run_command({"sh", "-c", "head -c 5000000 /dev/urandom > " + upload.string()}).exit_code, 0);
  const std::string want = sha_of(upload);
  const std::vector<std::vector<std::string>> ways = {
      {"--http2-prior-knowledge"},                                   // h2 with a content-length
      {"--http1.1"},                                                 // HTTP/1.1, content-length
      {"--http1.1", "-H", "Transfer-Encoding: chunked"},             // HTTP/1.1, chunked
  };
  for (const auto& way : ways) {
    const auto back = dir.path() / "back";
    std::vector<std::string> args = {"-sS", "-o", back.string(), "-w", "%{http_code}",
                                     "--data-binary", "@" + upload.string()};
    args.insert(args.end(), way.begin(), way.end());
    args.push_back(h2.url("/echo?echo=1"));
    const CommandResult r = curl(args);
    EXPECT_EQ(r.out, "200") << way.back() << r.err;
    EXPECT_EQ(sha_of(back), want) << way.back();
  }
  // A large answer to both kinds of client: the upstream's flow control follows the reader.
  for (const std::string protocol : {"--http2-prior-knowledge", "--http1.1"}) {
    const CommandResult r = curl({"-sS", protocol, "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                  h2.url("/big?size=8000000")});
    EXPECT_EQ(r.out, "200 8000000") << protocol << r.err;
  }
}

TEST(H2UpstreamTest, TrailersAreRelayedToBothKindsOfClientAndFromAChunkedUpload) {
  H2Rig h2;
  // To an HTTP/2 client: a HEADERS frame after the DATA, ending the stream.
  const CommandResult n = run_command({"nghttp", "-v", h2.url("/t?trailers=1&size=10")}, 20s);
  ASSERT_EQ(n.exit_code, 0) << n.err;
  const size_t data = n.out.find("recv DATA frame");
  const size_t trailer = n.out.find("x-trailer: yes");
  ASSERT_NE(trailer, std::string::npos) << n.out;
  EXPECT_LT(data, trailer) << n.out;
  // To an HTTP/1.1 client: in the last chunk.
  RawClient raw(h2.rig->port());
  ASSERT_TRUE(raw.send("GET /t?trailers=1&size=10 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string got = raw.read_until_closed();
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_NE(got.find("\r\n0\r\nx-trailer: yes\r\nx-sum: 0\r\n\r\n"), std::string::npos) << got;
  // An HTTP/1.1 client's trailers reach the upstream (which echoes them back as trailers).
  RawClient upload(h2.rig->port());
  ASSERT_TRUE(upload.send("POST /e?echo=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: 42\r\n"
                          "Content-Length: 9\r\n\r\n"));
  const std::string echoed = upload.read_until_closed();
  EXPECT_NE(echoed.find("5\r\nhello\r\n0\r\nx-echo-x-checksum: 42\r\n\r\n"), std::string::npos) << echoed;
  EXPECT_EQ(echoed.find("x-echo-content-length"), std::string::npos) << "a framing field is no trailer";
}

TEST(H2UpstreamTest, AnHttpsUpstreamAgreesOnH2ByAlpn) {
  TestCa ca;
  const CertFiles cert = ca.issue("127.0.0.1", {"IP:127.0.0.1"});
  ScriptServer upstream(VANE_H2_UPSTREAM, {"--name", "secure", "--tls", cert.cert, cert.key});
  ASSERT_NE(upstream.port(), 0) << upstream.err();
  Vane vane(R"(listeners: [{name: public, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: s, endpoints: ["https://)" + upstream.address() + R"("], protocol: h2, tls: {caFile: ")" +
            ca.ca_file() + R"("}}
routes: [{name: all, match: {pathPrefix: /}, upstream: s}]
)");
  const CommandResult r = curl({"-sS", "-i", "http://127.0.0.1:" + std::to_string(vane.port()) + "/x"});
  EXPECT_NE(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("x-upstream: secure"), std::string::npos) << r.out;
}

TEST(H2UpstreamTest, ASlowStreamTimesOutAloneAndItsConnectionServesOn) {
  H2Rig h2(", timeout: 1s", 1);
  std::thread slow([&] {
    const CommandResult r = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", h2.url("/slow?delay_ms=4000")});
    EXPECT_EQ(r.out, "504");
  });
  for (int i = 0; i < 10; ++i) {
    const CommandResult r = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", h2.url("/fast")});
    EXPECT_EQ(r.out, "200");
  }
  slow.join();
  const CommandResult after = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", h2.url("/after")});
  EXPECT_EQ(after.out, "200");
  const json::value counts = served(h2.v1);
  EXPECT_EQ(num(field(counts, "connections")), 1) << "the timed-out stream was reset, not its connection";
  EXPECT_EQ(num(field(counts, "streams")), 12);
}

TEST(H2UpstreamTest, AnUpstreamThatGoesAwayFailsItsStreamsAndIsReplaced) {
  std::optional<ScriptServer> v1;
  v1.emplace(VANE_H2_UPSTREAM, std::vector<std::string>{"--name", "first"});
  const std::string port = std::to_string(v1->port());
  Vane vane(R"(listeners: [{name: public, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams: [{name: u, endpoints: ["127.0.0.1:)" + port + R"("], protocol: h2}]
routes: [{name: all, match: {pathPrefix: /}, upstream: u}]
)");
  const std::string base = "http://127.0.0.1:" + std::to_string(vane.port());
  EXPECT_EQ(curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", base + "/warm"}).out, "200");
  std::thread cut([&] {
    const CommandResult r = curl({"-sS", "-o", "/dev/null", "-w", "%{http_code}", base + "/slow?delay_ms=5000"});
    EXPECT_EQ(r.out, "502") << "a stream its upstream dropped";
  });
  ASSERT_TRUE(wait_until([&] { return num(field(served(*v1), "streams")) == 2; }, 5s))
      << "the slow request reached the upstream";
  v1->process().signal(SIGKILL);
  cut.join();
  v1.reset();
  ScriptServer second(VANE_H2_UPSTREAM, {"--name", "second", "--port", port});
  ASSERT_NE(second.port(), 0) << second.err();
  const CommandResult r = curl({"-sS", base + "/again"});
  EXPECT_EQ(r.out, "second ok\n") << r.err << vane.log();
}

}  // namespace
}  // namespace vane::it
