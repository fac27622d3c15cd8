// Server: the rollout controller, per-worker generations, and reload.
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <optional>
#include <thread>
#include <unordered_map>

#include "control/config_checks.hpp"
#include "proxy/log.hpp"
#include "control/server.hpp"

namespace vane::control {
namespace {

/// The admin token: the file's content without surrounding whitespace.
std::string read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read admin.tokenFile " + path);
  std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::runtime_error("admin.tokenFile " + path + " is empty");
  return token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
}

/// Listeners and the admin address are bound once, and a replica joins its cluster once; a
/// reload may not change them.
std::string rebind_needed(const config::Config& old_config, const config::Config& next) {
  if (old_config.admin.address != next.admin.address) return "admin.address";
  if (old_config.cluster.has_value() != next.cluster.has_value()) return "cluster";
  if (old_config.cluster) {  // every key but where the section stands in the file
    const config::Cluster& a = *old_config.cluster;
    const config::Cluster& b = *next.cluster;
    if (!(a.etcd == b.etcd) || a.replica_name != b.replica_name || a.lease_ttl != b.lease_ttl ||
        a.publish_interval != b.publish_interval) {
      return "cluster";
    }
  }
  if (old_config.listeners.size() != next.listeners.size()) return "listeners";
  for (size_t i = 0; i < next.listeners.size(); ++i) {
    if (old_config.listeners[i].name != next.listeners[i].name ||
        old_config.listeners[i].address != next.listeners[i].address) {
      return "listeners[" + std::to_string(i) + "]";
    }
  }
  return "";
}

}  // namespace

void Server::start_controller() {
  if (!config_->admin.token_file.empty()) api_.set_token(read_token(config_->admin.token_file));
  notifications_.configure(config_->notifications);
  events_.listen([this](const EventRecord& event) {
    // In a cluster only the leader, which decides, notifies (SPEC §11).
    if (cluster_ && (!controller_ || controller_->role() != rollout::Controller::Role::Lead)) return;
    if (!notifications_.wanted(event)) return;
    notifications_.notify(event, event.rollout ? api_.rollout_status(*event.rollout) : nullptr);
  });
  rollout::Controller::Hooks hooks;
  hooks.publish = [this](std::shared_ptr<const rollout::RoutingTable> table) {
    for (auto& worker : workers_) worker->set_table(table);
  };
  hooks.healthy = [this](uint32_t upstream) { return health_->canary_ready(upstream); };
  hooks.warn = [](std::string_view message) { proxy::log::warn(message); };
  hooks.fired = [this](std::string_view rollout, const rollout::Fired& fired,
                       const rollout::RolloutState& state) {
    events_.add(std::string(rollout), fired.trigger, fired.message, state, rollout::WallClock::now());
  };
  hooks.analysis = [this](uint32_t rollout, const rollout::Effect& effect,
                          const rollout::RolloutState& state) {
    runner_->apply(rollout, effect, state);
  };
  AnalysisRunner::Hooks runs;
  runs.done = [this](uint32_t rollout, rollout::AnalysisKind kind, uint32_t run,
                     rollout::Event::AnalysisPhase phase, std::string message) {
    controller_->analysis_done(rollout, kind, phase, std::move(message), rollout::WallClock::now(),
                               run);
  };
  runs.builtin = [this](uint32_t rollout, const std::string& upstream, analysis::Target target,
                        int64_t window_seconds, bool histogram) {
    return builtin_window(rollout, upstream, target, window_seconds, histogram);
  };
  runs.warn = [](std::string_view message) { proxy::log::warn(message); };
  runner_ = std::make_unique<AnalysisRunner>(control_, std::move(runs), http_, wall_clock_);
  runner_->set_config(config_);
  // A replica of a cluster follows until it leads: what it routes comes from etcd.
  rollout::StateBackend* backend = cluster_ ? &cluster_->backend() : nullptr;
  if (!backend) backend = (store_ = std::make_unique<rollout::StateStore>(config_->state.dir)).get();
  controller_ = std::make_unique<rollout::Controller>(
      config_, *backend, std::move(hooks), rollout::WallClock::now(),
      cluster_ ? rollout::Controller::Role::Follow : rollout::Controller::Role::Lead);
  gates_ = std::make_unique<GatePoller>(
      control_, http_,
      [this](const PolledGate& gate, rollout::Event::GateVerdict verdict, std::string reason) {
        controller_->gate_answered(gate.rollout, gate.step, verdict, std::move(reason),
                                   rollout::WallClock::now());
      });
}

