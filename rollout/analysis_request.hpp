// What a rollout asks of analysis when it starts a run: the analysis spec its kind (and step)
// refers to, and a label saying what the run is for, which analysis only carries into the run's
// name. Pure; control thread.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::rollout {

struct AnalysisRequest {
  /// A Step's `analysis` (when that step is one), the canary's background `analysis`,
  /// blue-green's pre/post promotion analysis; null when the rollout has none of that kind.
  const config::AnalysisSpec* spec = nullptr;
  /// "step2", "background", "prepromotion", "postpromotion", "EXPERIMENT-ANALYSIS": opaque
  /// outside rollout/.
  std::string label;
  /// A background run: its metrics with an interval and no count run until terminated.
  bool background = false;
};

/// The run a StartAnalysis of `kind` (for a Step: of step `step`; for an Experiment: its
/// analysis `run` of step `step`) asks for; `spec` points into `rollout`.
AnalysisRequest analysis_request(const config::Rollout& rollout, AnalysisKind kind,
                                 uint32_t step, uint32_t run = 0);

}  // namespace vane::rollout
