// STATUS and list answers of the admin API (SPEC §6) as JSON, from a rollout's spec, state and
// traffic, and the RUN objects of its analysis runs. Pure; control thread.
#pragma once

#include <optional>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "analysis/analysis_run.hpp"
#include "config/config.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/traffic_plan.hpp"

namespace vane::control {

/// Shares (percent) of the last minute's requests that each side answered.
struct MeasuredWeights {
  double stable = 0;
  double canary = 0;
};

struct StatusInput {
  const config::Rollout& spec;
  const rollout::RolloutState& state;
  const rollout::TrafficPlan& plan;
  std::optional<MeasuredWeights> measured;
  boost::json::array analysis_runs;  ///< RUN objects of the current attempt, newest first
  boost::json::array experiment_runs;  ///< those of the running experiment (SPEC §14)
  rollout::WallTime now{};  ///< whether an experiment's duration has passed
};

/// Takes the runs' arrays (moved into the answer, not copied).
boost::json::object status_json(StatusInput input);

/// The RUN object of SPEC §6: the run, its metrics and their kept measurements.
boost::json::object run_json(const analysis::AnalysisRun& run);

/// A canary step as its config object: {"setWeight":20}, {"pause":{"duration":"1m"}}, {"pause":{}},
/// {"analysis":{"templates":[{"templateName":"x"}]}}, {"setHeaderRoute":{"name","match"}}, …
boost::json::object step_json(const config::Step& step);

/// "setWeight: 50", "pause: 1m", "pause: (until promoted)", "analysis: success-rate", …
std::string describe_step(const config::Step& step);

/// RFC 3339 UTC with milliseconds: "2026-11-26T06:30:00.000Z".
std::string rfc3339(rollout::WallTime time);

}  // namespace vane::control