std::vector<std::vector<bool>> Server::used_upstreams() const {
  std::vector<std::vector<bool>> used(config_->rollouts.size(),
                                      std::vector<bool>(config_->upstreams.size(), false));
  std::unordered_map<std::string_view, size_t> index;  // names are unique (the loader checks)
  for (size_t u = 0; u < config_->upstreams.size(); ++u) index.emplace(config_->upstreams[u].name, u);
  auto mark = [&](size_t r, std::string_view name) {
    if (const auto it = index.find(name); it != index.end()) used[r][it->second] = true;
  };
  for (uint32_t r = 0; r < config_->rollouts.size(); ++r) {
    mark(r, config_->rollouts[r].upstream);
    mark(r, controller_->state(r).stable);
    mark(r, controller_->state(r).canary);
    mark(r, controller_->state(r).previous_stable);  // blue-green may switch back to it
    if (!config_->rollouts[r].canary) continue;
    for (const auto& step : config_->rollouts[r].canary->steps) {  // experiment templates
      for (const auto& t : step.experiment.templates) mark(r, t.upstream);
    }
  }
  return used;
}

std::vector<proxy::GenerationParts> Server::build_generations(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  uint32_t count = static_cast<uint32_t>(workers_.size());
  if (count == 0) count = config_->workers;
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  auto layout = std::make_shared<const proxy::StatsLayout>(*config_, used_upstreams());
  // Outcomes keep accumulating across a reload that leaves the series as they were.
  const bool same_series = layout_ && *layout_ == *layout && generations_.size() == count;
  std::vector<proxy::GenerationParts> specs(count);
  for (uint32_t i = 0; i < count; ++i) {
    specs[i].snapshot = snapshot;
    specs[i].layout = same_series ? layout_ : layout;
    specs[i].shard = same_series ? generations_[i].shard
                                 : std::make_shared<analysis::OutcomeShard>(layout->series_count(),
                                                                            layout->windowed());
    specs[i].stats = same_series ? generations_[i].stats
                                 : std::make_shared<proxy::WorkerStats>(config_->upstreams.size(),
                                                                 config_->rollouts.size());
  }
  if (!same_series) layout_ = layout;
  if (measurements_) measurements_->set_layout(config_, layout_);
  return specs;
}

void Server::reject(const std::vector<config::Error>& errors) {
  std::string message = "reload of " + options_.config_path + " rejected, the old config kept:";
  for (const auto& error : errors) message += " " + error.to_string() + ";";
  message.pop_back();
  events_.add(config::Trigger::ConfigRejected, std::move(message), rollout::WallClock::now());
}

