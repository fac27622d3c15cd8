// One analysis run as data (SPEC §5, §6): its metrics with their specs (args substituted), parsed
// conditions, counts and kept measurements; how a run is prepared from an analysis spec, when its
// measurements fall due, how one is recorded and the run judged (analysis/judge.hpp's tables).
// No I/O, no clock read (time is given), no rollout type: control's AnalysisRunner drives it on
// the control thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "analysis/expression.hpp"
#include "analysis/judge.hpp"
#include "config/config.hpp"

namespace vane::analysis {

struct Measurement {
  MeasurementPhase phase = MeasurementPhase::Successful;
  std::string value;  ///< the result as text ("0.97", "[0.97]", "NaN"); "" for a provider error
  WallTime started_at;
  WallTime finished_at;
  std::string message;
};

struct RunMetric {
  config::Metric spec;  ///< as in its template, {{args.NAME}} substituted
  std::optional<Expression> success;
  std::optional<Expression> failure;
  MetricResult result;  ///< name, phase, dryRun, counts, message
  uint32_t retention = kDefaultMeasurementRetention;
  std::deque<Measurement> measurements;  ///< the kept ones, oldest first
  std::optional<LastMeasurement> last;

  bool running() const { return result.phase == MetricPhase::Running; }
};

struct AnalysisRun {
  /// Given by the caller, unique within its rollout; never interpreted here (the caller builds it
  /// from what the run is for: "shop-1-step2-3").
  std::string name;
  bool background = false;   ///< metrics with an interval and no count run until terminated
  std::string measured;      ///< the upstream measured (builtin target canary or mirror)
  std::string stable;        ///< the stable upstream (target stable, and `baseline`)
  RunPhase phase = RunPhase::Pending;
  std::string message;
  bool terminated = false;  ///< stopped by the rollout rather than by its own counts
  WallTime started_at;
  std::optional<WallTime> finished_at;
  std::vector<RunMetric> metrics;  ///< the templates' metrics, in the order listed

  bool finished() const { return finished_at.has_value(); }
};

/// Builds the run of `spec` on `config`: every metric of every listed template, each template's
/// args resolved (the spec's args override the template's defaults), placeholders substituted in
/// conditions, prometheus address/query/headers, web url/headers/body/jsonPath and exec
/// command/jsonPath, conditions parsed. Any problem (an unknown template, a missing required
/// arg, a bad condition) returns the run already finished as Error with the reason in `message`.
AnalysisRun prepare_run(const config::Config& config, const config::AnalysisSpec& spec,
                        bool background, WallTime now);

/// The earliest time a Running metric's next measurement falls due; unset when none runs.
std::optional<WallTime> next_due(const AnalysisRun& run);
/// The Running metrics due at `now` (indices into run.metrics).
std::vector<size_t> due_metrics(const AnalysisRun& run, WallTime now);

/// What a provider gave for one measurement.
struct Sample {
  Value value;
  Value baseline;
  std::string error;         ///< an Error measurement
  std::string inconclusive;  ///< an Inconclusive measurement (fewer than minRequests)
  std::string failed;        ///< a Failed measurement, not judged (an exec program's exit code)
  std::string successful;    ///< a Successful one, not judged (a web answer that is not JSON)

  /// An Error measurement with `message` (named: a new field does not shift every caller's list).
  static Sample of_error(std::string message) {
    Sample sample;
    sample.error = std::move(message);
    return sample;
  }
};

/// The measurement `sample` makes for `metric` (its times left to the caller): Error with the
/// provider's error, Failed or Inconclusive with the reason, else judged by the metric's
/// conditions.
Measurement judge_sample(const RunMetric& metric, const Sample& sample);

/// Records a measurement of `metric`: counts, retention, the metric's phase and message.
void record(RunMetric& metric, Measurement measurement, bool background);

/// Judges the run after measurements (Argo's reconcile): sets its phase; once it is decided,
/// stops its unfinished metrics (terminate_run) and sets message and finished_at. Returns whether
/// the run finished.
bool judge(AnalysisRun& run, WallTime now);

/// Stops a running run for the rollout (promote, abort, completion, new desired): unfinished
/// metrics end Successful unless a limit was broken; `terminated: true`.
void terminate_by_rollout(AnalysisRun& run, WallTime now);

}  // namespace vane::analysis
