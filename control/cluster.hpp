// One replica's part in a cluster of vane replicas coordinated through etcd (SPEC §9): its
// membership lease, the election of the one leader, the rollout states kept under the prefix
// (written by the leader alone, every write fenced by the leader key), and the view of the
// cluster every replica keeps from etcd's watch. Off the request path; control thread only.
//
// Keys under `prefix` (docs/cluster.md): leader (the leader's name, under its lease),
// members/NAME (admin URL, configDigest, stateRevision; under the member's lease),
// state/ROLLOUT (a rollout's progress, as the state file holds it, and when it was written),
// measurements/NAME (what member NAME measured lately, under its lease; cluster_measurements).
//
// Time: every decision here reads this replica's steady clock only (lease renewals, etcd
// silence); no two replicas' clocks are ever compared. `lastSeen` and the apply delay are
// reports, in wall time.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "control/asio.hpp"
#include "control/etcd_client.hpp"
#include "control/http_client.hpp"
#include "rollout/state_backend.hpp"

namespace vane::control {

struct ClusterMember {
  std::string name;
  std::string admin;          ///< http://HOST:PORT of its admin API
  std::string config_digest;  ///< config::Config::digest of its file
  int64_t state_revision = 0;  ///< etcd revision of the rollout state its data plane applies
  rollout::WallTime last_seen;  ///< when this replica last saw its key change
};

class Cluster {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  struct Hooks {
    /// The cluster's rollout states were read once: backend() holds them (SPEC §9: ready).
    std::function<void()> ready;
    /// This replica leads (true: after re-reading every state) or no longer does (false).
    std::function<void(bool leading)> leadership;
    /// Following: a state the leader wrote, read back from etcd.
    std::function<void(const std::string& rollout, const rollout::RolloutState& state)> state;
    /// What this replica publishes under measurements/NAME every publishInterval.
    std::function<std::string()> measurements;
    /// What a member published there (this replica's own value included).
    std::function<void(const std::string& member, const std::string& value)> measured;
    /// This replica cannot be part of the cluster (its name is a live member's): stop.
    std::function<void(const std::string& message)> fatal;
    std::function<void(const std::string& message)> info;
    std::function<void(const std::string& message)> warn;
  };

  /// `io` and `http` outlive it.
  Cluster(boost::asio::io_context& io, HttpClient& http, config::Cluster settings,
          std::string config_digest, Hooks hooks);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Starts the membership, the watch and (once the states were read) the campaign.
  /// `admin_url`: this replica's admin API as the others reach it.
  void start(std::string admin_url);
  /// Stops every call; a leader commits what it decided (within dialTimeout), then hands its
  /// lead on at once (its lease is revoked). released() once that is done.
  void stop();
  bool released() const { return released_; }
  /// Called every control tick: a leader whose lease may have lapsed stops deciding.
  void tick(SteadyTime now);

  /// Where the controller keeps rollout progress: loads the states etcd holds (committed); a
  /// save queues a write fenced by the leader key (refused unless this replica leads).
  rollout::StateBackend& backend();
  /// What became of the states a leader saved: all committed; taken back (the lead was lost,
  /// or `deadline` passed and the lead is given up, with no write sent unconfirmed); or unsure
  /// (a write was sent that etcd neither confirmed nor refused: it may still apply).
  enum class Commit { Done, NotApplied, Unsure };
  Task<Commit> flush(SteadyTime deadline);

  bool ready() const { return ready_; }
  bool leading() const { return leading_; }
  /// etcd answered within the last leaseTTL + dialTimeout.
  bool connected() const;
  const std::string& self() const { return settings_.replica_name; }
  /// The leader's name, "" when none is known.
  const std::string& leader() const { return leader_; }
  /// The leader's admin URL, "" when unknown (or when this replica leads: answer locally).
  std::string leader_admin() const;
  /// Live members (lease alive), by name.
  std::vector<ClusterMember> members() const;
  /// The revision of the rollout state this replica's data plane applies.
  int64_t state_revision() const { return applied_revision_; }
  /// A reload: the digest others see.
  void set_digest(std::string digest);
  /// Seconds from the leader's write (its wall clock, in the value) to this replica applying it
  /// (this one's): a report for vane_cluster_apply_delay_seconds, skewed by the clocks' skew.
  struct DelayHistogram {
    static constexpr std::array<double, 10> kBounds{0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25,  0.5,  1,     2.5,  5};
    std::array<uint64_t, kBounds.size()> buckets{};  ///< non-cumulative
    uint64_t count = 0;
    double sum = 0;
    void add(double seconds);
  };
  const DelayHistogram& apply_delay() const { return apply_delay_; }