std::vector<config::Error> Server::reload() {
  auto loaded = load_config(options_.config_path);
  if (loaded.errors.empty()) {
    if (auto field = rebind_needed(*config_, *loaded.config); !field.empty()) {
      loaded.errors.push_back({options_.config_path, 1, 1, field,
                               field == "cluster"
                                   ? "cannot change without a restart (a replica joins once)"
                                   : "cannot change without a restart (sockets are bound once)"});
    }
  }
  if (!loaded.errors.empty()) {
    ++reloads_failed_;
    for (const auto& error : loaded.errors) proxy::log::error("reload rejected: " + error.to_string());
    reject(loaded.errors);
    return loaded.errors;
  }
  try {
    if (!loaded.config->admin.token_file.empty()) {
      api_.set_token(read_token(loaded.config->admin.token_file));
    } else {
      api_.set_token("");
    }
  } catch (const std::exception& e) {
    ++reloads_failed_;
    proxy::log::error(std::string("reload rejected: ") + e.what());
    std::vector<config::Error> errors{{options_.config_path, 1, 1, "admin.tokenFile", e.what()}};
    reject(errors);
    return errors;
  }
  notifications_.configure(loaded.config->notifications);  // a new notifier hears of its reload
  // The reload's event comes before what follows from it (a rollout the new desired starts).
  if (loaded.config->content_digest != config_->content_digest) {
    events_.add(config::Trigger::ConfigReloaded, "reloaded " + options_.config_path,
                rollout::WallClock::now());
  } else {
    proxy::log::info("reloaded " + options_.config_path + ": unchanged");
  }
  config_ = loaded.config;
  snapshot_ = proxy::ConfigSnapshot::build(config_, {}, snapshot_.get());  // a failed lookup keeps the last good
  health_->reconfigure(snapshot_);  // before the controller asks it about the new upstreams
  // Workers get the new config and its table together, so indices always match; the runner
  // learns the new indices before the controller's effects use them.
  runner_->set_config(config_);
  controller_->reconfigure(config_, rollout::WallClock::now());
  sync_gates();
  generations_ = build_generations(snapshot_);
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->reload(generations_[i], controller_->table());
  reopen_access_log();
  if (cluster_) cluster_->set_digest(config_->digest);
  ++reloads_succeeded_;
  schedule_dns_refresh();  // the new names, at the new dnsRefresh (the old config may have had none)
  return {};
}

}  // namespace vane::control

namespace vane::control {
namespace {

bool is_name(const config::Endpoint& endpoint) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(endpoint.host, ec);
  return static_cast<bool>(ec);
}

}  // namespace

void Server::schedule_dns_refresh() {
  std::optional<config::Duration> every;
  for (const auto& upstream : config_->upstreams) {
    for (const auto& endpoint : upstream.endpoints) {
      if (is_name(endpoint)) every = every ? std::min(*every, upstream.dns_refresh) : upstream.dns_refresh;
    }
  }
  if (!every || draining_) return;
  dns_timer_.expires_after(*every);
  dns_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) refresh_dns();
  });
}

/// Looks every name up again without blocking the control thread (Asio's resolver runs
/// getaddrinfo on its own thread); applies the addresses once every lookup has answered.
void Server::refresh_dns() {
  struct Lookup {
    std::shared_ptr<const config::Config> config;
    proxy::Resolutions results;
    size_t pending = 0;
  };
  auto lookup = std::make_shared<Lookup>();
  lookup->config = config_;
  for (const auto& upstream : config_->upstreams) {
    for (const auto& endpoint : upstream.endpoints) {
      if (!is_name(endpoint)) continue;
      ++lookup->pending;
      const size_t slot = lookup->results.size();
      lookup->results.push_back({endpoint.text, {}, {}});
      resolver_.async_resolve(endpoint.host, std::to_string(endpoint.port),
                              [this, lookup, slot](const boost::system::error_code& ec, auto results) {
        if (ec) lookup->results[slot].error = ec.message();
        auto& addresses = lookup->results[slot].addresses;
        for (const auto& result : results) addresses.push_back(result.endpoint());
        if (--lookup->pending > 0 || ec == boost::asio::error::operation_aborted) return;
        // A reload meanwhile has its own fresh addresses: these are for the old config.
        if (lookup->config == config_) {
          apply_snapshot(proxy::ConfigSnapshot::build(config_, lookup->results, snapshot_.get()));
        }
        schedule_dns_refresh();
      });
    }
  }
}

void Server::apply_snapshot(std::shared_ptr<const proxy::ConfigSnapshot> snapshot) {
  if (snapshot->same_endpoints(*snapshot_)) return;
  proxy::log::info("upstream addresses changed: applying the new ones");
  snapshot_ = std::move(snapshot);
  health_->reconfigure(snapshot_);  // before the workers get the generation its snapshot is for
  generations_ = build_generations(snapshot_);
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->reload(generations_[i], controller_->table());
}

}  // namespace vane::control
