// Server: one replica of a cluster (SPEC §9). The Cluster keeps etcd's view; here it meets the
// rest of the process: workers serve once the cluster's state was read, the controller decides
// only while this replica leads, and the admin API answers for the cluster (rollout requests
// go to the leader; /api/v1/cluster is this replica's view).
#include <unistd.h>

#include <array>
#include <limits>

#include <boost/json.hpp>

#include "control/server.hpp"
#include "proxy/log.hpp"

namespace vane::control {
namespace {

using std::chrono::steady_clock;

constexpr auto kLeaderAnswer = std::chrono::seconds(5);
constexpr auto kLeaderRetry = std::chrono::milliseconds(100);

/// Requests whose answer is the cluster's: rollouts, their commands and analysis runs.
bool clusterwide(const AdminRequest& request) {
  const std::string_view path = request.target.substr(0, request.target.find('?'));
  return path.starts_with("/api/v1/rollouts") || path == "/api/v1/analysisruns";
}

AdminResponse unavailable(std::string message) { return error_response(503, std::move(message)); }

/// A command this replica did not apply (it does not lead, or lost the lead before committing
/// and sent no write etcd left unconfirmed). Forwarded, it is 421: the forwarding replica asks
/// whoever leads next. Anything else a leader answers is final: a command is never applied twice.
AdminResponse not_applied(const AdminRequest& request, std::string message) {
  return error_response(request.forwarded ? 421 : 503, std::move(message) + ": not applied");
}

}  // namespace

/// The admin URL the other replicas use: the bound address; bound to every address (0.0.0.0,
/// [::]), the first address other than loopback that this host's own name resolves to (in
/// Kubernetes the pod's IP, which the pod's hosts file maps its name to), else the name itself.
/// Resolved once, at start.
std::string advertised_admin_url(const tcp::endpoint& bound) {
  const std::string port = std::to_string(bound.port());
  if (!bound.address().is_unspecified()) return "http://" + to_string(bound);
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  boost::system::error_code ec;
  net::io_context io;
  tcp::resolver resolver(io);
  for (const auto& entry : resolver.resolve(host.data(), port, ec)) {
    const auto address = entry.endpoint().address();
    if (!address.is_loopback() && !address.is_unspecified()) {
      return "http://" + to_string(tcp::endpoint(address, bound.port()));
    }
  }
  return "http://" + std::string(host.data()) + ":" + port;
}

void Server::make_cluster() {
  Cluster::Hooks hooks;
  hooks.ready = [this] {
    follow_committed();  // route with the states read from etcd, then accept
    start_serving();
  };
  hooks.leadership = [this](bool leading) { lead(leading); };
  hooks.state = [this](const std::string& rollout, const rollout::RolloutState& state) {
    controller_->follow(rollout, state);
  };
  hooks.fatal = [this](const std::string& message) {
    proxy::log::error(message);
    exit_code_ = 1;
    drain();
  };
  hooks.measurements = [this] { return measurements_->publish(shards(), steady_seconds()); };
  hooks.measured = [this](const std::string& member, const std::string& value) {
    std::string error;
    if (!measurements_->receive(member, value, steady_seconds(), &error)) {
      proxy::log::warn("cluster: ignored the measurements of " + member + ": " + error);
    }
  };
  hooks.info = [](const std::string& message) { proxy::log::info(message); };
  hooks.warn = [](const std::string& message) { proxy::log::warn(message); };
  cluster_ = std::make_unique<Cluster>(control_, http_, *config_->cluster, config_->digest,
                                       std::move(hooks));
  measurements_ = std::make_unique<ClusterMeasurements>(config_->cluster->publish_interval);
}

void Server::lead(bool leading) {
  if (leading) {
    events_.add(config::Trigger::LeaderElected, "replica " + cluster_->self() + " leads the cluster",
                rollout::WallClock::now());
    controller_->lead(rollout::WallClock::now());
    return;
  }
  controller_->step_down();
  sync_gates();  // only the leader polls gates
  // What it decided and did not commit is taken back: the cluster goes on from etcd's states.
  follow_committed();
  // Runs of a replica that no longer leads end without a verdict; the next leader starts its own.
  for (uint32_t i = 0; i < config_->rollouts.size(); ++i) {
    runner_->apply(i,
                   rollout::Effect{rollout::Effect::Kind::TerminateAnalysis,
                                   rollout::AnalysisKind::Step, 0, true},
                   controller_->state(i));
  }
}

void Server::follow_committed() {
  for (const auto& rollout : config_->rollouts) {
    const auto loaded = cluster_->backend().load(rollout.name, rollout::WallClock::now());
    if (loaded.state) controller_->follow(rollout.name, *loaded.state);
  }
}

Task<AdminResponse> Server::answer(const AdminRequest& request) {
  if (!cluster_ || !clusterwide(request)) co_return api_.handle(request);
  const auto deadline = steady_clock::now() + kLeaderAnswer;
  const bool post = request.method == "POST";
  if (post) {  // checked here: the leader does not see the browser's Origin
    if (auto refused = api_.cross_origin(request)) co_return std::move(*refused);
  }
  if (!cluster_->leading() && !request.forwarded) {
    if (auto answered = co_await ask_leader(request, deadline)) co_return std::move(*answered);
    if (!cluster_->leading()) {  // else it came to lead meanwhile: answer here
      if (post) co_return unavailable("no leader of the cluster answered within 5s: not applied");
      co_return api_.handle(request);  // what this replica last knew
    }
  }
  if (post && !cluster_->leading()) {
    co_return not_applied(request, "this replica no longer leads the cluster");
  }
  AdminResponse response = api_.handle(request);
  if (!post || response.status != 200) co_return response;
  // A command is answered once the leader has committed it (SPEC §9).
  const Cluster::Commit commit = co_await cluster_->flush(deadline);
  switch (commit) {
    case Cluster::Commit::Done:
      co_return response;
    case Cluster::Commit::NotApplied:
      co_return not_applied(request, "the leader stopped leading before it committed the change");
    case Cluster::Commit::Unsure:
      break;
  }
  co_return unavailable("etcd neither confirmed nor refused the change: it may still apply "
                        "(GET the rollout's status)");
}

/// `request` as the leader gets it from this replica.
static HttpCall leader_call(const AdminRequest& request, const std::string& leader, const std::string& self,
                     steady_clock::time_point deadline) {
  HttpCall call;
  call.method = std::string(request.method);
  call.url = leader + std::string(request.target);
  call.body = std::string(request.body);
  call.headers.push_back({std::string(kForwardedBy), self});
  if (!request.authorization.empty()) {
    call.headers.push_back({"Authorization", std::string(request.authorization)});
  }
  call.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
  return call;
}

/// Hands `request` to the leader, waiting (until `deadline`) for one to be known and to answer.
Task<std::optional<AdminResponse>> Server::ask_leader(const AdminRequest& request,
                                                      steady_clock::time_point deadline) {
  std::optional<AdminResponse> answer;
  Timer pause(control_);
  while (!answer && steady_clock::now() < deadline && !cluster_->leading()) {
    const std::string leader = cluster_->leader_admin();
    if (!leader.empty()) {
      HttpReply reply = co_await http_.fetch(leader_call(request, leader, cluster_->self(), deadline));
      // 421: that replica did not apply it (no longer the leader); ask whoever leads next.
      if (reply.answered() && reply.status != 421) {
        answer = AdminResponse{static_cast<int>(reply.status), "application/json", std::move(reply.body), {}};
        break;
      }
    }
    pause.expires_after(kLeaderRetry);
    co_await pause.async_wait(use_tuple);
  }
  co_return answer;
}

boost::json::object Server::cluster_json() const {
  boost::json::array members;
  for (const ClusterMember& m : cluster_->members()) {
    members.push_back(boost::json::object{{"name", m.name},
                                          {"admin", m.admin},
                                          {"configDigest", m.config_digest},
                                          {"lastSeen", rfc3339(m.last_seen)},
                                          {"leader", m.name == cluster_->leader()},
                                          {"stateRevision", m.state_revision}});
  }
  boost::json::value leader = nullptr;
  if (!cluster_->leader().empty()) leader = boost::json::string(cluster_->leader());
  return boost::json::object{{"leader", leader},
                             {"self", cluster_->self()},
                             {"connected", cluster_->connected()},
                             {"members", std::move(members)}};
}

void Server::add_cluster_metrics(std::vector<prometheus::MetricFamily>& out) const {
  using prometheus::ClientMetric;
  using prometheus::MetricFamily;
  using prometheus::MetricType;
  auto gauge = [&](const char* name, const char* help, double value) {
    ClientMetric metric;
    metric.gauge.value = value;
    out.push_back(MetricFamily{name, help, MetricType::Gauge, {metric}});
  };
  gauge("vane_cluster_leader", "1 on the cluster's leader, else 0.", cluster_->leading() ? 1 : 0);
  gauge("vane_cluster_connected", "1 while etcd answers.", cluster_->connected() ? 1 : 0);
  gauge("vane_cluster_members", "Live members of the cluster (lease alive).",
        static_cast<double>(cluster_->members().size()));
  const Cluster::DelayHistogram& delay = cluster_->apply_delay();
  ClientMetric metric;
  metric.histogram.sample_count = delay.count;
  metric.histogram.sample_sum = delay.sum;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < delay.kBounds.size(); ++b) {
    cumulative += delay.buckets[b];
    metric.histogram.bucket.push_back({cumulative, delay.kBounds[b]});
  }
  metric.histogram.bucket.push_back({delay.count, std::numeric_limits<double>::infinity()});
  out.push_back(MetricFamily{"vane_cluster_apply_delay_seconds",
                             "Time from the leader's write of a rollout state to this replica "
                             "applying it (the two replicas' wall clocks).",
                             MetricType::Histogram,
                             {metric}});
}

}  // namespace vane::control
