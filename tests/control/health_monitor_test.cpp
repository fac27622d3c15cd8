// HealthMonitor against real loopback servers whose /healthz answer the test sets: thresholds
// both ways, timeouts and refused connections as failures, publish only on changes, passive
// ejection and its expiry, a clean stop, reconfigure, TLS probes. Every wait is bounded (5 s).
#include "control/health_monitor.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vane::control {
namespace {

namespace ssl = net::ssl;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;
constexpr auto await_tuple = net::as_tuple(net::use_awaitable);

/// A loopback HTTP(S) server answering every request with `status` (or never, when silent).
class HealthServer {
 public:
  explicit HealthServer(net::io_context& io, ssl::context* tls = nullptr)
      : state_(std::make_shared<State>(io, tls)) {
    net::co_spawn(io, accept(state_), net::detached);
  }
  ~HealthServer() {
    close();
    state_->parked.clear();
  }

  uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
  void set_status(int status) { state_->status = status; }
  void set_silent(bool silent) { state_->silent = silent; }
  int requests() const { return state_->requests; }
  int answered(int status) const { return state_->answered[status]; }
  const std::string& last_request() const { return state_->last_request; }
  /// Stops accepting; silent connections stay open until the server goes.
  void close() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
  }

 private:
  struct State {
    State(net::io_context& io, ssl::context* t)
        : acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0)), tls(t) {}
    tcp::acceptor acceptor;
    ssl::context* tls;
    int status = 200;
    bool silent = false;
    int requests = 0;
    std::map<int, int> answered;
    std::string last_request;
    std::vector<std::shared_ptr<void>> parked;  ///< silent connections, held open
  };

  static net::awaitable<void> accept(std::shared_ptr<State> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(await_tuple);
      if (!s->acceptor.is_open()) co_return;
      if (ec) continue;
      if (s->tls) {
        auto stream = std::make_shared<ssl::stream<tcp::socket>>(std::move(socket), *s->tls);
        net::co_spawn(s->acceptor.get_executor(), serve_tls(s, stream), net::detached);
      } else {
        auto plain = std::make_shared<tcp::socket>(std::move(socket));
        net::co_spawn(s->acceptor.get_executor(), serve(s, plain), net::detached);
      }
    }
  }

  static net::awaitable<void> serve_tls(std::shared_ptr<State> s,
                                        std::shared_ptr<ssl::stream<tcp::socket>> stream) {
    auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, await_tuple);
    if (ec) co_return;
    co_await serve(s, stream);
  }

  template <class Stream>
  static net::awaitable<void> serve(std::shared_ptr<State> s, std::shared_ptr<Stream> stream) {
    std::string data;
    auto [ec, n] =
        co_await net::async_read_until(*stream, net::dynamic_buffer(data), "\r\n\r\n", await_tuple);
    if (ec) co_return;
    ++s->requests;
    s->last_request = data.substr(0, n);
    if (s->silent) {
      s->parked.push_back(stream);
      co_return;
    }
    const int status = s->status;
    ++s->answered[status];  // counted before the prober can read it
    const std::string response = "HTTP/1.1 " + std::to_string(status) +
                                 " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    co_await net::async_write(*stream, net::buffer(response), await_tuple);
  }

  std::shared_ptr<State> state_;
};