 private:
  /// The controller's StateBackend in a cluster: loads what etcd held, saves through the
  /// leader's fenced writes.
  class Backend : public rollout::StateBackend {
   public:
    explicit Backend(Cluster& cluster) : cluster_(cluster) {}
    LoadResult load(const std::string& rollout, rollout::WallTime now) override;
    bool save(const std::string& rollout, const rollout::RolloutState& state,
              std::string* error) override;
    std::map<std::string, rollout::RolloutState> states;  ///< as etcd holds them, by rollout

   private:
    Cluster& cluster_;
  };
  struct Write {
    rollout::RolloutState state;
    uint64_t seq = 0;
    rollout::WallTime at;  ///< when the leader decided it (shown to followers as writtenAt)
  };

  // cluster.cpp: lease, membership, election, writes
  Task<void> keep_lease();
  Task<bool> join();
  Task<void> campaign();
  Task<void> resign(int64_t revision);
  Task<void> release();
  Task<void> write_states();
  Task<void> publish_member();
  Task<void> publish_measurements();
  std::string member_value() const;
  std::string state_key(const std::string& rollout) const;
  /// Stops deciding: unwritten states are dropped, the controller told (it goes back to the
  /// committed states).
  void drop_lead();
  /// drop_lead() with a warning, and the leader key given up.
  void step_down(const std::string& why);
  void queue_write(const std::string& rollout, const rollout::RolloutState& state);
  void answered() { last_answer_ = std::chrono::steady_clock::now(); }
  Task<void> sleep(std::chrono::milliseconds d);
  // cluster_view.cpp: what etcd holds, read once and then followed through the watch
  Task<void> follow_changes();
  Task<bool> read_all();
  void apply(const EtcdKv& kv, bool deleted);
  void apply_state(const EtcdKv& kv);
  void apply_member(const std::string& name, const EtcdKv& kv, bool deleted);
  void apply_leader(const EtcdKv& kv, bool deleted);
  std::string key(std::string_view part) const { return settings_.etcd.prefix + "/" + std::string(part); }

  boost::asio::io_context& io_;
  config::Cluster settings_;
  std::string admin_url_;
  std::string digest_;
  Hooks hooks_;
  EtcdClient etcd_;
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<HttpCancel> watch_cancel_ = std::make_shared<HttpCancel>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  int64_t lease_ = 0;
  SteadyTime renewed_at_{};   ///< when the last successful keepalive (or grant) was sent
  SteadyTime last_answer_{};  ///< when etcd last answered anything
  bool joined_ = false;
  bool ready_ = false;
  bool leading_ = false;
  bool campaigning_ = false;
  bool resigning_ = false;
  bool stopped_ = false;
  bool released_ = false;
  int64_t leader_revision_ = 0;  ///< create revision of our leader key while leading
  std::string leader_;
  int64_t leader_lease_ = 0;            ///< the leader key's lease and create revision, as read
  int64_t leader_create_revision_ = 0;
  std::map<std::string, ClusterMember> members_;
  std::map<std::string, int64_t> state_revisions_;  ///< mod revision applied, per state key
  int64_t applied_revision_ = 0;
  DelayHistogram apply_delay_;

  std::map<std::string, Write> pending_;  ///< rollout -> its newest unwritten state
  uint64_t queued_seq_ = 0;
  bool writing_ = false;
  bool in_flight_ = false;  ///< a state write awaits etcd's answer
  bool unsure_ = false;     ///< a state write got no answer since all were last committed
  bool member_dirty_ = false;
  bool member_publishing_ = false;
};

}  // namespace vane::control
