// What `vane status` draws from the admin API's STATUS objects (SPEC §6), in the manner of
// `kubectl argo rollouts get rollout`. Pure functions of the JSON; main thread (CLI).
#pragma once

#include <string>
#include <string_view>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace vane::cli {

/// One rollout in full: phase, step, weights, upstreams, routes, pause, abort, analysis runs.
/// Tolerates missing or null fields (an older or newer API): what is absent is not drawn.
std::string render_status(const boost::json::object& status);

/// `vane status` without NAME: a header and one line per rollout
/// (NAME, STRATEGY, PHASE, STEP, WEIGHT, STABLE, CANARY).
std::string render_list(const boost::json::array& rollouts);

/// One line: the phase and, while a canary is in progress, the step,
/// e.g. "Progressing, step 2/6 (setWeight: 50)" or "Healthy".
std::string render_summary(const boost::json::object& status);

/// "✔" Healthy/Successful, "◌" Progressing/Running, "॥" Paused, "✖" Degraded/Failed,
/// "⚠" Error, "?" Inconclusive, "◷" Pending; "•" otherwise.
std::string_view phase_symbol(std::string_view phase);

}  // namespace vane::cli
