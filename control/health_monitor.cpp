#include "control/health_monitor.hpp"

#include <openssl/ssl.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "control/asio.hpp"
#include "proxy/log.hpp"

namespace vane::control {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using Stream = beast::basic_stream<tcp, Executor>;
using Clock = std::chrono::steady_clock;
/// A floor under `interval`: a zero interval against a refusing port would spin the thread.
constexpr std::chrono::milliseconds kMinInterval{10};

/// A TLS client context for an upstream's https:// endpoints, verifying as its `tls` says.
std::shared_ptr<ssl::context> make_tls_context(const config::Upstream& upstream) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  const config::UpstreamTls tls = upstream.tls.value_or(config::UpstreamTls{});
  boost::system::error_code ec;
  if (tls.insecure_skip_verify) {
    context->set_verify_mode(ssl::verify_none, ec);
    return context;
  }
  context->set_verify_mode(ssl::verify_peer, ec);
  if (tls.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(tls.ca_file, ec);
  }
  if (ec) proxy::log::warn("health check of upstream " + upstream.name + ": " + ec.message());
  return context;
}

/// Sends the probe request on a connected stream and reads the response head.
template <class S>
Task<bool> ask(S& stream, const std::string& path, const std::string& authority) {
  http::request<http::empty_body> request{http::verb::get, path, 11};
  request.set(http::field::host, authority);
  request.set(http::field::user_agent, "vane-health-check");
  request.set(http::field::connection, "close");
  auto [wec, written] = co_await http::async_write(stream, request, use_tuple);
  if (wec) co_return false;
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  auto [rec, read] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  if (rec) co_return false;
  const unsigned status = parser.get().result_int();
  co_return status >= 200 && status < 400;
}

}  // namespace

struct HealthMonitor::Link {
  HealthMonitor* monitor;  ///< null once the monitor stopped
};

/// One endpoint's prober: what to probe, its interval timer and the connection in flight.
struct HealthMonitor::Prober {
  Prober(Executor executor, std::shared_ptr<Link> l) : link(std::move(l)), timer(executor) {}

  /// Probes at once, then every `interval`, until the monitor stops.
  static Task<void> run(std::shared_ptr<Prober> self);
  Task<bool> probe_plain();
  Task<bool> probe_tls();
  /// Wakes the coroutine; it then sees the monitor gone and ends.
  void cancel() {
    timer.cancel();
    if (live) live->close();
  }

  std::shared_ptr<Link> link;
  uint32_t upstream = 0;
  uint32_t endpoint = 0;
  tcp::endpoint address;
  std::string authority;  ///< sent as Host
  std::string path;
  std::chrono::milliseconds interval{};
  std::chrono::milliseconds timeout{};
  std::shared_ptr<ssl::context> tls;  ///< null: plain HTTP
  std::string tls_name;               ///< SNI and the name the certificate must carry
  bool verify = true;
  Timer timer;
  Stream* live = nullptr;  ///< the probe's connection while one is open
};

namespace {

/// Clears Prober::live when the probe's stream goes, also when its frame is destroyed unrun.
struct LiveGuard {
  Stream*& live;
  ~LiveGuard() { live = nullptr; }
};

}  // namespace

Task<bool> HealthMonitor::Prober::probe_plain() {
  Stream stream(timer.get_executor());
  live = &stream;
  LiveGuard guard{live};
  stream.expires_after(timeout);  // one deadline for connect, request and response head
  auto [ec] = co_await stream.async_connect(address, use_tuple);
  if (ec) co_return false;
  bool passed = co_await ask(stream, path, authority);
  co_return passed;
}

Task<bool> HealthMonitor::Prober::probe_tls() {
  ssl::stream<Stream> stream(timer.get_executor(), *tls);
  live = &stream.next_layer();
  LiveGuard guard{live};
  boost::system::error_code ec;
  net::ip::make_address(tls_name, ec);
  if (ec) {  // SNI carries names only, never an address literal (RFC 6066)
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             tls_name.data());
  }
  if (verify) stream.set_verify_callback(ssl::host_name_verification(tls_name));
  stream.next_layer().expires_after(timeout);
  auto [cec] = co_await stream.next_layer().async_connect(address, use_tuple);
  if (cec) co_return false;
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
  if (hec) co_return false;
  bool passed = co_await ask(stream, path, authority);
  co_return passed;
}

