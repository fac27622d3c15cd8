// Where a rollout's progress is kept: the state dir on a single node (StateStore), etcd in a
// cluster (control/cluster_state). The controller reads it once per rollout at start and writes
// every change. Control thread only.
#pragma once

#include <optional>
#include <string>

#include "rollout/rollout_state.hpp"

namespace vane::rollout {

class StateBackend {
 public:
  struct LoadResult {
    std::optional<RolloutState> state;  ///< nullopt: start as on a first start
    std::string warning;  ///< non-empty when the stored state was missing, corrupt or set aside
  };

  virtual ~StateBackend() = default;
  virtual LoadResult load(const std::string& rollout, WallTime now) = 0;
  /// False with `*error` (when not null) when the change could not be kept. Never throws.
  virtual bool save(const std::string& rollout, const RolloutState& state, std::string* error) = 0;
};

}  // namespace vane::rollout
