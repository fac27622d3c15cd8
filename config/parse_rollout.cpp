// Rollouts: their strategy (canary or blueGreen) and the analysis specs they run.
#include <algorithm>

#include "config/parse.hpp"

namespace vane::config {
namespace {

std::optional<Stickiness> parse_stickiness(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  Stickiness s;
  const auto cookie = m.take("cookie");
  const auto header = m.take("header");
  if (cookie.has_value() == header.has_value()) {
    r.error(v, "needs exactly one of cookie or header");
    return std::nullopt;
  }
  const Value& at = cookie ? *cookie : *header;
  const auto name = r.string(at);
  if (!name) return std::nullopt;
  if (!is_token(*name)) {
    r.error(at, "must be a valid " + std::string(cookie ? "cookie" : "header") + " name");
    return std::nullopt;
  }
  (cookie ? s.cookie : s.header) = *name;
  return s;
}

std::optional<Shield> parse_shield(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  Shield shield;
  // Absent `on`: shield from every kind of failure (an empty list would shield from nothing).
  shield.on = {FailureKind::Status5xx, FailureKind::ConnectFailure, FailureKind::Reset,
               FailureKind::Timeout};
  if (const auto on = m.take("on")) {
    shield.on = parse_failure_kinds(r, *on);
    if (shield.on.empty() && (on->node->is_null() || on->node->is_sequence())) {
      r.error(*on, "must not be empty");
    }
  }
  m.get_duration("timeout", shield.timeout);
  return shield;
}

/// Each template's measurement slot: the index of its name among the rollout's experiment
/// template names (more than kMaxExperimentNames is a validation error; those share the last).
void assign_slots(ExperimentStep& experiment, std::vector<std::string>& names) {
  for (ExperimentTemplate& t : experiment.templates) {
    if (t.name.empty()) continue;  // reported as missing
    auto found = std::find(names.begin(), names.end(), t.name);
    if (found == names.end()) found = names.insert(names.end(), t.name);
    const auto index = static_cast<std::size_t>(found - names.begin());
    t.slot = static_cast<uint8_t>(std::min(index, kMaxExperimentNames - 1));
  }
}

std::optional<CanaryStrategy> parse_canary(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  CanaryStrategy canary;
  if (const auto steps = m.take("steps")) {
    for (const Value& item : r.list(*steps)) {
      Step step;
      if (!parse_step(r, item, step)) continue;
      if (step.kind == Step::Kind::Gate && step.gate.name.empty()) {
        step.gate.name = "gate-" + std::to_string(canary.steps.size());
      }
      if (step.kind == Step::Kind::Experiment) {
        if (step.experiment.name.empty()) {
          step.experiment.name = "experiment-" + std::to_string(canary.steps.size());
        }
        assign_slots(step.experiment, canary.experiment_names);
      }
      canary.steps.push_back(std::move(step));
    }
  }
  if (const auto s = m.take("stickiness")) canary.stickiness = parse_stickiness(r, *s);
  if (const auto s = m.take("shield")) canary.shield = parse_shield(r, *s);
  if (const auto a = m.take("analysis")) {
    parse_analysis_spec(r, *a, canary.analysis.emplace(), true);
  }
  return canary;
}

std::optional<AnalysisSpec> take_analysis(Reader& r, MapReader& m, std::string_view key) {
  const auto v = m.take(key);
  if (!v) return std::nullopt;
  AnalysisSpec spec;
  parse_analysis_spec(r, *v, spec, false);
  return spec;
}

std::optional<BlueGreenStrategy> parse_blue_green(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  BlueGreenStrategy bg;
  m.get("previewRoute", bg.preview_route);
  m.get("autoPromotionEnabled", bg.auto_promotion_enabled);
  m.get("autoPromotionSeconds", bg.auto_promotion_seconds, Range::at_least(0));
  bg.pre_promotion_analysis = take_analysis(r, m, "prePromotionAnalysis");
  bg.post_promotion_analysis = take_analysis(r, m, "postPromotionAnalysis");
  m.get("scaleDownDelaySeconds", bg.scale_down_delay_seconds, Range::at_least(0));
  m.get("abortScaleDownDelaySeconds", bg.abort_scale_down_delay_seconds, Range::at_least(0));
  return bg;
}

void parse_strategy(Reader& r, const Value& v, Rollout& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  const auto canary = m.take("canary");
  const auto blue_green = m.take("blueGreen");
  if (canary && blue_green) {
    r.error(*blue_green, "a strategy is either canary or blueGreen, not both");
  } else if (!canary && !blue_green) {
    r.error(v, "needs canary or blueGreen");
  }
  if (canary) out.canary = parse_canary(r, *canary);
  if (blue_green && !canary) out.blue_green = parse_blue_green(r, *blue_green);
}

bool parse_rollout(Reader& r, const Value& v, Rollout& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  m.get("upstream", out.upstream, Presence::Required);
  m.get("progressDeadlineSeconds", out.progress_deadline_seconds, Range::at_least(1));
  m.get("progressDeadlineAbort", out.progress_deadline_abort);
  m.get("scaleDownDelaySeconds", out.scale_down_delay_seconds, Range::at_least(0));
  if (const auto strategy = m.require("strategy")) parse_strategy(r, *strategy, out);
  return true;
}

void parse_template_ref(Reader& r, const Value& v, std::vector<AnalysisTemplateRef>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  AnalysisTemplateRef ref;
  if (m.get("templateName", ref.template_name, Presence::Required)) out.push_back(ref);
}

}  // namespace

void parse_analysis_spec(Reader& r, const Value& v, AnalysisSpec& out, bool background) {
  MapReader m(r, v);
  if (!m.valid()) return;
  out.mark = v.mark;
  if (const auto templates = m.require("templates")) {
    for (const Value& item : r.list(*templates, Presence::Required)) {
      parse_template_ref(r, item, out.templates);
    }
  }
  if (const auto args = m.take("args")) {
    for (const Value& item : r.list(*args)) parse_arg(r, item, Presence::Required, out.args);
  }
  if (background) m.get("startingStep", out.starting_step, Range::at_least(0));
}

void parse_rollouts(Reader& r, const Value& v, std::vector<Rollout>& out) {
  for (const Value& item : r.list(v)) {
    Rollout rollout;
    if (parse_rollout(r, item, rollout)) out.push_back(std::move(rollout));
  }
}

}  // namespace vane::config
