// Endpoint health from outside (SPEC §3 "Health"): an endpoint that dies is taken out by its
// health check (no client sees a 502 once it is out) and put back when it returns; passive
// ejection after consecutive 5xx answers, never of more than half an upstream's endpoints;
// vane_upstream_endpoint_healthy shows both; a rollout's setWeight waits for a canary that has
// passed its health check.
#include <gtest/gtest.h>

#include <optional>

#include "tests/integration/harness.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

// One worker: its round-robin alternates between the two endpoints request by request.
constexpr std::string_view probed_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - name: svc
    endpoints: ["{{a}}", "{{b}}"]
    connectTimeout: 300ms
    healthCheck:
      {path: /healthz, interval: 100ms, timeout: 200ms, unhealthyThreshold: 2, healthyThreshold: 2}
routes:
  - {name: svc, match: {pathPrefix: /}, upstream: svc}
)";

constexpr std::string_view passive_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - {name: svc, endpoints: ["{{a}}", "{{b}}"], connectTimeout: 300ms}
routes:
  - {name: svc, match: {pathPrefix: /}, upstream: svc}
)";

/// vane_upstream_endpoint_healthy of one address; nullopt when vane shows no such sample.
std::optional<double> endpoint_healthy(uint16_t admin_port, const std::string& address) {
  for (const Sample& s : parse_metrics(scrape(admin_port))) {
    if (s.name != "vane_upstream_endpoint_healthy") continue;
    const auto it = s.labels.find("address");
    if (it != s.labels.end() && it->second == address) return s.value;
  }
  return std::nullopt;
}

/// `n` GETs on keep-alive connections, pipelined; every response in order.
std::vector<Response> get_many(uint16_t port, size_t n, std::string_view target = "/svc") {
  return send_each(port, std::vector<std::string>(n), target, 20, 20s);
}

std::string who(const Response& r) { return r.header("X-Upstream").value_or("(vane)"); }

/// "200 from b" for each response, for failure messages.
std::string describe(const std::vector<Response>& responses) {
  std::map<std::string, int> counts;
  for (const auto& r : responses) ++counts[std::to_string(r.status) + " from " + who(r)];
  std::string text;
  for (const auto& [what, n] : counts) text += what + ": " + std::to_string(n) + "; ";
  return text;
}

size_t count(const std::vector<Response>& responses, int status, const std::string& upstream) {
  size_t n = 0;
  for (const auto& r : responses) {
    if (r.status == status && who(r) == upstream) ++n;
  }
  return n;
}

TEST(HealthTest, HealthCheckTakesADeadEndpointOutAndBackIn) {
  std::optional<TestUpstream> a;
  a.emplace("a");
  TestUpstream b("b");
  const uint16_t a_port = a->port();
  const std::string a_address = a->address();
  Vane vane(render(std::string(probed_yaml), {{"a", a_address}, {"b", b.address()}}));

  std::vector<Response> before = get_many(vane.port(), 20);
  EXPECT_EQ(count(before, 200, "a"), 10U) << describe(before);
  EXPECT_EQ(count(before, 200, "b"), 10U) << describe(before);
  EXPECT_EQ(endpoint_healthy(vane.admin_port(), a_address), 1.0);

  a.reset();  // SIGKILL: connections to it are refused from now on
  // No client traffic meanwhile: only the health check can notice.
  std::optional<double> healthy;
  ASSERT_TRUE(wait_until(
      [&] {
        healthy = endpoint_healthy(vane.admin_port(), a_address);
        return healthy == 0.0;
      },
      5s))
      << "the health check did not take the dead endpoint out; metric "
      << (healthy ? std::to_string(*healthy) : "absent");
  const std::vector<Response> out = get_many(vane.port(), 200);
  EXPECT_EQ(count(out, 200, "b"), 200U) << "once out, no client may see it: " << describe(out);

  a.emplace("a", 200, a_port);  // back on the same address
  ASSERT_TRUE(wait_until(
      [&] {
        healthy = endpoint_healthy(vane.admin_port(), a_address);
        return healthy == 1.0;
      },
      5s))
      << "the health check did not put the endpoint back";
  const std::vector<Response> back = get_many(vane.port(), 20);
  EXPECT_EQ(count(back, 200, "a") + count(back, 200, "b"), 20U) << describe(back);
  EXPECT_GE(count(back, 200, "a"), 9U) << "traffic should reach it again: " << describe(back);
  EXPECT_GE(a->stats().requests, 9U);
}

