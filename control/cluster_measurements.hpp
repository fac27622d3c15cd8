// The measurements a cluster shares (SPEC §9). Every replica publishes, every publishInterval, the
// per-second outcomes of its rollout series (requests by class, failures, latency sum and
// histogram) for its last complete seconds; every replica merges what each member published
// (itself included) into one outcome shard per member, each second once. The builtin provider
// and measuredWeights then read the cluster's traffic, each request once, the way they read the
// workers' shards on a single node. Nothing here runs on the request path: publishing reads the
// workers' shards the way /metrics does. Control thread only.
//
// Seconds travel by age: a member's second S arrives with the member's current second N and is
// merged at this replica's current second minus (N - S). No two replicas' clocks are compared.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/outcome_shard.hpp"
#include "config/config.hpp"
#include "proxy/stats_layout.hpp"

namespace vane::control {

class ClusterMeasurements {
 public:
  /// Seconds younger than this may still be filling (workers flush their outcomes on their tick).
  static constexpr int64_t kSettleSeconds = 2;

  /// `publish_interval`: how often publish() is called; each value repeats the seconds of the
  /// one before, so one lost publish loses nothing.
  explicit ClusterMeasurements(std::chrono::milliseconds publish_interval);

  /// The series of a (new) config. What was merged under other series ids is dropped.
  void set_layout(std::shared_ptr<const config::Config> config,
                  std::shared_ptr<const proxy::StatsLayout> layout);

  /// The value to publish at `now_seconds` (the workers' steady clock, in seconds) from the
  /// workers' shards `local`.
  std::string publish(std::span<const analysis::OutcomeShard* const> local, int64_t now_seconds);

  /// What `member` published, read at this replica's `now_seconds`. False with `*error` when the
  /// value is not one (it is then ignored).
  bool receive(const std::string& member, std::string_view value, int64_t now_seconds,
               std::string* error);

  /// One shard per member heard from within the last kMaxWindowSeconds.
  std::vector<const analysis::OutcomeShard*> shards(int64_t now_seconds);

 private:
  struct Member {
    std::unique_ptr<analysis::OutcomeShard> shard;
    std::vector<int64_t> last_remote;  ///< per series: the member's newest second merged
    std::vector<int64_t> last_local;   ///< per series: where it was merged (non-decreasing)
    int64_t heard = 0;                 ///< this replica's second of the last value
  };
  struct SeriesName {
    std::string rollout;
    std::string upstream;
    analysis::Target target;
    uint32_t id;
  };

  int64_t span_seconds_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const proxy::StatsLayout> layout_;
  std::vector<SeriesName> series_;  ///< the windowed rollout series, by name
  std::map<std::string, Member> members_;
};

}  // namespace vane::control
