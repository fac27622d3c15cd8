// Drives every rollout of a config on the control thread: feeds the state machine its events
// (ticks, commands, config changes, analysis results), persists every change, and publishes a new
// RoutingTable whenever the traffic a rollout calls for changes. In a cluster (SPEC §9) only the
// leader's controller decides (Role::Lead); a follower's adopts the states the leader wrote
// (follow()) and only derives its routing from them. Control thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "rollout/routing_table.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"
#include "rollout/state_backend.hpp"
#include "rollout/traffic_plan.hpp"

namespace vane::rollout {

class Controller {
 public:
  struct Hooks {
    /// Hands a new table to the data plane.
    std::function<void(std::shared_ptr<const RoutingTable>)> publish;
    /// True when an upstream (index into Config::upstreams) has an endpoint fit for traffic.
    std::function<bool(uint32_t upstream)> healthy;
    /// Starts or stops analysis runs; `state` is the rollout's state after the transition.
    /// Unset: analysis steps wait for `promote`.
    std::function<void(uint32_t rollout, const Effect& effect, const RolloutState& state)> analysis;
    /// What a transition fired (SPEC §11), with the rollout's state right after it.
    std::function<void(std::string_view rollout, const Fired& fired, const RolloutState& state)>
        fired;
    /// Reports what an operator should know (state files set aside, …).
    std::function<void(std::string_view message)> warn;
  };

  /// What a command did: unknown rollout, refused in this phase (409), or done.
  enum class Outcome : uint8_t { Done, NotFound, Conflict };
  /// Lead: decides, persists and starts analyses. Follow: adopts what another process decided.
  enum class Role : uint8_t { Lead, Follow };

  /// Loads each rollout's persisted state (or, leading, starts it as on a first start) and
  /// publishes. `backend` must outlive the controller.
  Controller(std::shared_ptr<const config::Config> config, StateBackend& backend, Hooks hooks,
             WallTime now, Role role = Role::Lead);

  /// A reloaded config: rollouts keep their progress; a changed desired upstream restarts the
  /// canary (SPEC §4); new rollouts start; removed ones are dropped (following: states are kept
  /// as they were, the leader's file decides). Does not call `publish`: the caller hands table()
  /// to the data plane together with the new config.
  void reconfigure(std::shared_ptr<const config::Config> config, WallTime now);

  /// Following: the state the leader decided for `rollout` (unknown names are ignored). Routes
  /// with it, naming upstreams this file lacks: such a side falls back to the rollout's desired
  /// upstream (stable) or to none (canary). Neither persists nor starts anything.
  void follow(std::string_view rollout, const RolloutState& state);
  /// Takes the lead with the states as they stand (a follower's were the last leader's): persists
  /// each, resumes each as after a restart (a running analysis starts afresh) and reconciles this
  /// file's desired upstreams.
  void lead(WallTime now);
  /// Stops deciding (the caller stops the analysis runs).
  void step_down() { role_ = Role::Follow; }
  Role role() const { return role_; }

  /// Time passed: pause expiry, progress deadlines, health changes.
  void tick(WallTime now);

  /// promote, promote --full, abort, retry, pause.
  Outcome command(std::string_view rollout, Event::Kind kind, WallTime now,
                  std::string_view message = {});

  /// An analysis run of `rollout` ended (`run`: an Experiment run's index in its analyses).
  void analysis_done(uint32_t rollout, AnalysisKind kind, Event::AnalysisPhase phase,
                     std::string message, WallTime now, uint32_t run = 0);

  /// The gate step `step` of `rollout` answered (a stale answer changes nothing).
  void gate_answered(std::string_view rollout, uint32_t step, Event::GateVerdict verdict,
                     std::string message, WallTime now);

  const config::Config& config() const { return *config_; }
  std::optional<uint32_t> find(std::string_view rollout) const;
  const RolloutState& state(uint32_t rollout) const { return rollouts_[rollout].state; }
  /// The traffic in force now.
  const TrafficPlan& plan(uint32_t rollout) const { return rollouts_[rollout].plan; }
  std::shared_ptr<const RoutingTable> table() const { return table_; }


 private:
  struct Entry {
    RolloutState state;
    TrafficPlan plan;
  };

  void resume(uint32_t index, WallTime now);
  void apply(uint32_t index, const Event& event, WallTime now);
  void adopt(uint32_t index, Transition&& transition);
  void publish(bool notify = true);
  bool canary_healthy(const RolloutState& state) const;
  int32_t upstream_index(std::string_view name) const;
  /// Hashes config_'s upstream and rollout names: every tick asks for each rollout's upstreams.
  void index_config();

  std::shared_ptr<const config::Config> config_;
  std::unordered_map<std::string_view, int32_t> upstream_indices_;  ///< names in config_
  std::unordered_map<std::string_view, uint32_t> rollout_indices_;  ///< names in config_
  StateBackend& store_;
  Hooks hooks_;
  Role role_;
  std::vector<Entry> rollouts_;  ///< parallel to config_->rollouts
  std::vector<RolloutRouting> published_;
  std::shared_ptr<const RouteIndex> routes_;  ///< of config_; shared by each table_ built from it
  std::shared_ptr<const RoutingTable> table_;
};

}  // namespace vane::rollout