/// Runs `io` until `done()` or `limit`; false on timeout.
template <class Done>
bool run_until(net::io_context& io, Done done, std::chrono::milliseconds limit = 5s) {
  const auto give_up = SteadyClock::now() + limit;
  while (!done()) {
    if (SteadyClock::now() >= give_up) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

void run_for(net::io_context& io, std::chrono::milliseconds period) {
  run_until(io, [] { return false; }, period);
}

config::HealthCheck check(std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                          uint32_t unhealthy, uint32_t healthy) {
  return config::HealthCheck{"/healthz", interval, timeout, unhealthy, healthy};
}

/// One upstream "app" with an endpoint on 127.0.0.1 per port (https:// when `tls`).
std::shared_ptr<const proxy::ConfigSnapshot> snapshot_for(const std::vector<uint16_t>& ports,
                                           std::optional<config::HealthCheck> health,
                                           std::optional<config::UpstreamTls> tls = {}) {
  auto config = std::make_shared<config::Config>();
  auto& upstream = config->upstreams.emplace_back();
  upstream.name = "app";
  upstream.health_check = health;
  upstream.tls = tls;
  auto snapshot = std::make_shared<proxy::ConfigSnapshot>();
  auto& resolved = snapshot->endpoints.emplace_back();
  for (uint16_t port : ports) {
    const std::string authority = "127.0.0.1:" + std::to_string(port);
    upstream.endpoints.push_back(
        config::Endpoint{(tls ? "https://" : "") + authority, "127.0.0.1", port, tls.has_value()});
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

TEST(HealthMonitor, ProbesAtOnceAndBecomesReady) {
  net::io_context io;
  HealthServer server(io);
  Published published;
  HealthMonitor monitor(io, snapshot_for({server.port()}, check(60s, 1s, 3, 2)),
                        published.callback());
  monitor.start();
  ASSERT_EQ(published.snapshots.size(), 1u);  // start() publishes the initial snapshot
  EXPECT_TRUE(published.last().usable_endpoint(0, 0));  // not probed yet: takes traffic
  EXPECT_FALSE(published.last().upstream_ready(0));     // but has not passed a probe
  EXPECT_FALSE(monitor.canary_ready(0));
  // The interval is a minute: only the first probe, made at once, can do this.
  ASSERT_TRUE(run_until(io, [&] { return monitor.canary_ready(0); }));
  EXPECT_EQ(published.snapshots.size(), 2u);
  EXPECT_TRUE(published.last().passed_probe[0]);
  const std::string& request = server.last_request();
  EXPECT_EQ(request.rfind("GET /healthz HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << request;
}

TEST(HealthMonitor, FlipsAfterThresholdsBothWays) {
  net::io_context io;
  HealthServer server(io);
  Published published;
  HealthMonitor monitor(io, snapshot_for({server.port()}, check(50ms, 1s, 2, 2)),
                        published.callback());
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return monitor.canary_ready(0); }));

  server.set_status(503);
  ASSERT_TRUE(run_until(io, [&] { return !published.usable(0); }));
  EXPECT_EQ(server.answered(503), 2);  // unhealthyThreshold failures, not one more or less
  EXPECT_FALSE(monitor.canary_ready(0));
  EXPECT_TRUE(published.last().passed_probe[0]);  // it did pass once

  const int passes_before = server.answered(200);
  server.set_status(302);  // 3xx passes too
  ASSERT_TRUE(run_until(io, [&] { return published.usable(0); }));
  EXPECT_EQ(server.answered(302), 2);  // healthyThreshold passes
  EXPECT_EQ(server.answered(200), passes_before);
  EXPECT_TRUE(monitor.canary_ready(0));
}

TEST(HealthMonitor, PublishesOnlyOnChanges) {
  net::io_context io;
  HealthServer server(io);
  Published published;
  HealthMonitor monitor(io, snapshot_for({server.port()}, check(20ms, 1s, 2, 2)),
                        published.callback());
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return monitor.canary_ready(0); }));
  const size_t count = published.snapshots.size();
  const int requests = server.requests();
  ASSERT_TRUE(run_until(io, [&] { return server.requests() >= requests + 5; }));
  EXPECT_EQ(published.snapshots.size(), count);
}

TEST(HealthMonitor, TimeoutIsAFailure) {
  net::io_context io;
  HealthServer server(io);
  server.set_silent(true);
  Published published;
  HealthMonitor monitor(io, snapshot_for({server.port()}, check(50ms, 100ms, 1, 1)),
                        published.callback());
  const auto started = SteadyClock::now();
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return !published.usable(0); }));
  EXPECT_GE(SteadyClock::now() - started, 100ms);
  EXPECT_GE(server.requests(), 1);  // the request arrived: it was the answer that never came
  EXPECT_FALSE(monitor.canary_ready(0));
  EXPECT_FALSE(published.last().passed_probe[0]);
}

