// One analysis run as data (SPEC §5, §6): its metrics with their specs (args substituted), parsed
// conditions, counts and kept measurements; how a run is prepared from a rollout's analysis spec,
// how a measurement is recorded and the run judged (analysis/judge.hpp's tables), and its RUN
// JSON. No I/O, no clock: the AnalysisRunner drives it on the control thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "analysis/expression.hpp"
#include "analysis/judge.hpp"
#include "config/config.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::control {

struct Measurement {
  analysis::MeasurementPhase phase = analysis::MeasurementPhase::Successful;
  std::string value;  ///< the result as text ("0.97", "[0.97]", "NaN"); "" for a provider error
  analysis::WallTime started_at;
  analysis::WallTime finished_at;
  std::string message;
};

struct RunMetric {
  config::Metric spec;  ///< as in its template, {{args.NAME}} substituted
  std::optional<analysis::Expression> success;
  std::optional<analysis::Expression> failure;
  analysis::MetricResult result;  ///< name, phase, dryRun, counts, message
  uint32_t retention = analysis::kDefaultMeasurementRetention;
  std::deque<Measurement> measurements;  ///< the kept ones, oldest first
  std::optional<analysis::LastMeasurement> last;

  bool running() const { return result.phase == analysis::MetricPhase::Running; }
};

struct AnalysisRun {
  std::string name;  ///< unique within the rollout
  rollout::AnalysisKind kind = rollout::AnalysisKind::Step;
  uint32_t step_index = 0;   ///< a Step run: its step
  bool background = false;   ///< metrics with an interval and no count run until terminated
  std::string measured;      ///< the upstream measured (builtin target canary or mirror)
  std::string stable;        ///< the stable upstream (target stable, and `baseline`)
  analysis::RunPhase phase = analysis::RunPhase::Pending;
  std::string message;
  bool terminated = false;  ///< stopped by the rollout rather than by its own counts
  analysis::WallTime started_at;
  std::optional<analysis::WallTime> finished_at;
  std::vector<RunMetric> metrics;  ///< the templates' metrics, in the order listed

  bool finished() const { return finished_at.has_value(); }
};

/// The analysis an effect refers to: a Step's `analysis` (when that step is one), the canary's
/// background `analysis`, blue-green's pre/post promotion analysis; null when there is none.
const config::AnalysisSpec* analysis_spec(const config::Rollout& rollout,
                                          rollout::AnalysisKind kind, uint32_t step);
/// "step2", "background", "prepromotion", "postpromotion": the kind part of a run's name.
std::string kind_label(rollout::AnalysisKind kind, uint32_t step);

/// Builds the run of `spec` on `config`: every metric of every listed template, each template's
/// args resolved (the spec's args override the template's defaults), placeholders substituted in
/// conditions, prometheus address/query/headers and web url/headers/body/jsonPath, conditions
/// parsed. Any problem (an unknown template, a missing required arg, a bad condition) returns
/// the run already finished as Error with the reason in `message`.
AnalysisRun prepare_run(const config::Config& config, const config::AnalysisSpec& spec,
                        bool background, analysis::WallTime now);

/// The earliest time a Running metric's next measurement falls due; unset when none runs.
std::optional<analysis::WallTime> next_due(const AnalysisRun& run);
/// The Running metrics due at `now` (indices into run.metrics).
std::vector<size_t> due_metrics(const AnalysisRun& run, analysis::WallTime now);

/// Records a measurement of `metric`: counts, retention, the metric's phase and message.
void record(RunMetric& metric, Measurement measurement, bool background);

/// Judges the run after measurements (Argo's reconcile): sets its phase; once it is decided,
/// stops its unfinished metrics (terminate_run) and sets message and finished_at. Returns whether
/// the run finished.
bool judge(AnalysisRun& run, analysis::WallTime now);

/// Stops a running run for the rollout (promote, abort, completion, new desired): unfinished
/// metrics end Successful unless a limit was broken; `terminated: true`.
void terminate_by_rollout(AnalysisRun& run, analysis::WallTime now);

/// The RUN object of SPEC §6.
boost::json::object to_json(const AnalysisRun& run);

}  // namespace vane::control
