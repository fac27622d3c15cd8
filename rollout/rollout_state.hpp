// A rollout's progress (SPEC §4): what is persisted in the state dir and what the state machine
// reads and writes. Plain values; owned by the control thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

namespace vane::rollout {

/// Wall-clock time: persisted, shown as RFC 3339, and compared with `now` handed in by callers.
using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

enum class Phase : uint8_t { Healthy, Progressing, Paused, Degraded };

/// Why a rollout is Paused (none when it is not).
enum class PauseReason : uint8_t {
  None,
  Step,          ///< a pause step; timed when pause_until is set, else waits for promote
  Manual,        ///< `vane pause`
  Inconclusive,  ///< an analysis ended Inconclusive: waits for promote or abort
  BlueGreen,     ///< blue-green waiting for promotion (issue #6)
  GateStep,      ///< a gate step past its timeoutSeconds: still polled; a 2xx or promote opens it
};

/// Where a blue-green rollout in progress stands (SPEC §4); None for canary rollouts and when no
/// rollout is in progress (or after an abort).
enum class Gate : uint8_t {
  None,
  Preview,        ///< the preview waits for a healthy endpoint, then for its prePromotionAnalysis
  Promotion,      ///< waits for autoPromotionSeconds or `promote`, then for a healthy preview
  PostPromotion,  ///< switched: `stable` is the new version (also `canary`), `previous_stable`
                  ///< the old one to switch back to; postPromotionAnalysis runs
};

/// What an analysis run belongs to.
enum class AnalysisKind : uint8_t { Step, Background, PrePromotion, PostPromotion, Experiment };

/// Where the run of the current analysis step, or the background run, stands in this attempt.
enum class AnalysisStatus : uint8_t {
  None,          ///< not started (or nothing to run)
  Running,       ///< started; its result is awaited (a restart starts a fresh run)
  Successful,    ///< ended Successful (a step run: while the rollout was paused)
  Inconclusive,  ///< ended Inconclusive: the rollout is Paused until promote or abort
};

/// The persisted progress of one rollout. Everything else (weights, header and mirror routes)
/// is derived from this and the rollout's steps.
struct RolloutState {
  std::string stable;    ///< upstream name serving the stable traffic ("" before a first start)
  std::string canary;    ///< upstream being rolled out; "" when none (stable = desired)
  uint32_t step_index = 0;  ///< the step being executed; steps before it are done
  Phase phase = Phase::Healthy;
  std::string message;
  bool aborted = false;
  std::string abort_reason;
  PauseReason pause_reason = PauseReason::None;
  std::optional<WallTime> paused_since;
  std::optional<WallTime> pause_until;     ///< a timed pause step's deadline (kept across restarts)
  std::optional<WallTime> waiting_since;   ///< a setWeight step waiting for a healthy canary
  std::optional<WallTime> gate_step_deadline;  ///< the current gate step's timeoutSeconds end
                                               ///< (kept across restarts)
  std::optional<WallTime> experiment_deadline;  ///< the current experiment step's duration end
                                               ///< (kept across restarts)
  /// The runs of the current experiment step's analyses, in its order (empty when not at one).
  std::vector<AnalysisStatus> experiment_runs;
  bool deadline_exceeded = false;          ///< progressDeadlineSeconds passed while waiting
  std::optional<WallTime> scale_down_at;   ///< the previous stable stays warm until then
  std::string previous_stable;             ///< that previous stable ("" when none)
  AnalysisStatus step_analysis = AnalysisStatus::None;        ///< run of the analysis step at
                                                              ///< step_index (None otherwise);
                                                              ///< blue-green: the run of `gate`
  AnalysisStatus background_analysis = AnalysisStatus::None;  ///< background run, this attempt
  Gate gate = Gate::None;                                     ///< blue-green only

  friend bool operator==(const RolloutState&, const RolloutState&) = default;
};

std::string_view to_string(Phase phase);
std::optional<Phase> phase_from_string(std::string_view text);
std::string_view to_string(PauseReason reason);
std::optional<PauseReason> pause_reason_from_string(std::string_view text);
std::string_view to_string(AnalysisStatus status);
std::string_view to_string(Gate gate);
std::optional<Gate> gate_from_string(std::string_view text);
std::optional<AnalysisStatus> analysis_status_from_string(std::string_view text);

/// RFC 3339 UTC with milliseconds, "2024-05-01T12:00:30.250Z" (sub-millisecond parts dropped,
/// rounding toward the past).
std::string format_time(WallTime time);

/// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" ('T'/'Z' in either case); nullopt
/// when malformed or out of range. Digits past milliseconds are dropped.
std::optional<WallTime> parse_time(std::string_view text);

}  // namespace vane::rollout
