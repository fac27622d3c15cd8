#include "control/server.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>

#include "control/fd_limit.hpp"
#include "proxy/log.hpp"
#include "proxy/config_snapshot.hpp"

namespace vane::control {
namespace {

constexpr auto kDrainLimit = std::chrono::seconds(30);
constexpr auto kDrainPoll = std::chrono::milliseconds(20);
constexpr auto kControlTick = std::chrono::milliseconds(100);

tcp::endpoint make_endpoint(const std::string& host, uint16_t port) {
  return tcp::endpoint(net::ip::make_address(host), port);
}

}  // namespace

std::string to_string(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

Server::Server(std::shared_ptr<const config::Config> config, ServerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      control_(1),
      http_(control_),
      signals_(control_),
      drain_timer_(control_),
      tick_timer_(control_),
      dns_timer_(control_),
      resolver_(control_) {}

Server::~Server() {
  for (auto& worker : workers_) worker->stop();
}

void Server::start() {
  snapshot_ = proxy::ConfigSnapshot::build(config_);
  make_health_monitor();
  if (config_->cluster) make_cluster();
  start_controller();
  generations_ = build_generations(snapshot_);
  uint32_t count = static_cast<uint32_t>(generations_.size());
  raise_fd_limit(*config_, count);
  for (uint32_t i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<proxy::Worker>(i, count, config_->listeners.size(),
                                                generations_[i], controller_->table()));
  }
  open_access_log();
  start_health_monitor();
  bind_listeners();
  connect_admin_sources();
  admin_ = std::make_unique<AdminListener>(
      control_, make_endpoint(config_->admin.host, config_->admin.port),
      [this](const AdminRequest& request) { return answer(request); });
  admin_address_ = to_string(admin_->local_endpoint());
  admin_->start();
  if (cluster_) {
    cluster_->start(advertised_admin_url(admin_->local_endpoint()));  // serving once read
  } else {
    start_serving();
  }
  if (options_.handle_signals) watch_signals();
  if (options_.watch_config && !options_.config_path.empty()) {
    watcher_ = std::make_unique<ConfigWatcher>(control_, options_.config_path, [this] {
      proxy::log::info("config file changed: reloading " + options_.config_path);
      reload();
    });
    watcher_->start();
  }
  schedule_tick();
  schedule_dns_refresh();
  for (const auto& [name, address] : listeners_) proxy::log::info("listener " + name + " on " + address);
  proxy::log::info("admin on " + admin_address_ + ", " + std::to_string(count) + " workers");
  if (!options_.ready_file.empty()) write_ready_file();
}

void Server::bind_listeners() {
  for (const auto& listener : config_->listeners) {
    // The first worker's bind resolves port 0; the others share that port through SO_REUSEPORT.
    tcp::endpoint at = workers_.front()->listen(make_endpoint(listener.host, listener.port));
    for (size_t i = 1; i < workers_.size(); ++i) workers_[i]->listen(at);
    listeners_[listener.name] = to_string(at);
  }
}

int Server::run() {
  auto guard = net::make_work_guard(control_);
  control_.run();
  for (auto& worker : workers_) worker->join();
  proxy::log::info("stopped");
  return exit_code_;
}

void Server::start_serving() {
  if (serving_ || draining_) return;
  serving_ = true;
  for (auto& worker : workers_) worker->start();
  api_.set_ready(true);
}

void Server::request_stop() {
  net::post(control_, [this] { drain(); });
}

void Server::watch_signals() {
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      proxy::log::info("SIGHUP: reloading " + options_.config_path);
      reload();
      watch_signals();
      return;
    }
    proxy::log::info(std::string("signal ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ": draining");
    drain();
  });
}

void Server::schedule_tick() {
  tick_timer_.expires_after(kControlTick);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || draining_) return;
    if (cluster_) cluster_->tick(std::chrono::steady_clock::now());
    controller_->tick(rollout::WallClock::now());
    sync_gates();
    sample_series();
    heap_release_.tick(steady_seconds());
    schedule_tick();
  });
}

void Server::sync_gates() {
  std::vector<PolledGate> wanted;
  const bool leading = controller_->role() == rollout::Controller::Role::Lead;
  for (uint32_t i = 0; leading && !draining_ && i < config_->rollouts.size(); ++i) {
    const auto& spec = config_->rollouts[i];
    if (const auto step = rollout::polled_gate(spec, controller_->state(i))) {
      wanted.push_back(PolledGate{spec.name, *step, spec.canary->steps[*step].gate});
    }
  }
  gates_->sync(wanted);
}

void Server::drain() {
  if (draining_) return;
  draining_ = true;
  sync_gates();  // no gate is polled from now on
  api_.set_ready(false);
  if (cluster_) cluster_->stop();  // another replica leads at once
  for (auto& worker : workers_) worker->drain();
  wait_for_workers(std::chrono::steady_clock::now() + kDrainLimit);
}

void Server::wait_for_workers(std::chrono::steady_clock::time_point give_up) {
  bool all = true;
  for (auto& worker : workers_) all = all && (!serving_ || worker->finished());
  all = all && (!cluster_ || cluster_->released());  // the lead handed on
  if (all || std::chrono::steady_clock::now() >= give_up) {
    if (!all) proxy::log::warn("drain limit reached: stopping with requests in flight");
    for (auto& worker : workers_) worker->stop();
    if (admin_) admin_->close();
    if (watcher_) watcher_->stop();
    if (health_) health_->stop();
    signals_.cancel();
    tick_timer_.cancel();
    dns_timer_.cancel();
    resolver_.cancel();
    control_.stop();
    return;
  }
  drain_timer_.expires_after(kDrainPoll);
  drain_timer_.async_wait([this, give_up](const boost::system::error_code& ec) {
    if (!ec) wait_for_workers(give_up);
  });
}

void Server::write_ready_file() const {
  std::string json = "{\"pid\":" + std::to_string(::getpid()) + ",\"admin\":\"" + admin_address_ +
                     "\",\"listeners\":{";
  bool first = true;
  for (const auto& [name, address] : listeners_) {
    json += (first ? "\"" : ",\"") + name + "\":\"" + address + "\"";
    first = false;
  }
  json += "}}\n";
  const std::string temp = options_.ready_file + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << json;
  }
  std::rename(temp.c_str(), options_.ready_file.c_str());
}

}  // namespace vane::control
