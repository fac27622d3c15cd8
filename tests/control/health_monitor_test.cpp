// HealthMonitor against real loopback servers whose /healthz answer the test sets: thresholds
// both ways, timeouts and refused connections as failures, publish only on changes, passive
// ejection and its expiry, a clean stop, reconfigure, TLS probes. The monitor's time is a manual
// clock the tests move (probe intervals, ejection ends); probes do real I/O, awaited (bounded).
#include "control/health_monitor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "control/http_client.hpp"
#include "tests/control/health_monitor_fakes.hpp"
#include "tests/control/manual_clock.hpp"
#include "tests/control/run_until.hpp"
#include "tests/proxy/net/tls_test_files.hpp"

namespace vane::control {
namespace {

namespace ssl = net::ssl;
using namespace std::chrono_literals;
using test::HealthServer;
using SteadyClock = std::chrono::steady_clock;
using test::run_until;

config::HealthCheck check(std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                          uint32_t unhealthy, uint32_t healthy) {
  return config::HealthCheck{"/healthz", interval, timeout, unhealthy, healthy};
}

/// One upstream "app" with an endpoint `host`:port per port (https:// when `tls`), each resolved
/// to 127.0.0.1.
std::shared_ptr<const proxy::ConfigSnapshot> snapshot_for(const std::vector<uint16_t>& ports,
                                           std::optional<config::HealthCheck> health,
                                           std::optional<config::UpstreamTls> tls = {},
                                           const std::string& host = "127.0.0.1") {
  auto config = std::make_shared<config::Config>();
  auto& upstream = config->upstreams.emplace_back();
  upstream.name = "app";
  upstream.health_check = health;
  upstream.tls = tls;
  auto snapshot = std::make_shared<proxy::ConfigSnapshot>();
  auto& resolved = snapshot->endpoints.emplace_back();
  for (uint16_t port : ports) {
    const std::string authority = host + ":" + std::to_string(port);
    upstream.endpoints.push_back(
        config::Endpoint{(tls ? "https://" : "") + authority, host, port, tls.has_value()});
    proxy::ResolvedEndpoint& target = resolved.emplace_back();
    target.name = upstream.endpoints.back().text;
    target.authority = authority;
    target.address = tcp::endpoint(net::ip::address_v4::loopback(), port);
    target.resolved = true;
  }
  snapshot->config = config;
  return snapshot;
}

/// A port nothing listens on (bound, then closed).
uint16_t refused_port(net::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

/// Collects what the monitor publishes.
struct Published {
  std::vector<std::shared_ptr<const proxy::HealthSnapshot>> snapshots;
  HealthMonitor::Publish callback() {
    return [this](std::shared_ptr<const proxy::HealthSnapshot> s) { snapshots.push_back(std::move(s)); };
  }
  const proxy::HealthSnapshot& last() const { return *snapshots.back(); }
  bool usable(size_t e) const { return !snapshots.empty() && last().usable_endpoint(0, e); }
};

class HealthMonitorTest : public ::testing::Test {
 protected:
  std::unique_ptr<HealthMonitor> make(std::shared_ptr<const proxy::ConfigSnapshot> snapshot,
                                      EjectionPolicy policy = {}) {
    return std::make_unique<HealthMonitor>(io, http, std::move(snapshot), published.callback(),
                                           clock, policy);
  }
  /// Waits (bounded) until `n` probes have ended since the clock was made: each ending probe
  /// sets its prober's next alarm. (Only for tests without ejections, which set alarms too.)
  bool probes_ended(size_t n) { return run_until(io, [&] { return clock.alarms_set() >= n; }); }
  /// Moves the clock on by `step` and waits for the `probes` probes that starts to end.
  bool next_round(std::chrono::milliseconds step, size_t probes = 1) {
    const size_t before = clock.alarms_set();
    clock.advance(step);
    return probes_ended(before + probes);
  }
  /// Runs `io` until it has nothing left to do (bounded): true when that came at once.
  bool runs_out_of_work() {
    io.restart();
    const auto started = SteadyClock::now();
    io.run_for(3s);
    return io.stopped() && SteadyClock::now() - started < 1s;
  }

  net::io_context io;
  HttpClient http{io};
  ManualClock<std::chrono::steady_clock> clock;
  Published published;
};

TEST_F(HealthMonitorTest, ProbesAtOnceAndBecomesReady) {
  HealthServer server(io);
  auto monitor = make(snapshot_for({server.port()}, check(60s, 1s, 3, 2)));
  monitor->start();
  ASSERT_EQ(published.snapshots.size(), 1u);  // start() publishes the initial snapshot
  EXPECT_TRUE(published.last().usable_endpoint(0, 0));  // not probed yet: takes traffic
  EXPECT_FALSE(published.last().upstream_ready(0));     // but has not passed a probe
  EXPECT_FALSE(monitor->canary_ready(0));
  // The clock does not move: only the first probe, made at once, can do this.
  ASSERT_TRUE(run_until(io, [&] { return monitor->canary_ready(0); }));
  EXPECT_EQ(clock.rung(), 0u);
  EXPECT_EQ(published.snapshots.size(), 2u);
  EXPECT_TRUE(published.last().passed_probe[0]);
  const std::string& request = server.last_request();
  EXPECT_EQ(request.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << request;
  EXPECT_NE(request.find("User-Agent: vane-health-check\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("Connection: close\r\n"), std::string::npos) << request;
}

TEST_F(HealthMonitorTest, ProbesEachAddressWithTheConfiguredName) {
  HealthServer server(io);
  // app.test never resolves: the probe goes to the snapshot's address, Host the endpoint's name.
  auto monitor = make(snapshot_for({server.port()}, check(60s, 1s, 3, 1), {}, "app.test"));
  monitor->start();
  ASSERT_TRUE(run_until(io, [&] { return monitor->canary_ready(0); }));
  EXPECT_NE(server.last_request().find("Host: app.test:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << server.last_request();
}

TEST_F(HealthMonitorTest, ProbesEveryIntervalFromTheStartOfTheLastProbe) {
  HealthServer server(io);
  auto monitor = make(snapshot_for({server.port()}, check(1s, 1s, 3, 2)));
  monitor->start();
  ASSERT_TRUE(probes_ended(1));
  clock.advance(999ms);  // just before the interval: nothing starts
  io.poll();
  EXPECT_EQ(clock.rung(), 0u);
  EXPECT_EQ(server.requests(), 1);
  ASSERT_TRUE(next_round(1ms));  // the interval: the second probe
  EXPECT_EQ(clock.rung(), 1u);
  EXPECT_EQ(server.requests(), 2);
}

TEST_F(HealthMonitorTest, FlipsAfterThresholdsBothWays) {
  HealthServer server(io);
  auto monitor = make(snapshot_for({server.port()}, check(50ms, 1s, 2, 2)));
  monitor->start();
  ASSERT_TRUE(probes_ended(1));
  ASSERT_TRUE(monitor->canary_ready(0));

  server.set_status(503);
  ASSERT_TRUE(next_round(50ms));
  EXPECT_TRUE(published.usable(0));  // one failure: not yet
  ASSERT_TRUE(next_round(50ms));
  EXPECT_FALSE(published.usable(0));  // unhealthyThreshold failures
  EXPECT_EQ(server.answered(503), 2);
  EXPECT_FALSE(monitor->canary_ready(0));
  EXPECT_TRUE(published.last().passed_probe[0]);  // it did pass once

  server.set_status(302);  // 3xx passes too
  ASSERT_TRUE(next_round(50ms));
  EXPECT_FALSE(published.usable(0));
  ASSERT_TRUE(next_round(50ms));
  EXPECT_TRUE(published.usable(0));  // healthyThreshold passes
  EXPECT_EQ(server.answered(302), 2);
  EXPECT_EQ(server.answered(200), 1);
  EXPECT_TRUE(monitor->canary_ready(0));
}

TEST_F(HealthMonitorTest, PublishesOnlyOnChanges) {
  HealthServer server(io);
  auto monitor = make(snapshot_for({server.port()}, check(20ms, 1s, 2, 2)));
  monitor->start();
  ASSERT_TRUE(probes_ended(1));
  ASSERT_TRUE(monitor->canary_ready(0));
  const size_t count = published.snapshots.size();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(next_round(20ms));
  EXPECT_EQ(server.requests(), 6);
  EXPECT_EQ(published.snapshots.size(), count);
}

TEST_F(HealthMonitorTest, TimeoutIsAFailure) {
  HealthServer server(io);
  server.set_silent(true);
  auto monitor = make(snapshot_for({server.port()}, check(50ms, 100ms, 1, 1)));
  const auto started = SteadyClock::now();
  monitor->start();
  ASSERT_TRUE(run_until(io, [&] { return !published.usable(0); }));
  EXPECT_GE(SteadyClock::now() - started, 100ms);  // the probe's own (real) timeout
  EXPECT_GE(server.requests(), 1);  // the request arrived: it was the answer that never came
  EXPECT_FALSE(monitor->canary_ready(0));
  EXPECT_FALSE(published.last().passed_probe[0]);
}

TEST_F(HealthMonitorTest, ConnectionRefusedIsAFailure) {
  auto monitor = make(snapshot_for({refused_port(io)}, check(50ms, 1s, 1, 1)));
  monitor->start();
  ASSERT_TRUE(run_until(io, [&] { return !published.usable(0); }));
  EXPECT_FALSE(monitor->canary_ready(0));
}

TEST_F(HealthMonitorTest, PassiveEjectionAndExpiry) {
  // No healthCheck: nothing is probed, only the reports count.
  auto monitor = make(snapshot_for({refused_port(io), refused_port(io)}, std::nullopt),
                      EjectionPolicy{5, 100ms, 1s});
  monitor->start();
  EXPECT_TRUE(monitor->canary_ready(0));  // without healthCheck: usable endpoints suffice
  for (int i = 0; i < 4; ++i) monitor->report(0, 0, true);
  monitor->report(0, 0, false);  // a success resets the count
  for (int i = 0; i < 4; ++i) monitor->report(0, 0, true);
  EXPECT_EQ(published.snapshots.size(), 1u);
  monitor->report(0, 0, true);
  ASSERT_EQ(published.snapshots.size(), 2u);
  EXPECT_FALSE(published.usable(0));
  EXPECT_TRUE(published.usable(1));
  EXPECT_TRUE(monitor->canary_ready(0));
  for (int i = 0; i < 5; ++i) monitor->report(0, 1, true);  // the half cap: 1 of 2
  EXPECT_TRUE(published.usable(1));
  monitor->report(7, 0, true);  // out of range: ignored
  monitor->report(0, 9, true);

  clock.advance(99ms);  // just before the ejection ends
  EXPECT_FALSE(published.usable(0));
  EXPECT_EQ(published.snapshots.size(), 2u);
  clock.advance(1ms);  // the alarm ends it
  EXPECT_TRUE(published.usable(0));
  EXPECT_EQ(published.snapshots.size(), 3u);
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(HealthMonitorTest, BatchesOfAnotherRuntimeAreDropped) {
  auto snapshot = snapshot_for({refused_port(io), refused_port(io)}, std::nullopt);
  const auto stale = snapshot_for({refused_port(io), refused_port(io)}, std::nullopt);
  auto monitor = make(snapshot);
  monitor->start();
  EXPECT_EQ(published.last().config_snapshot, snapshot.get());
  std::vector<proxy::PassiveOutcome> batch(5, proxy::PassiveOutcome{stale.get(), 0, 1, true});
  monitor->report(batch);
  EXPECT_TRUE(published.usable(1));
  for (auto& outcome : batch) outcome.config_snapshot = snapshot.get();
  batch[2].failure = false;  // F F S F F: not five in a row
  monitor->report(batch);
  EXPECT_TRUE(published.usable(1));
  batch[2].failure = true;
  monitor->report(batch);
  EXPECT_FALSE(published.usable(1));
}

TEST_F(HealthMonitorTest, PassingProbeEndsEjection) {
  HealthServer a(io);
  HealthServer b(io);
  // The default policy: 30 s ejections.
  auto monitor = make(snapshot_for({a.port(), b.port()}, check(50ms, 1s, 3, 2)));
  monitor->start();
  ASSERT_TRUE(probes_ended(2));
  ASSERT_TRUE(monitor->canary_ready(0));
  for (int i = 0; i < 5; ++i) monitor->report(0, 0, true);
  EXPECT_FALSE(published.usable(0));
  clock.advance(50ms);  // the next probe, well before the 30 s are over
  ASSERT_TRUE(run_until(io, [&] { return published.usable(0); }));
}

TEST_F(HealthMonitorTest, StopLeavesNoWork) {
  for (const bool explicit_stop : {true, false}) {
    SCOPED_TRACE(explicit_stop ? "stop()" : "destructor");
    published.snapshots.clear();
    HealthServer server(io);
    server.set_silent(true);  // the probe hangs until its 10 s timeout
    auto monitor = make(snapshot_for({server.port()}, check(50ms, 10s, 1, 1)));
    monitor->start();
    monitor->report(0, 0, true);
    ASSERT_TRUE(run_until(io, [&] { return server.requests() >= 1; }));
    if (explicit_stop) {
      monitor->stop();
      monitor->stop();  // idempotent
    } else {
      monitor.reset();
    }
    server.close();
    // Nothing is left to run: not the probe's 10 s deadline, not an alarm; nothing published.
    EXPECT_EQ(clock.pending(), 0u);
    EXPECT_TRUE(runs_out_of_work());
    EXPECT_EQ(published.snapshots.size(), 1u);
  }
}

TEST_F(HealthMonitorTest, ReconfigureKeepsHistoryOfSameEndpoints) {
  HealthServer server(io);
  HealthServer other(io);
  auto monitor = make(snapshot_for({server.port()}, check(60s, 1s, 3, 2)));
  monitor->start();
  ASSERT_TRUE(run_until(io, [&] { return monitor->canary_ready(0); }));

  monitor->reconfigure(snapshot_for({other.port(), server.port()}, check(60s, 1s, 3, 2)));
  EXPECT_TRUE(monitor->canary_ready(0));  // at once: endpoint 1 passed before the reload
  EXPECT_TRUE(published.last().upstream_ready(0));
  EXPECT_FALSE(monitor->health(0).state(0).ever_passed);
  EXPECT_TRUE(monitor->health(0).state(1).ever_passed);
  ASSERT_TRUE(run_until(io, [&] { return other.requests() >= 1; }));  // probers restarted

  monitor->reconfigure(snapshot_for({server.port()}, std::nullopt));  // probe history dropped
  EXPECT_FALSE(monitor->health(0).has_health_check());
  EXPECT_FALSE(monitor->health(0).state(0).ever_passed);
  EXPECT_TRUE(monitor->canary_ready(0));
}

TEST_F(HealthMonitorTest, TlsProbesVerifyAsConfigured) {
  proxy::test::TlsFiles files;
  const auto pair = files.issue("localhost", {"DNS:localhost"});
  ssl::context server_tls(ssl::context::tls_server);
  server_tls.use_certificate_chain_file(pair.cert);
  server_tls.use_private_key_file(pair.key, ssl::context::pem);

  struct Case {
    const char* name;
    config::UpstreamTls tls;
    bool passes;
  };
  const Case cases[] = {
      {"trusted CA and matching name", {files.ca_file(), false, "localhost"}, true},
      {"name mismatch", {files.ca_file(), false, "other.example"}, false},
      {"unknown CA", {"", false, "localhost"}, false},
      {"insecureSkipVerify", {"", true, "other.example"}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    published.snapshots.clear();
    HealthServer server(io, &server_tls);
    auto monitor = make(snapshot_for({server.port()}, check(50ms, 1s, 1, 1), c.tls));
    monitor->start();
    ASSERT_TRUE(run_until(io, [&] {
      return monitor->canary_ready(0) || !published.usable(0);
    }));
    EXPECT_EQ(monitor->canary_ready(0), c.passes);
    if (c.passes) {
      EXPECT_GE(server.requests(), 1);
    }
  }
}

}  // namespace
}  // namespace vane::control