TEST(HealthMonitor, ConnectionRefusedIsAFailure) {
  net::io_context io;
  Published published;
  HealthMonitor monitor(io, snapshot_for({refused_port(io)}, check(50ms, 1s, 1, 1)),
                        published.callback());
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return !published.usable(0); }));
  EXPECT_FALSE(monitor.canary_ready(0));
}

TEST(HealthMonitor, PassiveEjectionAndExpiry) {
  net::io_context io;
  Published published;
  // No healthCheck: nothing is probed, only the reports count.
  HealthMonitor monitor(io, snapshot_for({refused_port(io), refused_port(io)}, std::nullopt),
                        published.callback(), EjectionPolicy{5, 100ms, 1s});
  monitor.start();
  EXPECT_TRUE(monitor.canary_ready(0));  // without healthCheck: usable endpoints suffice
  for (int i = 0; i < 4; ++i) monitor.report(0, 0, true);
  monitor.report(0, 0, false);  // a success resets the count
  for (int i = 0; i < 4; ++i) monitor.report(0, 0, true);
  EXPECT_EQ(published.snapshots.size(), 1u);
  const auto ejected_at = SteadyClock::now();
  monitor.report(0, 0, true);
  ASSERT_EQ(published.snapshots.size(), 2u);
  EXPECT_FALSE(published.usable(0));
  EXPECT_TRUE(published.usable(1));
  EXPECT_TRUE(monitor.canary_ready(0));
  for (int i = 0; i < 5; ++i) monitor.report(0, 1, true);  // the half cap: 1 of 2
  EXPECT_TRUE(published.usable(1));
  monitor.report(7, 0, true);  // out of range: ignored
  monitor.report(0, 9, true);

  ASSERT_TRUE(run_until(io, [&] { return published.usable(0); }));  // the timer ends it
  EXPECT_GE(SteadyClock::now() - ejected_at, 100ms);
  EXPECT_EQ(published.snapshots.size(), 3u);
}

TEST(HealthMonitor, BatchesOfAnotherRuntimeAreDropped) {
  net::io_context io;
  Published published;
  auto snapshot = snapshot_for({refused_port(io), refused_port(io)}, std::nullopt);
  const auto stale = snapshot_for({refused_port(io), refused_port(io)}, std::nullopt);
  HealthMonitor monitor(io, snapshot, published.callback());
  monitor.start();
  EXPECT_EQ(published.last().config_snapshot, snapshot.get());
  std::vector<proxy::PassiveOutcome> batch(5, proxy::PassiveOutcome{stale.get(), 0, 1, true});
  monitor.report(batch);
  EXPECT_TRUE(published.usable(1));
  for (auto& outcome : batch) outcome.config_snapshot = snapshot.get();
  batch[2].failure = false;  // F F S F F: not five in a row
  monitor.report(batch);
  EXPECT_TRUE(published.usable(1));
  batch[2].failure = true;
  monitor.report(batch);
  EXPECT_FALSE(published.usable(1));
}

TEST(HealthMonitor, PassingProbeEndsEjection) {
  net::io_context io;
  HealthServer a(io);
  HealthServer b(io);
  Published published;
  HealthMonitor monitor(io, snapshot_for({a.port(), b.port()}, check(50ms, 1s, 3, 2)),
                        published.callback());  // default policy: 30 s ejections
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return monitor.canary_ready(0); }));
  for (int i = 0; i < 5; ++i) monitor.report(0, 0, true);
  EXPECT_FALSE(published.usable(0));
  ASSERT_TRUE(run_until(io, [&] { return published.usable(0); }));  // the next probe, not 30 s
}

