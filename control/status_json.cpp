#include "control/status_json.hpp"

#include <cmath>
#include <ctime>

#include "config/duration.hpp"
#include "rollout/state_machine.hpp"

namespace vane::control {
namespace {

namespace json = boost::json;

/// A percentage with up to two decimals; whole numbers as integers ("10", not "1E1").
json::value percent(uint32_t centi) {
  if (centi % 100 == 0) return json::value(static_cast<int64_t>(centi / 100));
  return json::value(static_cast<double>(centi) / 100.0);
}

json::value percent(double value) {
  const double rounded = std::round(value * 100) / 100;
  if (rounded == std::floor(rounded)) return json::value(static_cast<int64_t>(rounded));
  return json::value(rounded);
}

json::object string_match(const config::StringMatch& match) {
  const char* kind = match.kind == config::StringMatch::Kind::Exact    ? "exact"
                     : match.kind == config::StringMatch::Kind::Prefix ? "prefix"
                                                                       : "regex";
  return json::object{{kind, match.value}};
}

/// A setHeaderRoute entry in the step's own shape ({headerName, headerValue, method?, path?}).
json::object header_condition(const config::RouteCondition& c) {
  json::object o;
  if (!c.headers.empty()) {
    o["headerName"] = c.headers.front().name;
    o["headerValue"] = string_match(c.headers.front().value);
  }
  if (c.method) o["method"] = string_match(*c.method);
  if (c.path) o["path"] = string_match(*c.path);
  return o;
}

/// A setMirrorRoute entry ({method?, path?, headers?}).
json::object mirror_condition(const config::RouteCondition& c) {
  json::object o;
  if (c.method) o["method"] = string_match(*c.method);
  if (c.path) o["path"] = string_match(*c.path);
  if (!c.headers.empty()) {
    json::object headers;
    for (const auto& h : c.headers) headers[h.name] = string_match(h.value);
    o["headers"] = std::move(headers);
  }
  return o;
}

json::value time_or_null(const std::optional<rollout::WallTime>& time) {
  if (!time) return nullptr;
  return json::value(rfc3339(*time));
}

json::array header_routes(const rollout::TrafficPlan& plan) {
  json::array routes;
  for (const auto& r : plan.header_routes) {
    json::array match;
    for (const auto& c : r.match) match.push_back(header_condition(c));
    routes.push_back(json::object{{"name", r.name}, {"match", std::move(match)},
                                  {"suspended", plan.routes_suspended}});
  }
  return routes;
}

json::array mirror_routes(const rollout::TrafficPlan& plan) {
  json::array routes;
  for (const auto& r : plan.mirror_routes) {
    json::array match;
    for (const auto& c : r.match) match.push_back(mirror_condition(c));
    routes.push_back(json::object{{"name", r.name}, {"match", std::move(match)},
                                  {"percentage", percent(r.percentage)}, {"suspended", plan.routes_suspended}});
  }
  return routes;
}

/// What a blue-green rollout waits on now: "healthyPreview", "prePromotionAnalysis",
/// "autoPromotion" (a countdown), "promote", "postPromotionAnalysis", "retry"; null when idle.
json::value blue_green_waiting_for(const rollout::RolloutState& s) {
  using rollout::AnalysisStatus;
  using rollout::Gate;
  if (s.canary.empty()) return nullptr;
  if (s.aborted) return "retry";
  if (s.phase == rollout::Phase::Paused) {
    const bool countdown = s.pause_reason == rollout::PauseReason::BlueGreen && s.pause_until;
    return countdown ? "autoPromotion" : "promote";
  }
  switch (s.gate) {
    case Gate::PostPromotion:
      return "postPromotionAnalysis";
    case Gate::Promotion:
      return "healthyPreview";  // promotion is due; the switch waits for a healthy preview
    case Gate::Preview:
    case Gate::None:
      break;
  }
  return s.step_analysis == AnalysisStatus::Running ? "prePromotionAnalysis" : "healthyPreview";
}

json::object measurement_json(const analysis::Measurement& m) {
  return {{"phase", std::string(analysis::to_string(m.phase))},
          {"value", m.value},
          {"startedAt", time_or_null(m.started_at)},
          {"finishedAt", time_or_null(m.finished_at)},
          {"message", m.message}};
}

json::object metric_json(const analysis::RunMetric& m) {
  json::array measurements;
  for (const analysis::Measurement& measurement : m.measurements) {
    measurements.push_back(measurement_json(measurement));
  }
  const analysis::MetricCounts& c = m.result.counts;
  return {{"name", m.result.name},
          {"phase", std::string(analysis::to_string(m.result.phase))},
          {"message", m.result.message},
          {"dryRun", m.result.dry_run},
          {"successful", static_cast<int64_t>(c.successful)},
          {"failed", static_cast<int64_t>(c.failed)},
          {"inconclusive", static_cast<int64_t>(c.inconclusive)},
          {"error", static_cast<int64_t>(c.error)},
          {"measurements", std::move(measurements)}};
}

/// The blue-green details of STATUS: the active and preview versions, the preview route, the
/// gate it waits on, the auto-promotion and the old version kept warm.
json::object blue_green_json(const config::BlueGreenStrategy& bg, const rollout::RolloutState& s) {
  const bool countdown = s.phase == rollout::Phase::Paused &&
                         s.pause_reason == rollout::PauseReason::BlueGreen;
  json::object o;
  o["active"] = s.stable;
  o["preview"] = s.canary.empty() ? json::value(nullptr) : json::value(s.canary);
  o["previewRoute"] = bg.preview_route.empty() ? json::value(nullptr) : json::value(bg.preview_route);
  o["waitingFor"] = blue_green_waiting_for(s);
  o["autoPromotionEnabled"] = bg.auto_promotion_enabled;
  o["autoPromotionSeconds"] = bg.auto_promotion_seconds;
  o["autoPromotionAt"] = countdown ? time_or_null(s.pause_until) : json::value(nullptr);
  o["previousActive"] = s.previous_stable.empty() ? json::value(nullptr)
                                                  : json::value(s.previous_stable);
  o["scaleDownAt"] = time_or_null(s.scale_down_at);
  return o;
}

}  // namespace

std::string rfc3339(rollout::WallTime time) {
  // By calendar arithmetic and hand-placed digits: gmtime_r, strftime and snprintf cost a time
  // zone lock and a format parse per call, and a STATUS list writes thousands of times. A
  // system_clock time (nanoseconds in 64 bits) lies in the years 1677-2262: four digits.
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const hh_mm_ss clock{ms - day};
  std::string out = "0000-00-00T00:00:00.000Z";
  const auto put = [&out](size_t at, long long value, size_t width) {
    for (size_t i = width; i-- > 0; value /= 10) out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<int>(date.year()), 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, clock.hours().count(), 2);
  put(14, clock.minutes().count(), 2);
  put(17, clock.seconds().count(), 2);
  put(20, clock.subseconds().count(), 3);
  return out;
}

json::object run_json(const analysis::AnalysisRun& run) {
  json::array metrics;
  for (const analysis::RunMetric& m : run.metrics) metrics.push_back(metric_json(m));
  return {{"name", run.name},
          {"phase", std::string(analysis::to_string(run.phase))},
          {"message", run.message},
          {"terminated", run.terminated},
          {"startedAt", time_or_null(run.started_at)},
          {"finishedAt", time_or_null(run.finished_at)},
          {"metrics", std::move(metrics)}};
}

std::string describe_step(const config::Step& step) {
  using Kind = config::Step::Kind;
  switch (step.kind) {
    case Kind::SetWeight: {
      std::string w = std::to_string(step.weight_centi / 100);
      if (step.weight_centi % 100 != 0) {
        char frac[4];
        std::snprintf(frac, sizeof frac, ".%02u", step.weight_centi % 100);
        w += frac;
      }
      return "setWeight: " + w;
    }
    case Kind::Pause:
      return step.pause.duration ? "pause: " + config::format_duration(*step.pause.duration)
                                 : "pause: (until promoted)";
    case Kind::Analysis: {
      std::string names;
      for (const auto& t : step.analysis.templates) names += (names.empty() ? "" : ", ") + t.template_name;
      return "analysis: " + names;
    }
    case Kind::SetHeaderRoute: return "setHeaderRoute: " + step.header_route.name;
    case Kind::SetMirrorRoute: return "setMirrorRoute: " + step.mirror_route.name;
    case Kind::Gate: return "gate: " + step.gate.name;
    case Kind::Experiment: return "experiment: " + step.experiment.name;
  }
  return "";
}

json::object step_json(const config::Step& step) {
  using Kind = config::Step::Kind;
  switch (step.kind) {
    case Kind::SetWeight:
      return json::object{{"setWeight", percent(step.weight_centi)}};
    case Kind::Pause: {
      json::object pause;
      if (step.pause.duration) pause["duration"] = config::format_duration(*step.pause.duration);
      return json::object{{"pause", std::move(pause)}};
    }
    case Kind::Analysis: {
      json::array templates;
      for (const auto& t : step.analysis.templates) templates.push_back(json::object{{"templateName", t.template_name}});
      json::array args;  // names only: a value may be a secret read from a file
      for (const auto& a : step.analysis.args) args.push_back(json::object{{"name", a.name}});
      json::object analysis{{"templates", std::move(templates)}};
      if (!args.empty()) analysis["args"] = std::move(args);
      return json::object{{"analysis", std::move(analysis)}};
    }
    case Kind::SetHeaderRoute: {
      json::array match;
      for (const auto& c : step.header_route.match) match.push_back(header_condition(c));
      return json::object{{"setHeaderRoute", json::object{{"name", step.header_route.name}, {"match", std::move(match)}}}};
    }
    case Kind::SetMirrorRoute: {
      json::array match;
      for (const auto& c : step.mirror_route.match) match.push_back(mirror_condition(c));
      return json::object{{"setMirrorRoute", json::object{{"name", step.mirror_route.name},
                                                          {"percentage", percent(step.mirror_route.percentage)},
                                                          {"match", std::move(match)}}}};
    }
    case Kind::Gate: {
      // Without its query, which may carry a token (as analysis args show names only).
      const std::string url = step.gate.url.substr(0, step.gate.url.find('?'));
      json::object gate{{"name", step.gate.name},
                        {"url", url},
                        {"intervalSeconds", step.gate.interval_seconds}};
      if (step.gate.timeout_seconds) gate["timeoutSeconds"] = *step.gate.timeout_seconds;
      return json::object{{"gate", std::move(gate)}};
    }
    case Kind::Experiment: {
      const config::ExperimentStep& e = step.experiment;
      json::array templates;
      for (const auto& t : e.templates) {
        json::object tpl{{"name", t.name}, {"weight", percent(t.weight_centi)}};
        if (t.spec_ref.empty()) tpl["upstream"] = t.upstream;
        if (!t.spec_ref.empty()) tpl["specRef"] = t.spec_ref;
        templates.push_back(std::move(tpl));
      }
      json::array analyses;
      for (const auto& a : e.analyses) {
        json::array args;  // names only, as for analysis steps
        for (const auto& arg : a.spec.args) args.push_back(json::object{{"name", arg.name}});
        json::object analysis{{"name", a.name},
                              {"templateName", a.spec.templates.empty()
                                                   ? std::string()
                                                   : a.spec.templates[0].template_name}};
        if (!args.empty()) analysis["args"] = std::move(args);
        analyses.push_back(std::move(analysis));
      }
      json::object experiment{{"name", e.name}, {"templates", std::move(templates)},
                              {"analyses", std::move(analyses)}};
      if (e.duration) experiment["duration"] = config::format_duration(*e.duration);
      return json::object{{"experiment", std::move(experiment)}};
    }
  }
  return {};
}

/// The running experiment (SPEC §14), null when none runs.
json::value experiment_json(StatusInput& in) {
  const config::ExperimentStep* e = rollout::running_experiment(in.spec, in.state);
  if (e == nullptr) return nullptr;
  json::array templates;
  for (size_t i = 0; i < e->templates.size() && i < in.plan.experiment.size(); ++i) {
    templates.push_back(json::object{{"name", e->templates[i].name},
                                     {"upstream", in.plan.experiment[i].upstream},
                                     {"weight", percent(e->templates[i].weight_centi)}});
  }
  return json::object{{"name", e->name},
                      {"phase", std::string(rollout::experiment_phase(in.state, in.now))},
                      {"templates", std::move(templates)},
                      {"analysisRuns", std::move(in.experiment_runs)}};
}

boost::json::object status_json(StatusInput in) {
  const auto& spec = in.spec;
  const auto& state = in.state;
  const bool canary_strategy = spec.canary.has_value();
  const uint32_t step_count = canary_strategy ? static_cast<uint32_t>(spec.canary->steps.size()) : 0;
  const uint32_t canary_centi = in.plan.weight_centi;
  json::object o;
  o["name"] = spec.name;
  o["strategy"] = canary_strategy ? "canary" : "blueGreen";
  o["phase"] = std::string(rollout::to_string(state.phase));
  o["message"] = state.message;
  o["stable"] = state.stable;
  o["canary"] = state.canary.empty() ? json::value(nullptr) : json::value(state.canary);
  o["desired"] = spec.upstream;
  o["currentStepIndex"] = canary_strategy ? state.step_index : 0;
  o["stepCount"] = step_count;
  json::array steps;
  if (canary_strategy) {
    for (const auto& step : spec.canary->steps) steps.push_back(step_json(step));
  }
  o["steps"] = std::move(steps);
  o["currentStep"] = canary_strategy && state.step_index < step_count && !state.canary.empty()
                         ? json::value(describe_step(spec.canary->steps[state.step_index]))
                         : json::value(nullptr);
  uint32_t experiment_centi = 0;
  for (const auto& share : in.plan.experiment) experiment_centi += share.weight_centi;
  o["weights"] = json::object{{"stable", percent(10000 - canary_centi - experiment_centi)},
                              {"canary", percent(canary_centi)}};
  o["headerRoutes"] = header_routes(in.plan);
  o["mirrorRoutes"] = mirror_routes(in.plan);
  if (in.measured) {
    o["measuredWeights"] = json::object{{"stable", percent(in.measured->stable)},
                                        {"canary", percent(in.measured->canary)}};
  } else {
    o["measuredWeights"] = nullptr;
  }
  o["pausedSince"] = time_or_null(state.paused_since);
  o["pauseUntil"] = time_or_null(state.pause_until);
  o["aborted"] = state.aborted;
  o["abortReason"] = state.aborted ? json::value(state.abort_reason) : json::value(nullptr);
  o["analysisRuns"] = std::move(in.analysis_runs);
  o["experiment"] = experiment_json(in);
  if (spec.blue_green) o["blueGreen"] = blue_green_json(*spec.blue_green, state);
  return o;
}

}  // namespace vane::control