Task<void> HealthMonitor::Prober::run(std::shared_ptr<Prober> self) {
  Prober& p = *self;
  for (;;) {
    const auto started = Clock::now();
    bool passed = false;
    if (p.tls) {
      passed = co_await p.probe_tls();
    } else {
      passed = co_await p.probe_plain();
    }
    HealthMonitor* monitor = p.link->monitor;
    if (monitor == nullptr) co_return;
    monitor->on_probe(p.upstream, p.endpoint, passed);
    p.timer.expires_at(started + p.interval);
    co_await p.timer.async_wait(use_tuple);  // cancelled: stop() was called
    if (p.link->monitor == nullptr) co_return;
  }
}

HealthMonitor::HealthMonitor(net::io_context& control, std::shared_ptr<const proxy::ConfigSnapshot> snapshot,
                             Publish publish, EjectionPolicy policy)
    : control_(control),
      publish_(std::move(publish)),
      policy_(policy),
      expiry_(control.get_executor()) {
  reset(std::move(snapshot));
}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::start() {
  if (running_) return;
  running_ = true;
  link_ = std::make_shared<Link>(Link{this});
  published_ = build();
  publish_(published_);
  start_probers();
  arm_expiry();
}

void HealthMonitor::stop() {
  if (!running_) return;
  running_ = false;
  link_->monitor = nullptr;
  for (auto& prober : probers_) prober->cancel();
  probers_.clear();
  expiry_.cancel();
  expiry_at_.reset();
}

void HealthMonitor::reconfigure(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  const bool was_running = running_;
  stop();
  reset(std::move(snapshot));
  if (was_running) {
    start();
  } else {
    publish_(published_);
  }
}

void HealthMonitor::report(uint32_t upstream, uint32_t endpoint, bool failure) {
  if (!running_) return;
  if (upstream >= health_.size() || endpoint >= health_[upstream].size()) return;
  if (!failure) {
    health_[upstream].passive_success(endpoint);
    return;
  }
  const bool ejected = health_[upstream].passive_failure(endpoint, Clock::now());
  if (ejected) {
    proxy::log::warn(describe(upstream, endpoint) + " ejected after consecutive failures");
    changed();
  }
}

void HealthMonitor::report(const std::vector<proxy::PassiveOutcome>& batch) {
  for (const proxy::PassiveOutcome& outcome : batch) {
    if (outcome.config_snapshot == config_snapshot_.get()) report(outcome.upstream, outcome.endpoint, outcome.failure);
  }
}

void HealthMonitor::on_probe(uint32_t upstream, uint32_t endpoint, bool passed) {
  auto& health = health_[upstream];
  const auto now = Clock::now();
  const bool was_usable = health.usable(endpoint, now);
  const bool differs = passed ? health.probe_passed(endpoint, now)
                              : health.probe_failed(endpoint, now);
  if (!differs) return;
  if (was_usable != health.usable(endpoint, now)) {
    proxy::log::info(describe(upstream, endpoint) +
              (passed ? " passes its health check" : " fails its health check"));
  }
  changed();
}

std::string HealthMonitor::describe(uint32_t upstream, uint32_t endpoint) const {
  const proxy::ResolvedEndpoint& target = config_snapshot_->endpoints[upstream][endpoint];
  return "upstream " + config_snapshot_->config->upstreams[upstream].name + " endpoint " + target.name +
         " (" + target.address.address().to_string() + ")";
}

void HealthMonitor::on_expiry() {
  expiry_at_.reset();
  const auto now = Clock::now();
  for (auto& health : health_) health.tick(now);
  changed();
}

void HealthMonitor::changed() {
  auto next = build();
  if (*next != *published_) {
    published_ = std::move(next);
    publish_(published_);
  }
  arm_expiry();
}

void HealthMonitor::arm_expiry() {
  if (!running_) return;
  std::optional<EndpointHealth::TimePoint> next;
  for (const auto& health : health_) {
    const auto at = health.next_expiry();
    if (at && (!next || *at < *next)) next = at;
  }
  if (next == expiry_at_) return;
  expiry_at_ = next;
  if (!next) {
    expiry_.cancel();
    return;
  }
  expiry_.expires_at(*next);
  expiry_.async_wait([link = link_](boost::system::error_code ec) {
    if (ec || link->monitor == nullptr) return;
    link->monitor->on_expiry();
  });
}


