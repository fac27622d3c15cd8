// Cluster: the lease, membership, election and the leader's fenced writes (the view of what etcd
// holds is in cluster_view.cpp).
#include "control/cluster.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>

#include "control/status_json.hpp"
#include "rollout/state_store.hpp"

namespace vane::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kRetry{200};
constexpr milliseconds kMaxBackoff{2'000};
constexpr milliseconds kJoinRetry{500};
constexpr milliseconds kFlushPoll{5};

// Built outside the co_await expressions: GCC 12 miscompiles braced aggregates inside them.
std::vector<EtcdCompare> created_at(std::string key, int64_t revision) {
  EtcdCompare compare;
  compare.key = std::move(key);
  compare.target = EtcdCompare::Target::Create;
  compare.number = revision;
  return {std::move(compare)};
}

std::vector<EtcdOp> put_op(std::string key, std::string value, int64_t lease) {
  EtcdOp op;
  op.kind = EtcdOp::Kind::Put;
  op.key = std::move(key);
  op.value = std::move(value);
  op.lease = lease;
  return {std::move(op)};
}

std::vector<EtcdOp> delete_op(std::string key) {
  EtcdOp op;
  op.kind = EtcdOp::Kind::Delete;
  op.key = std::move(key);
  return {std::move(op)};
}

}  // namespace

Cluster::Backend::LoadResult Cluster::Backend::load(const std::string& rollout,
                                                   rollout::WallTime) {
  const auto it = states.find(rollout);
  if (it == states.end()) return {};
  return {it->second, ""};
}

bool Cluster::Backend::save(const std::string& rollout, const rollout::RolloutState& state,
                            std::string* error) {
  if (!cluster_.leading_) {
    if (error) *error = "this replica does not lead the cluster";
    return false;
  }
  cluster_.queue_write(rollout, state);
  return true;
}

void Cluster::DelayHistogram::add(double seconds) {
  seconds = std::max(seconds, 0.0);
  const auto bound = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  if (bound != kBounds.end()) ++buckets[static_cast<size_t>(bound - kBounds.begin())];
  ++count;
  sum += seconds;
}

Cluster::Cluster(net::io_context& io, HttpClient& http, config::Cluster settings,
                 std::string config_digest, Hooks hooks)
    : io_(io),
      settings_(std::move(settings)),
      digest_(std::move(config_digest)),
      hooks_(std::move(hooks)),
      etcd_(http, settings_.etcd),
      backend_(std::make_unique<Backend>(*this)) {}

Cluster::~Cluster() {
  *alive_ = false;
  watch_cancel_->cancel();
}

rollout::StateBackend& Cluster::backend() { return *backend_; }

void Cluster::start(std::string admin_url) {
  admin_url_ = std::move(admin_url);
  net::co_spawn(io_, keep_lease(), net::detached);
  net::co_spawn(io_, follow_changes(), net::detached);
  net::co_spawn(io_, publish_measurements(), net::detached);
}

void Cluster::stop() {
  if (stopped_) return;
  stopped_ = true;
  watch_cancel_->cancel();
  net::co_spawn(io_, release(), net::detached);
}

Task<void> Cluster::release() {
  const auto alive = alive_;
  // What the leader decided is kept (bounded: etcd may be away); then the lead is handed on.
  if (leading_) co_await flush(steady_clock::now() + settings_.etcd.dial_timeout);
  if (!*alive) co_return;
  drop_lead();
  // Revoking the lease deletes the member and leader keys at once: the others campaign now
  // rather than after leaseTTL.
  if (lease_ != 0) co_await etcd_.revoke(lease_);
  if (*alive) released_ = true;
}

bool Cluster::connected() const {
  if (last_answer_ == SteadyTime{}) return false;
  return steady_clock::now() - last_answer_ < settings_.lease_ttl + settings_.etcd.dial_timeout;
}

std::string Cluster::leader_admin() const {
  if (leading_ || leader_.empty() || leader_ == self()) return "";
  const auto it = members_.find(leader_);
  return it == members_.end() ? "" : it->second.admin;
}

std::vector<ClusterMember> Cluster::members() const {
  std::vector<ClusterMember> out;
  for (const auto& [name, member] : members_) out.push_back(member);
  return out;
}

void Cluster::set_digest(std::string digest) {
  digest_ = std::move(digest);
  member_dirty_ = true;
  net::co_spawn(io_, publish_member(), net::detached);
}

Task<void> Cluster::sleep(milliseconds d) {
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(use_tuple);
}