TEST(HealthTest, ConsecutiveFailuresEjectAnEndpointButNeverHalfTheUpstream) {
  TestUpstream a("a"), b("b");
  Vane vane(render(std::string(passive_yaml), {{"a", a.address()}, {"b", b.address()}}));
  ASSERT_EQ(http_get(a.port(), "/__behave?fail_percent=100", "127.0.0.1").status, 200);

  // Requests alternate between a (500) and b (200) until a's fifth failure in a row ejects it.
  std::vector<Response> seen;
  std::optional<double> healthy;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto more = get_many(vane.port(), 4);
        seen.insert(seen.end(), more.begin(), more.end());
        healthy = endpoint_healthy(vane.admin_port(), a.address());
        return healthy == 0.0;
      },
      10s))
      << "a was not ejected: " << describe(seen);
  EXPECT_GE(count(seen, 500, "a"), 5U) << "ejected before 5 failures: " << describe(seen);
  EXPECT_EQ(count(seen, 200, "b") + count(seen, 500, "a"), seen.size()) << describe(seen);

  const uint64_t a_requests = a.stats().requests;
  const std::vector<Response> after = get_many(vane.port(), 100);
  EXPECT_EQ(count(after, 200, "b"), 100U)
      << "traffic must go to the other endpoint: " << describe(after);
  EXPECT_EQ(a.stats().requests, a_requests) << "an ejected endpoint got requests";

  // b fails too: ejecting it would leave nothing, and more than half may never be out. Its
  // failures go on for several worker ticks (50 ms), so that an ejection would have shown.
  ASSERT_EQ(http_get(b.port(), "/__behave?fail_percent=100", "127.0.0.1").status, 200);
  std::vector<Response> both_bad;
  std::optional<double> b_healthy;
  for (const auto until = Clock::now() + 500ms; Clock::now() < until || both_bad.size() < 50;) {
    const auto more = get_many(vane.port(), 5);
    both_bad.insert(both_bad.end(), more.begin(), more.end());
    b_healthy = endpoint_healthy(vane.admin_port(), b.address());
    if (b_healthy != 1.0) break;
  }
  EXPECT_EQ(count(both_bad, 500, "b"), both_bad.size())
      << "b must keep serving (its own 500s), never a 503 from vane: " << describe(both_bad);
  EXPECT_EQ(b_healthy, 1.0) << "b was ejected too";
  EXPECT_EQ(endpoint_healthy(vane.admin_port(), a.address()), 0.0) << "a's ejection lasts 30 s";
}

TEST(HealthTest, ConnectFailuresEjectAnEndpointWithoutHealthCheck) {
  std::optional<TestUpstream> a;
  a.emplace("a");
  TestUpstream b("b");
  const std::string a_address = a->address();
  Vane vane(render(std::string(passive_yaml), {{"a", a_address}, {"b", b.address()}}));
  a.reset();

  std::vector<Response> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto more = get_many(vane.port(), 4);
        seen.insert(seen.end(), more.begin(), more.end());
        return endpoint_healthy(vane.admin_port(), a_address) == 0.0;
      },
      10s))
      << "a dead endpoint was not ejected: " << describe(seen);
  EXPECT_GE(count(seen, 502, "(vane)"), 5U) << describe(seen);
  const std::vector<Response> after = get_many(vane.port(), 100);
  EXPECT_EQ(count(after, 200, "b"), 100U) << describe(after);
}

// A canary whose health check fails: the rollout's setWeight waits (SPEC §4) until it passes.
constexpr std::string_view rollout_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams:
  - {name: v1, endpoints: ["{{v1}}"]}
  - name: v2
    endpoints: ["{{v2}}"]
    healthCheck:
      {path: /healthz, interval: 100ms, timeout: 200ms, unhealthyThreshold: 1, healthyThreshold: 1}
routes:
  - {name: web, match: {pathPrefix: /}, rollout: web}
rollouts:
  - name: web
    upstream: {{desired}}
    strategy:
      canary:
        steps:
          - setWeight: 50
          - pause: {}
)";

TEST(HealthTest, SetWeightWaitsForACanaryThatPassesItsHealthCheck) {
  TestUpstream v1("v1");
  std::optional<TestUpstream> v2;
  v2.emplace("v2", 503);
  const uint16_t v2_port = v2->port();
  auto yaml = [&](const std::string& desired) {
    return render(std::string(rollout_yaml),
                  {{"v1", v1.address()}, {"v2", v2->address()}, {"desired", desired}});
  };
  VaneRun vane(yaml("v1"), {"--no-watch-config"});
  write_file(vane.config_path(), yaml("v2"));
  const Response reload = admin_call(vane.admin_port(), "POST", "/api/v1/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;

  // Several probe intervals: the step must keep waiting, all traffic on stable.
  json::value s;
  std::vector<Response> seen;
  for (const auto until = Clock::now() + 600ms; Clock::now() < until;) {
    s = rollout_status(vane.admin_port());
    ASSERT_EQ(str(field(s, "phase")), "Progressing") << summary(s);
    ASSERT_EQ(num(field(field(s, "weights"), "canary")), 0) << summary(s);
    seen.push_back(http_get(vane.port(), "/w", "web.test"));
  }
  EXPECT_EQ(count(seen, 200, "v1"), seen.size()) << describe(seen);
  EXPECT_EQ(num(field(s, "currentStepIndex")), 0) << summary(s);

  v2.emplace("v2", 200, v2_port);  // the canary becomes healthy
  ASSERT_TRUE(wait_phase(vane.admin_port(), "Paused", 1, 50, s, 5s)) << summary(s);
  const std::vector<Response> split = get_many(vane.port(), 40);
  EXPECT_EQ(count(split, 200, "v1") + count(split, 200, "v2"), 40U) << describe(split);
  EXPECT_GT(count(split, 200, "v2"), 0U) << describe(split);
}

}  // namespace
}  // namespace vane::it
