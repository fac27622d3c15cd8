// HTTP/2 from clients (SPEC §10): h2 with prior knowledge on a plain listener that lists it, h2
// by ALPN on TLS; every stream is a request with all of SPEC §3 — the rollout's split, the
// measurements, bodies both ways, a cut response never passing as whole — through real clients
// (curl, h2load).
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/rollout_support.hpp"
#include "tests/integration/test_ca.hpp"

namespace vane::it {
namespace {

RolloutSetup h2_setup() {
  RolloutSetup setup;
  setup.listener_extra = ", protocols: [http1, h2]";
  setup.canary = R"(        steps:
          - setWeight: 50
          - pause: {}
)";
  return setup;
}

std::string h2_url(const RolloutRig& rig, std::string_view target) {
  return "http://127.0.0.1:" + std::to_string(rig.port()) + std::string(target);
}

/// curl with prior knowledge; `-w` prints the protocol version and status last.
CommandResult h2_curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"-sS", "--http2-prior-knowledge"});
  return curl(std::move(args));
}

TEST(Http2Test, PriorKnowledgeStreamsAreSplitAndMeasuredLikeAnyRequest) {
  RolloutRig rig(h2_setup());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s)) << summary(s);
  // 400 requests on one connection, 100 streams at a time.
  const CommandResult load = run_command({"h2load", "-n", "400", "-c", "1", "-m", "100",
                                          h2_url(rig, "/split")}, 60s);
  ASSERT_EQ(load.exit_code, 0) << load.out << load.err;
  EXPECT_NE(load.out.find("400 succeeded, 0 failed"), std::string::npos) << load.out;
  EXPECT_NE(load.out.find("status codes: 400 2xx"), std::string::npos) << load.out;
  const uint64_t v1 = rig.v1().stats().requests, v2 = rig.v2().stats().requests;
  EXPECT_EQ(v1 + v2, 400U);
  EXPECT_NEAR(static_cast<double>(v2), 200.0, binomial_band(0.5, 400)) << v1 << "/" << v2;
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"target", "canary"}}), static_cast<double>(v2));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"target", "stable"}}), static_cast<double>(v1));
  EXPECT_EQ(metric_sum(samples, "vane_http2_streams_active", {{"listener", "public"}}), 0);
}