namespace {

/// Moves the history of the addresses `to` shares with `from` (same configured endpoint, same
/// address). Probe results only when both upstreams are probed.
void carry_over(const EndpointHealth& from, const std::vector<proxy::ResolvedEndpoint>& from_endpoints,
                EndpointHealth& to, const std::vector<proxy::ResolvedEndpoint>& to_endpoints) {
  for (size_t e = 0; e < to.size(); ++e) {
    for (size_t old = 0; old < from.size(); ++old) {
      const proxy::ResolvedEndpoint& a = from_endpoints[old];
      const proxy::ResolvedEndpoint& b = to_endpoints[e];
      if (a.name != b.name || a.address != b.address || a.resolved != b.resolved) continue;
      EndpointHealth::State state = from.state(old);
      if (!from.has_health_check() || !to.has_health_check()) {
        state.probe = EndpointHealth::Probe::Unknown;
        state.streak = 0;
        state.ever_passed = false;
      }
      to.restore(e, state);
      break;
    }
  }
}

/// The configured endpoint an address came from.
const config::Endpoint* configured(const config::Upstream& upstream,
                                   const proxy::ResolvedEndpoint& target) {
  for (const auto& endpoint : upstream.endpoints) {
    if (endpoint.text == target.name) return &endpoint;
  }
  return nullptr;
}

}  // namespace

void HealthMonitor::reset(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  std::vector<EndpointHealth> health;
  const auto& upstreams = snapshot->config->upstreams;
  for (size_t u = 0; u < snapshot->endpoints.size(); ++u) {
    auto& added = health.emplace_back(snapshot->endpoints[u].size(), upstreams[u].health_check,
                                      policy_);
    if (!config_snapshot_) continue;
    const auto& old_upstreams = config_snapshot_->config->upstreams;
    for (size_t old = 0; old < health_.size(); ++old) {
      if (old_upstreams[old].name != upstreams[u].name) continue;
      carry_over(health_[old], config_snapshot_->endpoints[old], added, snapshot->endpoints[u]);
      break;
    }
  }
  health_ = std::move(health);
  config_snapshot_ = std::move(snapshot);
  published_ = build();
}

void HealthMonitor::start_probers() {
  const auto& upstreams = config_snapshot_->config->upstreams;
  for (uint32_t u = 0; u < config_snapshot_->endpoints.size(); ++u) {
    const config::Upstream& upstream = upstreams[u];
    if (!upstream.health_check) continue;
    const config::UpstreamTls tls = upstream.tls.value_or(config::UpstreamTls{});
    std::shared_ptr<ssl::context> context;  // one per upstream, made when first needed
    for (uint32_t e = 0; e < config_snapshot_->endpoints[u].size(); ++e) {
      const proxy::ResolvedEndpoint& target = config_snapshot_->endpoints[u][e];
      if (!target.resolved) continue;  // never usable: nothing to probe
      auto prober = std::make_shared<Prober>(control_.get_executor(), link_);
      prober->upstream = u;
      prober->endpoint = e;
      prober->address = target.address;
      prober->authority = target.authority;
      prober->path = upstream.health_check->path;
      prober->interval = std::max(upstream.health_check->interval, kMinInterval);
      prober->timeout = upstream.health_check->timeout;
      const config::Endpoint* origin = configured(upstream, target);
      if (origin && origin->tls) {
        if (!context) context = make_tls_context(upstream);
        prober->tls = context;
        prober->tls_name = tls.server_name.empty() ? origin->host : tls.server_name;
        prober->verify = !tls.insecure_skip_verify;
      }
      probers_.push_back(prober);
      net::co_spawn(control_, Prober::run(std::move(prober)), net::detached);
    }
  }
}

std::shared_ptr<const proxy::HealthSnapshot> HealthMonitor::build() const {
  auto snapshot = std::make_shared<proxy::HealthSnapshot>();
  snapshot->config_snapshot = config_snapshot_.get();
  const auto now = Clock::now();
  for (size_t u = 0; u < health_.size(); ++u) {
    const EndpointHealth& health = health_[u];
    std::vector<bool> usable = health.usable_mask(now);
    bool ready = false;
    for (size_t e = 0; e < usable.size(); ++e) {
      usable[e] = usable[e] && config_snapshot_->endpoints[u][e].resolved;
      ready = ready || (usable[e] && (!health.has_health_check() || health.state(e).ever_passed));
    }
    snapshot->usable.push_back(std::move(usable));
    snapshot->passed_probe.push_back(health.any_passed_probe());
    snapshot->ready.push_back(ready);
  }
  return snapshot;
}

}  // namespace vane::control
