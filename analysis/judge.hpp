// Argo's decision tables for analysis (SPEC §5) as pure functions: a measurement from its
// conditions, a metric from its counts and limits, a run from its metrics; when a metric's next
// measurement falls due and how many measurements are kept. Control thread; no clock is read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/expression.hpp"
#include "config/config.hpp"

namespace vane::analysis {

enum class MeasurementPhase : uint8_t { Successful, Failed, Inconclusive, Error };
enum class MetricPhase : uint8_t { Running, Successful, Failed, Inconclusive, Error };
enum class RunPhase : uint8_t { Pending, Running, Successful, Failed, Error, Inconclusive };

/// The names of RUN JSON (SPEC §6): "Successful", "Failed", "Running", ...
std::string_view to_string(MeasurementPhase phase);
std::string_view to_string(MetricPhase phase);
std::string_view to_string(RunPhase phase);

using WallTime = std::chrono::system_clock::time_point;

/// An Error measurement is retried this long after it finished, whatever the interval (Argo's
/// DefaultErrorRetryInterval).
inline constexpr std::chrono::seconds kErrorRetry{10};
/// Measurements kept per metric unless `measurementRetention` says otherwise.
inline constexpr uint32_t kDefaultMeasurementRetention = 10;

// ---- one measurement ------------------------------------------------------------------------

/// Only successCondition: true → Successful, false → Failed. Only failureCondition: true →
/// Failed, false → Successful. Both: failure true → Failed, else success true → Successful,
/// else Inconclusive. None: Successful. (Provider and evaluation errors are Error: the caller's.)
MeasurementPhase judge_measurement(bool has_success, bool success_true, bool has_failure,
                                   bool failure_true);

struct MeasurementVerdict {
  MeasurementPhase phase = MeasurementPhase::Successful;
  /// Names the value and the condition: `result 0.71 did not meet "result >= 0.99"`.
  std::string message;
};

/// Evaluates the metric's conditions (null: absent, the text already substituted) on a
/// provider's value. A condition that cannot be evaluated makes an Error measurement.
MeasurementVerdict judge_value(const Expression* success, const Expression* failure,
                               const Value& result, const Value& baseline);

// ---- one metric -----------------------------------------------------------------------------

/// A metric's measurements so far in the run (every one, not only the kept ones).
struct MetricCounts {
  uint32_t successful = 0;
  uint32_t failed = 0;
  uint32_t inconclusive = 0;
  uint32_t error = 0;
  uint32_t consecutive_error = 0;       ///< Errors since the last non-Error
  uint32_t consecutive_successful = 0;  ///< Successful since the last other phase (Error too)

  /// What `count` counts: Successful, Failed and Inconclusive; not Error.
  uint32_t counted() const { return successful + failed + inconclusive; }
  uint32_t total() const { return counted() + error; }
  void add(MeasurementPhase phase);