void Cluster::tick(SteadyTime now) {
  if (stopped_) return;
  // etcd ends the lease leaseTTL after it received the last keepalive, which came after we
  // sent it: deciding stops a margin before the earliest moment another replica could lead.
  const auto ttl = std::chrono::duration_cast<milliseconds>(settings_.lease_ttl);
  const auto margin = std::max(ttl / 4, milliseconds(250));
  if (leading_ && now >= renewed_at_ + ttl - margin) {
    step_down("the lease was not renewed in time: stopped deciding before it can lapse");
  }
  if (!leading_ && !campaigning_ && leader_.empty() && ready_ && joined_ && lease_ != 0) {
    net::co_spawn(io_, campaign(), net::detached);
  }
  // The leader key is still ours though we stopped leading (our resignation found etcd away,
  // and our lease outlived the outage): give it up, so that a fresh election can follow.
  if (!leading_ && !campaigning_ && !resigning_ && leader_ == self() && leader_lease_ == lease_ &&
      lease_ != 0) {
    resigning_ = true;
    net::co_spawn(io_, [this, alive = alive_, revision = leader_create_revision_]() -> Task<void> {
      co_await resign(revision);
      if (*alive) resigning_ = false;
    }, net::detached);
  }
}

Task<void> Cluster::keep_lease() {
  const auto alive = alive_;
  const auto every = std::chrono::duration_cast<milliseconds>(settings_.lease_ttl) / 3;
  milliseconds backoff = kRetry;
  while (*alive && !stopped_) {
    const SteadyTime sent = steady_clock::now();
    if (lease_ == 0) {
      const EtcdLease granted = co_await etcd_.grant(settings_.lease_ttl);
      if (!*alive || stopped_) co_return;
      if (!granted.ok()) {
        if (hooks_.warn) hooks_.warn("cluster: no lease from etcd: " + granted.error);
        co_await sleep(backoff);
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      answered();
      backoff = kRetry;
      lease_ = granted.id;
      renewed_at_ = sent;
      joined_ = false;
      const bool go_on = co_await join();
      if (!go_on || !*alive) co_return;
      if (lease_ == 0) continue;
    } else {
      const EtcdLease renewed = co_await etcd_.keepalive(lease_);
      if (!*alive || stopped_) co_return;
      if (!renewed.ok()) {
        // A silent connection would keep the watch waiting for ever: start it anew too.
        watch_cancel_->cancel();
      } else if (renewed.ttl > 0) {
        answered();
        renewed_at_ = sent;
      } else {
        answered();
        if (hooks_.warn) hooks_.warn("cluster: the lease expired; joining again");
        lease_ = 0;
        joined_ = false;
        step_down("the lease expired");
        continue;
      }
    }
    co_await sleep(every);
  }
}

/// Registers members/NAME under our lease (kept alive meanwhile). The name of a live member is
/// refused: after leaseTTL + 1 s (a crashed predecessor's lease has lapsed by then) this replica
/// gives up. False: it gave up, or it is stopping.
Task<bool> Cluster::join() {
  const auto alive = alive_;
  const std::string member = key("members/" + self());
  const SteadyTime give_up = steady_clock::now() + settings_.lease_ttl + std::chrono::seconds(1);
  for (;;) {
    auto absent = created_at(member, 0);
    auto put = put_op(member, member_value(), lease_);
    const EtcdTxn created = co_await etcd_.txn(std::move(absent), std::move(put));
    if (!*alive || stopped_) co_return false;
    if (created.ok()) {
      answered();
      if (created.succeeded) break;
      const EtcdRange held = co_await etcd_.get(member);
      if (!*alive) co_return false;
      if (held.ok() && !held.kvs.empty() && held.kvs.front().lease == lease_) break;
      if (steady_clock::now() >= give_up) {
        if (hooks_.fatal) {
          hooks_.fatal("cluster: replicaName " + self() + " is in use by a live member of " +
                       settings_.etcd.prefix + "; every replica needs its own name");
        }
        co_return false;
      }
    }
    co_await sleep(kJoinRetry);
    // While the name is held (a crashed predecessor's lease lapsing), ours must not lapse.
    const SteadyTime sent = steady_clock::now();
    const EtcdLease renewed = co_await etcd_.keepalive(lease_);
    if (!*alive || stopped_) co_return false;
    if (renewed.ok() && renewed.ttl > 0) renewed_at_ = sent;
    if (renewed.ok() && renewed.ttl <= 0) {
      lease_ = 0;  // keep_lease takes a new one and comes back here
      co_return true;
    }
  }
  joined_ = true;
  if (hooks_.info) hooks_.info("cluster: joined " + settings_.etcd.prefix + " as " + self());
  // States applied while joining (the key was created with the revision of that moment).
  member_dirty_ = true;
  net::co_spawn(io_, publish_member(), net::detached);
  co_return true;
}

std::string Cluster::member_value() const {
  boost::json::object value;
  value["admin"] = admin_url_;
  value["configDigest"] = digest_;
  value["stateRevision"] = std::to_string(applied_revision_);
  return boost::json::serialize(value);
}

Task<void> Cluster::publish_member() {
  if (member_publishing_ || !joined_) co_return;
  const auto alive = alive_;
  member_publishing_ = true;
  while (member_dirty_ && joined_ && !stopped_) {
    member_dirty_ = false;
    const EtcdTxn put = co_await etcd_.put(key("members/" + self()), member_value(), lease_);
    if (!*alive) co_return;
    if (put.ok()) {
      answered();
    } else {
      member_dirty_ = true;
      co_await sleep(kJoinRetry);
      if (!*alive) co_return;
    }
  }
  member_publishing_ = false;
}

Task<void> Cluster::publish_measurements() {
  const auto alive = alive_;
  const std::string measurements = key("measurements/" + self());
  while (*alive && !stopped_) {
    co_await sleep(settings_.publish_interval);
    if (!*alive || stopped_) co_return;
    if (!joined_ || !hooks_.measurements) continue;
    const EtcdTxn put = co_await etcd_.put(measurements, hooks_.measurements(), lease_);
    if (!*alive) co_return;
    if (put.ok()) answered();  // a lost one is covered by the next (each repeats the last)
  }
}

Task<void> Cluster::campaign() {
  if (campaigning_ || leading_ || stopped_) co_return;
  const auto alive = alive_;
  campaigning_ = true;
  const std::string leader_key = key("leader");
  auto absent = created_at(leader_key, 0);
  auto put = put_op(leader_key, self(), lease_);
  const EtcdTxn won = co_await etcd_.txn(std::move(absent), std::move(put));
  if (!*alive) co_return;
  if (!won.ok() || !won.succeeded || stopped_) {
    campaigning_ = false;
    if (won.ok()) answered();
    co_return;
  }
  answered();
  leader_revision_ = won.revision;
  unsure_ = false;
  // The watch may lag behind the last leader's final writes: read every state as of now.
  const bool read = co_await read_all();
  if (!*alive) co_return;
  campaigning_ = false;
  if (!read || stopped_) {
    co_await resign(won.revision);
    co_return;
  }
  leading_ = true;
  leader_ = self();
  if (hooks_.info) hooks_.info("cluster: " + self() + " leads");
  if (hooks_.leadership) hooks_.leadership(true);
}

Task<void> Cluster::resign(int64_t revision) {
  const std::string leader_key = key("leader");
  auto ours = created_at(leader_key, revision);
  auto remove = delete_op(leader_key);
  co_await etcd_.txn(std::move(ours), std::move(remove));
}

void Cluster::drop_lead() {
  if (!leading_) return;
  leading_ = false;
  pending_.clear();
  if (hooks_.leadership) hooks_.leadership(false);
}

void Cluster::step_down(const std::string& why) {
  if (!leading_) return;
  if (hooks_.warn) hooks_.warn("cluster: " + self() + " stops leading: " + why);
  drop_lead();
  if (!stopped_) {
    net::co_spawn(io_, [this, alive = alive_, revision = leader_revision_]() -> Task<void> {
      if (*alive) co_await resign(revision);
    }, net::detached);
  }
}

void Cluster::queue_write(const std::string& rollout, const rollout::RolloutState& state) {
  pending_[rollout] = Write{state, ++queued_seq_, rollout::WallClock::now()};
  if (!writing_) net::co_spawn(io_, write_states(), net::detached);
}

Task<void> Cluster::write_states() {
  const auto alive = alive_;
  writing_ = true;
  while (leading_ && !pending_.empty()) {
    const auto next = pending_.begin();
    const std::string rollout = next->first;
    const Write write = next->second;
    boost::json::object value;
    value["rollout"] = rollout;
    value["writtenBy"] = self();
    value["writtenAt"] = rfc3339(write.at);
    value["state"] = boost::json::parse(rollout::state_to_json(write.state));
    auto fence = created_at(key("leader"), leader_revision_);
    auto write_op = put_op(state_key(rollout), boost::json::serialize(value), 0);
    in_flight_ = true;
    const EtcdTxn put = co_await etcd_.txn(std::move(fence), std::move(write_op));
    if (!*alive) co_return;
    in_flight_ = false;
    if (!put.ok()) {  // no answer: the same (or a newer) state is written again
      unsure_ = true;
      if (hooks_.warn) hooks_.warn("cluster: writing the state of " + rollout + ": " + put.error);
      co_await sleep(kRetry);
      if (!*alive) co_return;
      continue;
    }
    answered();
    if (!put.succeeded) {
      step_down("a state write was refused: the leader key is no longer ours");
      break;
    }
    backend_->states[rollout] = write.state;
    const auto current = pending_.find(rollout);
    if (current != pending_.end() && current->second.seq == write.seq) pending_.erase(current);
    if (pending_.empty()) unsure_ = false;
  }
  writing_ = false;
}

Task<Cluster::Commit> Cluster::flush(SteadyTime deadline) {
  for (;;) {
    if (!leading_) co_return in_flight_ || unsure_ ? Commit::Unsure : Commit::NotApplied;
    if (pending_.empty() && !in_flight_) co_return Commit::Done;
    if (steady_clock::now() >= deadline) {
      // Taken back rather than left to land after its caller was told it did not.
      step_down("what it decided was not committed to etcd in time");
      continue;
    }
    co_await sleep(kFlushPoll);
  }
}

std::string Cluster::state_key(const std::string& rollout) const {
  return key("state/" + rollout::sanitize_file_name(rollout));
}

}  // namespace vane::control
