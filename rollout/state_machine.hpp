// The rollout state machine of SPEC §4 (canary and blue-green, one table each) as one pure
// function of (spec, state, event, now): no clock, no I/O, no threads, so every transition is a
// table row in a unit test. The control thread's Controller feeds it events and carries out the
// effects it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/trigger.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::rollout {

/// Facts about the world the machine needs but does not own.
struct Environment {
  bool canary_healthy = true;  ///< the canary (blue-green: preview) upstream has an endpoint fit
                               ///< for traffic (at least one that passed a probe, if probed)
};

struct Event {
  /// In the order of a transition table's columns; kEventKindCount below counts them.
  enum class Kind : uint8_t {
    Tick,             ///< time passed (pause expiry, progress deadline, scale-down)
    DesiredChanged,   ///< the config names a (possibly new) desired upstream: `upstream`
    Promote,          ///< `vane promote`
    PromoteFull,      ///< `vane promote --full`
    Abort,            ///< `vane abort` (reason: `message`)
    Retry,            ///< `vane retry`
    Pause,            ///< `vane pause`
    AnalysisDone,     ///< a run of `analysis` kind ended with `analysis_phase`
    GateAnswered,     ///< the gate step `step_index`'s URL answered `gate_verdict`
  };
  enum class AnalysisPhase : uint8_t { Successful, Failed, Error, Inconclusive };
  /// A gate's answer (SPEC §14): 2xx opens it, 403 rejects it (reason: `message`).
  enum class GateVerdict : uint8_t { Open, Reject };

  Kind kind = Kind::Tick;
  std::string upstream;  ///< DesiredChanged
  std::string message;   ///< Abort reason; AnalysisDone: the run's message; a gate's Reject body
  AnalysisKind analysis = AnalysisKind::Step;
  AnalysisPhase analysis_phase = AnalysisPhase::Successful;
  GateVerdict gate_verdict = GateVerdict::Open;
  /// AnalysisDone of a Step run: the step it ran for (Effect::step_index of its StartAnalysis);
  /// GateAnswered: the gate step polled. When set, a result for another step than the current
  /// one is stale and ignored.
  std::optional<uint32_t> step_index;
  uint32_t run = 0;  ///< AnalysisDone of an Experiment run: its index in the step's analyses
};

/// "Successful", "Failed", "Error", "Inconclusive".
std::string_view to_string(Event::AnalysisPhase phase);

/// How many Event::Kind values there are: the columns of a transition table.
inline constexpr std::size_t kEventKindCount = 9;
static_assert(static_cast<std::size_t>(Event::Kind::GateAnswered) + 1 == kEventKindCount,
              "kEventKindCount counts Event::Kind up to its last enumerator");

/// What the driver must do after a transition.
struct Effect {
  enum class Kind : uint8_t {
    StartAnalysis,      ///< start a run of `analysis` kind (for a Step: of step `step_index`)
    TerminateAnalysis,  ///< stop the running run(s) of `analysis` kind (all kinds when `all`)
  };
  Kind kind = Kind::StartAnalysis;
  AnalysisKind analysis = AnalysisKind::Step;
  uint32_t step_index = 0;
  bool all = false;
  uint32_t run = 0;  ///< StartAnalysis of an Experiment: the index in the step's analyses

  friend bool operator==(const Effect&, const Effect&) = default;
};

/// Whether a command is allowed in the state (SPEC §6: 409 when not).
enum class Verdict : uint8_t { Ok, Conflict };

/// A trigger a transition fired, with what an operator reads about it (SPEC §11).
struct Fired {
  config::Trigger trigger;
  std::string message;

  friend bool operator==(const Fired&, const Fired&) = default;
};

struct Transition {
  RolloutState state;
  std::vector<Effect> effects;
  Verdict verdict = Verdict::Ok;  ///< Conflict: a command not valid now; `state` is unchanged
  std::vector<Fired> fired;       ///< what happened, in order: the rollout's events
};

/// Applies `event` to `state` for the rollout `spec` (canary or blue-green) at wall time `now`;
/// says what happened in `fired` (the one place rollout events come from).
Transition transition(const config::Rollout& spec, const RolloutState& state, const Event& event,
                      WallTime now, const Environment& env);

/// The runs a state restored after a restart or reload needs (SPEC §4: "a running analysis starts
/// a fresh run"): StartAnalysis for the background run and for the current analysis step when
/// they were Running. Nothing for an aborted or finished rollout.
std::vector<Effect> resume_effects(const config::Rollout& spec, const RolloutState& state);

/// The gate step a rollout waits on, to be polled now (SPEC §14): the current step of a canary
/// in progress while it waits (Progressing) or is Paused past the gate's timeout; nullopt
/// otherwise (no gate step, aborted, paused by hand or by an Inconclusive run).
std::optional<uint32_t> polled_gate(const config::Rollout& spec, const RolloutState& state);

/// The experiment step a rollout runs now (SPEC §14): the current step of a canary in progress
/// (not aborted) when it is an experiment; null otherwise. Its templates take their weights.
const config::ExperimentStep* running_experiment(const config::Rollout& spec,
                                                 const RolloutState& state);

/// "Running", "Successful" (every analysis, and the duration has passed) or "Inconclusive"
/// (an analysis ended so: the rollout is Paused); a Failed or Error one aborts the rollout.
std::string_view experiment_phase(const RolloutState& state, WallTime now);

/// A state kept or persisted under the other strategy (the config switched a rollout in progress
/// between canary and blueGreen): the rollout restarts from its last stable version, and the
/// next DesiredChanged starts the attempt afresh. Any other state comes back as it is.
RolloutState adapt_strategy(const config::Rollout& spec, const RolloutState& state);

/// The state of a rollout seen for the first time (no persisted state): its desired upstream
/// becomes stable at once (SPEC §1).
RolloutState initial_state(const config::Rollout& spec);

}  // namespace vane::rollout
