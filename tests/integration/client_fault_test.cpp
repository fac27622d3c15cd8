// Whose fault a stall is (SPEC §3): a client that stops sending its body gets 408 + close after
// `requestBodyTimeout`, and one that stops reading its response is closed after as long; neither
// is an upstream failure (vane_upstream_failures_total), a 5xx, or a strike towards passive
// ejection — even when the upstream's own `timeout` is shorter than the client's stall, which
// counts only the time vane waits on the upstream (a slow upload is not a 504).
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

#include "tests/integration/harness.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// The upstream timeout is shorter than the body timeout: a stall charged to the upstream would
// show as a 504 (and a timeout failure) before the client's 408 is due. One worker: with two
// endpoints its round-robin alternates request by request.
constexpr std::string_view client_fault_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
limits:
  requestBodyTimeout: 600ms
upstreams:
  - {name: svc, endpoints: ["{{a}}", "{{b}}"], timeout: 300ms}
routes:
  - {name: svc, match: {pathPrefix: /}, upstream: svc}
)";

Millis since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

/// A POST that declares 10 body bytes and sends 8.
std::string stalled_post() {
  return request("POST", "/stall", "x.test", "Content-Length: 10\r\n") + "12345678";
}

class ClientFaultTest : public ::testing::Test {
 protected:
  std::vector<Sample> samples() const { return parse_metrics(scrape(vane_.admin_port())); }
  double requests(std::string_view code_class) const {
    return metric_sum(samples(), "vane_requests_total", {{"code_class", std::string(code_class)}});
  }
  double upstream_failures() const {
    return metric_sum(samples(), "vane_upstream_failures_total", {{"upstream", "svc"}});
  }
  std::optional<double> endpoint_healthy(const std::string& address) const {
    for (const Sample& s : samples()) {
      const auto it = s.labels.find("address");
      if (s.name == "vane_upstream_endpoint_healthy" && it != s.labels.end() && it->second == address)
        return s.value;
    }
    return std::nullopt;
  }

  TestUpstream a_{"a"}, b_{"b"};
  Vane vane_{render(std::string(client_fault_yaml), {{"a", a_.address()}, {"b", b_.address()}})};
};

TEST_F(ClientFaultTest, AStalledBodyIs408AndNoUpstreamFailure) {
  RawClient client(vane_.port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send(stalled_post()));
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 408) << "the client stalled, not the upstream";
  EXPECT_GE(since(start), 500ms) << "answered before requestBodyTimeout (600ms)";
  EXPECT_LE(since(start), 2000ms);
  EXPECT_TRUE(r.peer_closed || client.wait_closed(2s)) << "408 + close";
  EXPECT_TRUE(wait_until([&] { return requests("4xx") == 1; }, 3s)) << "measured as a 4xx";
  EXPECT_EQ(requests("5xx"), 0);
  EXPECT_EQ(upstream_failures(), 0) << "a client's stall is no upstream failure";
}

TEST_F(ClientFaultTest, ASlowButSteadyUploadIsNotChargedToTheUpstream) {
  // Ten body bytes, one every 100 ms: each gap is well under requestBodyTimeout (600ms), the
  // whole upload three times the upstream's timeout (300ms), which counts only its own waits:
  // the 100 ms the upstream then takes to answer are well within it.
  RawClient client(vane_.port());
  ASSERT_TRUE(client.send(
      request("POST", "/slow?echo=1&delay_ms=100", "x.test", "Content-Length: 10\r\n")));
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(client.wait_closed(100ms)) << "closed after " << i << " body bytes";
    ASSERT_TRUE(client.pending().empty()) << "answered after " << i << " body bytes: " << client.pending();
    ASSERT_TRUE(client.send("x"));
  }
  const Response r = client.read_response(3s);
  EXPECT_EQ(r.status, 200) << "the upload's pace is not the upstream's timeout";
  const auto echo = parse_echo(r.body);
  ASSERT_TRUE(echo) << r.body;
  EXPECT_EQ(echo->body_bytes, 10U);
  EXPECT_EQ(upstream_failures(), 0);
}

TEST_F(ClientFaultTest, StallingClientsDoNotEjectAnEndpoint) {
  // Twelve at once: six on each endpoint, more than the five failures in a row that eject one.
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 12; ++i) {
    clients.push_back(std::make_unique<RawClient>(vane_.port()));
    ASSERT_TRUE(clients.back()->send(stalled_post()));
  }
  for (auto& client : clients) EXPECT_EQ(client->read_response(3s).status, 408);
  EXPECT_EQ(upstream_failures(), 0);
  EXPECT_EQ(endpoint_healthy(a_.address()), 1.0);
  const std::vector<Response> after = send_each(vane_.port(), std::vector<std::string>(20), "/after");
  size_t from_a = 0;
  for (const auto& r : after) from_a += r.status == 200 && r.header("X-Upstream") == "a";
  EXPECT_EQ(from_a, 10U) << "a must still serve its share";

  // Had the stalls counted, a would be out before any real failure of its own: it must take
  // five more, now real ones, to be ejected.
  ASSERT_EQ(http_get(a_.port(), "/__behave?fail_percent=100", "127.0.0.1").status, 200);
  int failed_on_a = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        const Response r = http_get(vane_.port(), "/probe", "x.test");
        if (r.status == 500 && r.header("X-Upstream") == "a") ++failed_on_a;
        return endpoint_healthy(a_.address()) == 0.0;
      },
      10s))
      << "a was not ejected by its own failures";
  EXPECT_GE(failed_on_a, 5) << "the client stalls counted as strikes against a";
}

TEST_F(ClientFaultTest, AClientThatStopsReadingIsClosedAndNoUpstreamFailure) {
  // 64 MiB: far more than the socket buffers between the upstream, vane and this client hold.
  RawClient client(vane_.port());
  const auto start = Clock::now();
  ASSERT_TRUE(client.send(request("GET", "/big?body_bytes=67108864", "x.test")));
  // vane gives up on the client and drops the upstream connection (which cannot finish).
  ASSERT_TRUE(wait_until([&] { return a_.stats().closed + b_.stats().closed == 1; }, 10s))
      << "vane did not give up on a client that does not read";
  EXPECT_GE(since(start), 500ms) << "closed before requestBodyTimeout (600ms)";
  const Response r = client.read_response(10s);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.peer_closed) << "the client connection must be closed";
  EXPECT_TRUE(wait_until([&] { return requests("2xx") == 1; }, 3s))
      << "measured with the upstream's answer; 5xx: " << requests("5xx");
  EXPECT_EQ(requests("5xx"), 0);
  EXPECT_EQ(upstream_failures(), 0) << "a client's stall is no upstream failure";
}

}  // namespace
}  // namespace vane::it