TEST(HealthMonitor, StopLeavesNoWork) {
  for (const bool explicit_stop : {true, false}) {
    SCOPED_TRACE(explicit_stop ? "stop()" : "destructor");
    net::io_context io;
    HealthServer server(io);
    server.set_silent(true);  // the probe hangs until its 10 s timeout
    Published published;
    auto monitor = std::make_unique<HealthMonitor>(
        io, snapshot_for({server.port()}, check(50ms, 10s, 1, 1)), published.callback());
    monitor->start();
    monitor->report(0, 0, true);
    ASSERT_TRUE(run_until(io, [&] { return server.requests() >= 1; }));
    if (explicit_stop) {
      monitor->stop();
      monitor->stop();  // idempotent
      run_for(io, 50ms);
      EXPECT_EQ(published.snapshots.size(), 1u);
    }
    monitor.reset();
    server.close();
    // Nothing is left to run: not the probe's 10 s deadline, not the interval timer.
    io.restart();
    const auto started = SteadyClock::now();
    io.run_for(3s);
    EXPECT_LT(SteadyClock::now() - started, 1s);
    EXPECT_TRUE(io.stopped());
  }
}

TEST(HealthMonitor, ReconfigureKeepsHistoryOfSameEndpoints) {
  net::io_context io;
  HealthServer server(io);
  HealthServer other(io);
  Published published;
  HealthMonitor monitor(io, snapshot_for({server.port()}, check(60s, 1s, 3, 2)),
                        published.callback());
  monitor.start();
  ASSERT_TRUE(run_until(io, [&] { return monitor.canary_ready(0); }));

  monitor.reconfigure(snapshot_for({other.port(), server.port()}, check(60s, 1s, 3, 2)));
  EXPECT_TRUE(monitor.canary_ready(0));  // at once: endpoint 1 passed before the reload
  EXPECT_TRUE(published.last().upstream_ready(0));
  EXPECT_FALSE(monitor.health(0).state(0).ever_passed);
  EXPECT_TRUE(monitor.health(0).state(1).ever_passed);
  ASSERT_TRUE(run_until(io, [&] { return other.requests() >= 1; }));  // probers restarted

  monitor.reconfigure(snapshot_for({server.port()}, std::nullopt));  // probe history dropped
  EXPECT_FALSE(monitor.health(0).has_health_check());
  EXPECT_FALSE(monitor.health(0).state(0).ever_passed);
  EXPECT_TRUE(monitor.canary_ready(0));
}

// ---- TLS ----

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

std::string read_bio(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

/// A self-signed EC certificate for `common_name`, valid for an hour around now.
TestCertificate make_certificate(const char* common_name) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  X509_free(cert);
  EVP_PKEY_free(key);
  return {read_bio(cert_bio), read_bio(key_bio)};
}

TEST(HealthMonitor, TlsProbesVerifyAsConfigured) {
  const TestCertificate certificate = make_certificate("localhost");
  const auto ca_file = std::filesystem::temp_directory_path() /
                       ("vane-health-test-" + std::to_string(::getpid()) + ".pem");
  std::ofstream(ca_file) << certificate.cert_pem;
  ssl::context server_tls(ssl::context::tls_server);
  server_tls.use_certificate_chain(net::buffer(certificate.cert_pem));
  server_tls.use_private_key(net::buffer(certificate.key_pem), ssl::context::pem);

  struct Case {
    const char* name;
    config::UpstreamTls tls;
    bool passes;
  };
  const Case cases[] = {
      {"trusted CA and matching name", {ca_file.string(), false, "localhost"}, true},
      {"name mismatch", {ca_file.string(), false, "other.example"}, false},
      {"unknown CA", {"", false, "localhost"}, false},
      {"insecureSkipVerify", {"", true, "other.example"}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    net::io_context io;
    HealthServer server(io, &server_tls);
    Published published;
    HealthMonitor monitor(io, snapshot_for({server.port()}, check(50ms, 1s, 1, 1), c.tls),
                          published.callback());
    monitor.start();
    ASSERT_TRUE(run_until(io, [&] {
      return monitor.canary_ready(0) || !published.usable(0);
    }));
    EXPECT_EQ(monitor.canary_ready(0), c.passes);
    if (c.passes) {
      EXPECT_GE(server.requests(), 1);
    }
  }
  std::filesystem::remove(ca_file);
}

}  // namespace
}  // namespace vane::control
