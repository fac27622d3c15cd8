// Cluster: what etcd holds under the prefix, read once and then followed through one watch —
// the leader, the live members and the rollout states. A value vane did not write (corrupt, or
// another program's) is logged and ignored.
#include <boost/json.hpp>

#include "control/cluster.hpp"
#include "rollout/state_store.hpp"

namespace vane::control {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kRetry{200};
constexpr milliseconds kMaxBackoff{2'000};

struct StateValue {
  std::string rollout;
  rollout::RolloutState state;
  std::optional<rollout::WallTime> written_at;
};

/// The value of a state/ key, or the reason it is not one.
std::optional<StateValue> parse_state_value(const std::string& text, std::string* error) {
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(text, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* rollout = object ? object->if_contains("rollout") : nullptr;
  const auto* state = object ? object->if_contains("state") : nullptr;
  if (!rollout || !rollout->is_string() || !state || !state->is_object()) {
    *error = "not a vane rollout state";
    return std::nullopt;
  }
  auto decoded = rollout::state_from_json(boost::json::serialize(*state), error);
  if (!decoded) return std::nullopt;
  StateValue out{std::string(rollout->as_string()), std::move(*decoded), std::nullopt};
  if (const auto* at = object->if_contains("writtenAt"); at && at->is_string()) {
    out.written_at = rollout::parse_time(std::string_view(at->as_string()));
  }
  return out;
}

}  // namespace

Task<void> Cluster::follow_changes() {
  const auto alive = alive_;
  milliseconds backoff = kRetry;
  while (*alive && !stopped_) {
    const EtcdRange all = co_await etcd_.get_prefix(settings_.etcd.prefix + "/");
    if (!*alive || stopped_) co_return;
    if (!all.ok()) {
      if (hooks_.warn) hooks_.warn("cluster: cannot read the cluster's state: " + all.error);
      co_await sleep(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    answered();
    backoff = kRetry;
    // What the read holds replaces the view: keys deleted while no watch ran are gone.
    bool has_leader = false;
    members_.clear();
    for (const EtcdKv& kv : all.kvs) {
      has_leader = has_leader || kv.key == key("leader");
      apply(kv, false);
    }
    if (!has_leader) leader_.clear();
    if (!ready_) {
      ready_ = true;
      if (hooks_.ready) hooks_.ready();
    }
    watch_cancel_ = std::make_shared<HttpCancel>();
    // Named before the co_await: GCC 12 destroys a lambda temporary in a co_await operand
    // twice (its `alive` copy released twice, found by ASan).
    std::function<void(EtcdWatchBatch&&)> on_batch = [this, alive](EtcdWatchBatch&& batch) {
      if (!*alive) return;
      answered();
      for (const EtcdEvent& event : batch.events) {
        apply(event.kv, event.type == EtcdEvent::Type::Delete);
      }
    };
    const std::string ended = co_await etcd_.watch(settings_.etcd.prefix + "/", all.revision + 1,
                                                   std::move(on_batch), watch_cancel_);
    if (!*alive || stopped_) co_return;
    if (hooks_.warn) hooks_.warn("cluster: the watch of etcd ended (" + ended + "): reading again");
    co_await sleep(kRetry);
  }
}

Task<bool> Cluster::read_all() {
  const auto alive = alive_;
  const EtcdRange states = co_await etcd_.get_prefix(key("state/"));
  if (!*alive || !states.ok()) co_return false;
  answered();
  for (const EtcdKv& kv : states.kvs) apply(kv, false);
  co_return true;
}

void Cluster::apply(const EtcdKv& kv, bool deleted) {
  const std::string prefix = settings_.etcd.prefix + "/";
  if (!kv.key.starts_with(prefix)) return;
  const std::string_view rest = std::string_view(kv.key).substr(prefix.size());
  if (rest == "leader") {
    apply_leader(kv, deleted);
  } else if (rest.starts_with("members/")) {
    apply_member(std::string(rest.substr(8)), kv, deleted);
  } else if (rest.starts_with("state/") && !deleted) {
    apply_state(kv);
  } else if (rest.starts_with("measurements/") && !deleted && hooks_.measured) {
    hooks_.measured(std::string(rest.substr(13)), kv.value);
  }
}

void Cluster::apply_leader(const EtcdKv& kv, bool deleted) {
  if (deleted) {
    leader_.clear();
    step_down("the leader key is gone");
    return;
  }
  leader_ = kv.value;
  leader_lease_ = kv.lease;
  leader_create_revision_ = kv.create_revision;
  if (leading_ && kv.create_revision != leader_revision_) step_down("another replica leads");
}

void Cluster::apply_member(const std::string& name, const EtcdKv& kv, bool deleted) {
  if (deleted) {
    members_.erase(name);
    return;
  }
  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(kv.value, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  if (!object) {
    if (hooks_.warn) hooks_.warn("cluster: ignored " + kv.key + ": not a vane member");
    return;
  }
  ClusterMember& member = members_[name];
  member.name = name;
  auto text = [&](const char* field) {
    const auto* v = object->if_contains(field);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  member.admin = text("admin");
  member.config_digest = text("configDigest");
  member.state_revision = std::strtoll(text("stateRevision").c_str(), nullptr, 10);
  member.last_seen = rollout::WallClock::now();
}

void Cluster::apply_state(const EtcdKv& kv) {
  int64_t& seen = state_revisions_[kv.key];
  if (kv.mod_revision <= seen) return;  // a re-read may repeat what the watch brought
  seen = kv.mod_revision;
  std::string error;
  auto value = parse_state_value(kv.value, &error);
  if (!value) {
    if (hooks_.warn) hooks_.warn("cluster: ignored " + kv.key + ": " + error);
    return;
  }
  backend_->states[value->rollout] = value->state;
  applied_revision_ = std::max(applied_revision_, kv.mod_revision);
  if (!leading_) {
    if (hooks_.state) hooks_.state(value->rollout, value->state);
    if (value->written_at) {
      apply_delay_.add(std::chrono::duration<double>(rollout::WallClock::now() - *value->written_at)
                           .count());
    }
  }
  member_dirty_ = true;
  net::co_spawn(io_, publish_member(), net::detached);
}

}  // namespace vane::control