  friend bool operator==(const MetricCounts&, const MetricCounts&) = default;
};

/// How many counted measurements the metric takes: `count`; unset, one without an interval;
/// unset with an interval, none (unbounded: until terminated) for a background analysis and one
/// otherwise (config validation refuses that case; one measurement is safer than a hang).
std::optional<uint32_t> effective_count(const config::Metric& spec, bool background);

struct MetricVerdict {
  MetricPhase phase = MetricPhase::Running;
  /// Why, when decided: "failed 2 > failureLimit 1", "count 6 reached", "terminated", ...
  std::string reason;
};

/// The metric's phase from its counts (SPEC §5): Error when consecutive errors exceed
/// consecutiveErrorLimit, else Inconclusive when inconclusive exceeds inconclusiveLimit, else
/// Failed when failed exceeds failureLimit (-1: never); else Successful once
/// consecutiveSuccessLimit N > 0 Successful measurements came in a row; else, once `count` is
/// reached: Successful without consecutiveSuccessLimit, with it Inconclusive (Failed when
/// failureLimit is -1); else Running. `terminating` (the run is being stopped): Running becomes
/// Successful, a broken limit still decides.
MetricVerdict assess_metric(const MetricCounts& counts, const config::Metric& spec, bool background,
                            bool terminating = false);

/// assess_metric(...).phase.
MetricPhase judge_metric(const MetricCounts& counts, const config::Metric& spec, bool background);

/// `metric "NAME" PHASE: DETAIL (REASON)`, where DETAIL is the deciding measurement's message;
/// either part may be empty.
std::string metric_message(std::string_view metric, const MetricVerdict& verdict,
                           std::string_view detail);

/// Which measurement explains a metric's phase: the newest whose phase matches it, else the
/// newest. `measurements` is oldest first; each has `.phase` (MeasurementPhase) and `.message`.
template <class Measurements>
std::string_view deciding_detail(const Measurements& measurements, MetricPhase phase) {
  const auto matches = [&](MeasurementPhase m) {
    return (phase == MetricPhase::Successful && m == MeasurementPhase::Successful) ||
           (phase == MetricPhase::Failed && m == MeasurementPhase::Failed) ||
           (phase == MetricPhase::Inconclusive && m == MeasurementPhase::Inconclusive) ||
           (phase == MetricPhase::Error && m == MeasurementPhase::Error);
  };
  for (auto it = measurements.rbegin(); it != measurements.rend(); ++it) {
    if (matches(it->phase)) return it->message;
  }
  return measurements.empty() ? std::string_view() : std::string_view(measurements.back().message);
}

// ---- one run --------------------------------------------------------------------------------

struct MetricResult {
  std::string name;
  MetricPhase phase = MetricPhase::Running;
  bool dry_run = false;
  MetricCounts counts;
  std::string message;  ///< metric_message() once decided
};

struct RunVerdict {
  RunPhase phase = RunPhase::Pending;
  /// The non-dry-run metric whose phase the run took (unset while Running or when Successful).
  std::optional<size_t> decided_by;
  /// That metric's message; for a Successful run, the dry-run metrics that did not succeed.
  std::string message;

  bool finished() const { return phase != RunPhase::Pending && phase != RunPhase::Running; }
};

/// The run from its metrics: as soon as a non-dry-run metric is Failed, Error or Inconclusive the
/// run is finished with the worst of them (Failed > Error > Inconclusive; the first in order on a
/// tie) and the caller stops measuring (terminate_run). Otherwise Running until every metric,
/// dry-run ones included, is decided, then Successful. Pending while no metric has measured.
RunVerdict judge_run(std::span<const MetricResult> metrics);

/// Stops a run: every Running metric ends Successful ("terminated"), then judge_run. Phases
/// must be current (assess_metric after the last measurement), so a broken limit has already
/// decided its metric. The caller marks the run `terminated: true` when the rollout stopped it.
RunVerdict terminate_run(std::vector<MetricResult>& metrics);

// ---- scheduling and retention ---------------------------------------------------------------

struct LastMeasurement {
  MeasurementPhase phase = MeasurementPhase::Successful;
  WallTime finished_at;
};

/// When the metric's next measurement falls due: unset once it is decided; the first at
/// run start + initialDelay; after an Error, kErrorRetry after it; else `interval` after the last
/// one finished (at once without an interval).
std::optional<WallTime> next_measurement_due(const config::Metric& spec, MetricPhase phase,
                                             WallTime run_started,
                                             const std::optional<LastMeasurement>& last);

/// The template's measurementRetention limit for `metric`, else kDefaultMeasurementRetention.
uint32_t measurement_retention(const config::AnalysisTemplate& t, std::string_view metric);

/// Whether the template lists `metric` under dryRun.
bool is_dry_run(const config::AnalysisTemplate& t, std::string_view metric);

/// Drops the oldest measurements beyond `limit` (a vector or deque, oldest first).
template <class Measurements>
void retain_newest(Measurements& measurements, size_t limit) {
  if (measurements.size() <= limit) return;
  const auto drop = static_cast<std::ptrdiff_t>(measurements.size() - limit);
  measurements.erase(measurements.begin(), measurements.begin() + drop);
}

}  // namespace vane::analysis