TEST(Http2Test, BodiesGoBothWaysWithEitherFraming) {
  RolloutRig rig(h2_setup());
  TempDir dir;
  std::string body;
  for (int i = 0; i < 300'000; ++i) body.push_back(static_cast<char>(i * 13 % 256));
  write_file(dir.path() / "body", body);
  for (const bool chunked : {false, true}) {
    std::vector<std::string> args = {"-X", "POST", "--data-binary", "@" + (dir.path() / "body").string()};
    if (chunked) args.insert(args.end(), {"-H", "Transfer-Encoding: chunked"});
    args.push_back(h2_url(rig, "/post?echo=1"));
    const CommandResult r = h2_curl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto echo = parse_echo(r.out);
    ASSERT_TRUE(echo) << r.out;
    EXPECT_EQ(echo->body_bytes, body.size()) << chunked;
    EXPECT_EQ(echo->version, "HTTP/1.1");  // the upstream speaks HTTP/1.1
    EXPECT_EQ(echo->values("content-length").empty(), chunked);
  }
  // Responses: by length and chunked upstream bodies, whole and byte-exact in size.
  for (const std::string target : {"/big?body_bytes=3000000", "/big?body_bytes=200000&chunked=1"}) {
    const CommandResult r = h2_curl({"-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}",
                                     h2_url(rig, target)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string size = target.substr(target.find('=') + 1, target.find('&') - target.find('=') - 1);
    EXPECT_EQ(r.out, "2 200 " + size) << target;
  }
}

TEST(Http2Test, ACutResponseResetsItsStreamAndNeverPassesAsWhole) {
  RolloutRig rig(h2_setup());
  const CommandResult r = h2_curl({"-o", "/dev/null", h2_url(rig, "/cut?body_bytes=100000&reset_mid=1")});
  EXPECT_NE(r.exit_code, 0) << "curl took a cut body as complete";
  // The connection serves on: another stream on a new request is answered.
  const CommandResult next = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/ok")});
  EXPECT_EQ(next.out, "200");
}

TEST(Http2Test, ErrorsAreAnsweredOnTheirStream) {
  RolloutRig rig(h2_setup());
  // A header list over the limit: the HTTP/1.1 rules answer 431 on that stream.
  const std::string big(70'000, 'x');
  const CommandResult r = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + big,
                                   h2_url(rig, "/")});
  EXPECT_TRUE(r.out == "431" || r.exit_code != 0) << r.out << r.err;  // 431, or RST_STREAM
  EXPECT_EQ(rig.v1().stats().requests, 0U);
}

TEST(Http2Test, APlainListenerSpeaksHttp2OnlyWhenItListsIt) {
  RolloutRig rig;  // protocols default to [http1] without TLS
  const CommandResult r = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/")});
  EXPECT_NE(r.out, "200") << "prior knowledge on an http1-only listener";
  const CommandResult h1 = curl({"-sS", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", h2_url(rig, "/")});
  EXPECT_EQ(h1.out, "1.1 200");
  // With h2 listed, HTTP/1.1 clients are served too.
  RolloutRig both(h2_setup());
  const CommandResult plain = curl({"-sS", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", h2_url(both, "/")});
  EXPECT_EQ(plain.out, "1.1 200");
}

TEST(Http2Test, TlsListenersNegotiateByTheirProtocols) {
  TestCa ca;
  const CertFiles cert = ca.issue("h2.test", {"DNS:h2.test"});
  TestUpstream web("web");
  for (const std::string protocols : {"", ", protocols: [http1]", ", protocols: [h2]"}) {
    Vane vane(render(R"(listeners:
  - {name: public, address: "127.0.0.1:0", tls: {certFile: "{{cert}}", keyFile: "{{key}}"}{{protocols}}}
admin: {address: "127.0.0.1:0"}
upstreams:
  - {name: web, endpoints: ["{{web}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: web}
)", {{"cert", cert.cert}, {"key", cert.key}, {"protocols", protocols}, {"web", web.address()}}));
    const std::string port = std::to_string(vane.port());
    const CommandResult r = curl({"-sS", "--cacert", ca.ca_file(), "--resolve", "h2.test:" + port + ":127.0.0.1",
                                  "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                                  "https://h2.test:" + port + "/?echo=1"});
    EXPECT_EQ(r.out, protocols.find("http1") != std::string::npos ? "1.1 200" : "2 200")
        << protocols << ": " << r.err;
  }
}

/// tests/integration/h2_peer.py MODE against vane: what the server did, as it prints it.
std::string attack(const RolloutRig& rig, const std::string& mode, std::vector<std::string> more = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3", VANE_H2_PEER, mode, std::to_string(rig.port())};
  argv.insert(argv.end(), more.begin(), more.end());
  const CommandResult r = run_command(argv, 90s);
  EXPECT_EQ(r.exit_code, 0) << mode << ": " << r.err;
  return r.out.empty() ? r.out : r.out.substr(0, r.out.size() - 1);
}

/// Every attack ends with the attacker's connection ended, and vane serves the next client.
TEST(Http2Test, FloodsAndRapidResetsEndTheirConnectionOnly) {
  RolloutRig rig(h2_setup());
  const std::string reset = attack(rig, "rapid-reset");
  EXPECT_TRUE(reset.starts_with("goaway ")) << "CVE-2023-44487: " << reset;
  const std::string continuation = attack(rig, "continuation");
  EXPECT_TRUE(continuation.starts_with("goaway ")) << continuation;
  const std::string ping = attack(rig, "ping-flood");
  EXPECT_TRUE(ping.starts_with("goaway ")) << ping;
  const std::string settings = attack(rig, "settings-flood");
  EXPECT_TRUE(settings.starts_with("goaway ") || settings == "closed") << settings;
  // RFC 9113 §5.1: DATA after the client's END_STREAM is a STREAM_CLOSED (5) error; a header
  // block that does not decode a COMPRESSION_ERROR (9) of the connection.
  const std::string closed = attack(rig, "closed-stream");
  EXPECT_TRUE(closed == "rst 1 5" || closed == "goaway 5") << closed;
  EXPECT_EQ(attack(rig, "bad-hpack"), "goaway 9");
  const CommandResult after = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/after")});
  EXPECT_EQ(after.out, "200");
  EXPECT_TRUE(wait_until([&] {
    return metric_sum(parse_metrics(scrape(rig.admin())), "vane_http2_streams_active") == 0;
  }, 10s)) << "streams of the attacks still counted";
}

TEST(Http2Test, AStreamPastMaxConcurrentStreamsIsRefused) {
  RolloutSetup setup = h2_setup();
  setup.top_extra = "limits: {maxConcurrentStreams: 5}";
  RolloutRig rig(setup);
  // Five slow streams open, the sixth (stream 11) is refused with REFUSED_STREAM (7).
  EXPECT_EQ(attack(rig, "streams", {"5"}), "rst 11 7");
}

/// A client that never opens its window, and one that stops reading with many streams in
/// flight: each stalled stream is reset (INTERNAL_ERROR) after requestBodyTimeout, vane's memory
/// stays bounded, and another client is served meanwhile.
TEST(Http2Test, StalledReadersAreGivenUpWithBoundedMemory) {
  RolloutSetup setup = h2_setup();
  setup.top_extra = "limits: {requestBodyTimeout: 1s}";
  setup.workers = 1;
  RolloutRig rig(setup);
  // The stream waits on a window that never opens: reset (INTERNAL_ERROR, 2) at the deadline.
  EXPECT_EQ(attack(rig, "zero-window"), "rst 1 2");
  ASSERT_TRUE(reset_peak_rss(rig.vane().process().pid()));
  const uint64_t before = proc_status_kib(rig.vane().process().pid(), "VmRSS");
  std::string stalled;
  std::thread slow([&] { stalled = attack(rig, "slow-reader", {"100"}); });
  // 100 streams of 1 MB each are due to a client that reads nothing: another client is served.
  for (int i = 0; i < 5; ++i) {
    const CommandResult r = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/other")});
    EXPECT_EQ(r.out, "200");
  }
  slow.join();
  EXPECT_EQ(stalled, "reset 100 2");
  const uint64_t peak = proc_status_kib(rig.vane().process().pid(), "VmHWM");
  // What one connection may hold: 64 KiB per stream in its pipe, plus the socket's send buffer;
  // far from the 100 MB due. Sanitizers add their shadow memory to every byte.
  const uint64_t bound_kib = (vane_sanitized() ? 120 : 40) * 1024;
  EXPECT_LT(peak, before + bound_kib) << before << " KiB before, peak " << peak;
  const CommandResult after = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/after")});
  EXPECT_EQ(after.out, "200");
}

/// A connection idle past kTrimAfter gives its buffers back (nghttp2's frame buffer pages among
/// them), then serves its next request as before.
TEST(Http2Test, AConnectionIdleASecondServesOnAfterGivingItsBuffersBack) {
  RolloutRig rig(h2_setup());
  EXPECT_EQ(attack(rig, "idle-apart", {"1.6"}), "statuses 200 200");
}

TEST(Http2Test, TheAccessLogNamesEachRequestsProtocol) {
  TestUpstream upstream("u");
  TempDir dir;
  const auto log = dir.path() / "access.log";
  Vane vane(R"(listeners: [{name: public, address: "127.0.0.1:0", protocols: [http1, h2]}]
admin: {address: "127.0.0.1:0"}
upstreams: [{name: u, endpoints: [")" + upstream.address() + R"("]}]
routes: [{name: all, match: {pathPrefix: /}, upstream: u}]
)", VaneOptions{{"--access-log", log.string()}, {}});
  const std::string base = "http://127.0.0.1:" + std::to_string(vane.port());
  EXPECT_EQ(h2_curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/two"}).out, "200");
  EXPECT_EQ(curl({"-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", base + "/one"}).out, "200");
  EXPECT_EQ(curl({"-sS", "--http1.0", "-o", "/dev/null", "-w", "%{http_code}", base + "/zero"}).out, "200");
  std::map<std::string, std::string> protocols;
  ASSERT_TRUE(wait_until([&] {
    protocols.clear();
    std::istringstream lines(read_file(log));
    for (std::string line; std::getline(lines, line);) {
      const json::value v = parse_json(line);
      protocols[str(field(v, "path"))] = str(field(v, "protocol"));
    }
    return protocols.size() == 3;
  }, 10s)) << read_file(log);
  EXPECT_EQ(protocols["/two"], "HTTP/2");
  EXPECT_EQ(protocols["/one"], "HTTP/1.1");
  EXPECT_EQ(protocols["/zero"], "HTTP/1.0");
}

TEST(Http2Test, AnHttp1PrefaceLookalikeIsNoHttp2Connection) {
  RolloutRig rig(h2_setup());
  // Not the preface: read as HTTP/1.1, refused, closed.
  EXPECT_EQ(attack(rig, "bad-preface"), "closed");
  EXPECT_EQ(rig.v1().stats().requests, 0U);
}

TEST(Http2Test, ADrainFinishesTheStreamsInFlight) {
  RolloutRig rig(h2_setup());
  CommandResult slow;
  std::thread client([&] {
    slow = h2_curl({"-o", "/dev/null", "-w", "%{http_code}", h2_url(rig, "/slow?delay_ms=1500")});
  });
  EXPECT_TRUE(wait_until([&] {
    return metric_sum(parse_metrics(scrape(rig.admin())), "vane_http2_streams_active") == 1;
  }, 5s));
  rig.vane().process().signal(SIGTERM);
  client.join();
  EXPECT_EQ(slow.out, "200") << slow.err;
  EXPECT_EQ(rig.vane().process().wait_exit(10s), 0);
}

}  // namespace
}  // namespace vane::it
