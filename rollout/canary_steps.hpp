// The actions the canary state machine's table rows are built from: entering and finishing steps,
// pausing, completing, aborting (the blue-green table reuses the small ones: pauses, waits, runs).
// Private to rollout/; control thread, pure.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"
#include "rollout/transition_context.hpp"

namespace vane::rollout::canary {

uint32_t step_count(const Context& c);
/// The step at step_index; nullptr past the last step.
const config::Step* current_step(const Context& c);
bool at_step_of_kind(const Context& c, config::Step::Kind kind);

/// "setWeight 12.5", "pause 1m", "pause", "analysis", "setHeaderRoute beta", "gate board".
std::string describe_step(const config::Step& step);
/// "step 2 (pause 1m)".
std::string describe_current(const Context& c);

void clear_pause(RolloutState& s);
void clear_wait(RolloutState& s);

/// Marks the current step done (its wait, pause and step run cleared) and moves to the next.
void finish_step(Context& c);

/// Enters the step at step_index and keeps going while steps complete at once; completes the
/// rollout after the last step. Every way out sets phase and message.
void run_steps(Context& c);

/// A new attempt (new canary or retry): steps from 0, no run of this attempt started yet.
void start_attempt(Context& c);

/// Leaves a pause without moving past the current step: a step run still Running goes on
/// (Progressing), anything else is entered again.
void resume(Context& c);

/// "WHAT PHASE[: message]" for the analysis run the event reports.
std::string run_reason(const Context& c, const std::string& what);

/// A `pause` command on a rollout in progress: Paused at `where` until promote (no progress
/// deadline meanwhile).
void pause_by_user(Context& c, const std::string& where);

/// Holds the rollout Paused after an Inconclusive run, until promote or abort.
void hold_inconclusive(Context& c, const std::string& what);

/// The canary becomes stable (SPEC §4 "After the last step").
void complete(Context& c);

/// aborted, Degraded, step 0, every run terminated (SPEC §4 "Abort").
void abort_with(Context& c, const std::string& reason);

/// The desired upstream is the stable again: Healthy at once ("undo").
void undo(Context& c);

/// The old stable's warm period ends.
void expire_scale_down(Context& c);

void emit_start(Context& c, AnalysisKind kind);
/// TerminateAnalysis(all). Runs started earlier in this same transition are dropped from the
/// effects instead (never started and stopped at once).
void terminate_all(Context& c);
void emit_terminate_step(Context& c);

}  // namespace vane::rollout::canary
