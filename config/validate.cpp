// Cross-section checks of listeners, upstreams, routes and rollouts (templates: validate_analysis).
#include "config/validate.hpp"

#include <algorithm>
#include <unordered_map>

namespace vane::config {
namespace {

/// Names must be unique within a list; the second and later uses are reported.
template <class T>
void check_unique_names(Reader& r, const std::vector<T>& items, std::string_view list,
                        std::string_view what) {
  std::unordered_map<std::string_view, std::size_t> first;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].name.empty()) continue;  // already reported as missing
    const auto [it, inserted] = first.emplace(items[i].name, i);
    if (inserted) continue;
    const int line = r.mark_of(item_path(list, it->second, "name"), items[it->second].mark).line;
    r.error_at(item_path(list, i, "name"), items[i].mark,
               "duplicate " + std::string(what) + " name " + quoted(items[i].name) +
                   " (first at line " + std::to_string(line) + ")");
  }
}

void check_routes(const Config& c, Reader& r) {
  std::unordered_map<std::string, std::size_t> by_match;  // "host pathPrefix" -> first route
  for (std::size_t i = 0; i < c.routes.size(); ++i) {
    const Route& route = c.routes[i];
    if (!route.upstream.empty() && !c.find_upstream(route.upstream)) {
      r.error_at(item_path("routes", i, "upstream"), route.mark,
                 "unknown upstream " + quoted(route.upstream));
    }
    if (!route.rollout.empty() && !c.find_rollout(route.rollout)) {
      r.error_at(item_path("routes", i, "rollout"), route.mark,
                 "unknown rollout " + quoted(route.rollout));
    }
    const auto [it, inserted] =
        by_match.emplace(route.match.host + " " + route.match.path_prefix, i);
    if (!inserted) {
      r.error_at(item_path("routes", i, "match"), route.mark,
                 "same host and pathPrefix as route " + quoted(c.routes[it->second].name));
    }
  }
}

/// A blueGreen previewRoute must exist and belong to this rollout.
void check_preview_route(const Config& c, Reader& r, std::size_t i) {
  const Rollout& rollout = c.rollouts[i];
  const std::string& preview = rollout.blue_green->preview_route;
  if (preview.empty()) return;
  const std::string path = item_path("rollouts", i, "strategy.blueGreen.previewRoute");
  const auto route = std::find_if(c.routes.begin(), c.routes.end(),
                                  [&](const Route& rt) { return rt.name == preview; });
  if (route == c.routes.end()) {
    r.error_at(path, rollout.mark, "unknown route " + quoted(preview));
  } else if (route->rollout != rollout.name) {
    r.error_at(path, rollout.mark,
               "route " + quoted(preview) + " must have rollout: " + rollout.name);
  }
}

/// An experiment step (SPEC §14): unique template and analysis names, known upstreams, and its
/// template weights plus the canary weight in force at that step within 100.
void check_experiment(const Config& c, Reader& r, std::size_t i, std::size_t k,
                      uint32_t canary_centi) {
  const Rollout& rollout = c.rollouts[i];
  const Step& step = rollout.canary->steps[k];
  const ExperimentStep& e = step.experiment;
  const std::string base =
      item_path(item_path("rollouts", i, "strategy.canary.steps"), k, "experiment");
  uint32_t total = canary_centi;
  for (std::size_t t = 0; t < e.templates.size(); ++t) {
    const ExperimentTemplate& tpl = e.templates[t];
    total += tpl.weight_centi;
    for (std::size_t before = 0; before < t; ++before) {
      if (!tpl.name.empty() && e.templates[before].name == tpl.name) {
        r.error_at(item_path(base + ".templates", t, "name"), step.mark,
                   "duplicate template name " + quoted(tpl.name));
        break;
      }
    }
    if (!tpl.upstream.empty() && !c.find_upstream(tpl.upstream)) {
      r.error_at(item_path(base + ".templates", t, "upstream"), step.mark,
                 "unknown upstream " + quoted(tpl.upstream));
    }
    const auto& names = rollout.canary->experiment_names;
    const auto index = std::find(names.begin(), names.end(), tpl.name) - names.begin();
    if (!tpl.name.empty() && static_cast<std::size_t>(index) >= kMaxExperimentNames) {
      r.error_at(item_path(base + ".templates", t, "name"), step.mark,
                 "a rollout's experiments may use at most " +
                     std::to_string(kMaxExperimentNames) + " template names");
    }
  }
  if (total > 10000) {
    r.error_at(base + ".templates", step.mark,
               "template weights (" + format_centi(total - canary_centi) +
                   ") plus the canary weight at this step (" + format_centi(canary_centi) +
                   ") exceed 100");
  }
  for (std::size_t a = 0; a < e.analyses.size(); ++a) {
    for (std::size_t before = 0; before < a; ++before) {
      if (!e.analyses[a].name.empty() && e.analyses[before].name == e.analyses[a].name) {
        r.error_at(item_path(base + ".analyses", a, "name"), step.mark,
                   "duplicate analysis name " + quoted(e.analyses[a].name));
        break;
      }
    }
  }
}

void check_experiments(const Config& c, Reader& r, std::size_t i) {
  uint32_t canary_centi = 0;  // the canary weight in force at each step
  const auto& steps = c.rollouts[i].canary->steps;
  for (std::size_t k = 0; k < steps.size(); ++k) {
    if (steps[k].kind == Step::Kind::SetWeight) canary_centi = steps[k].weight_centi;
    if (steps[k].kind == Step::Kind::Experiment) check_experiment(c, r, i, k, canary_centi);
  }
}

void check_rollout(const Config& c, Reader& r, std::size_t i) {
  const Rollout& rollout = c.rollouts[i];
  if (!rollout.upstream.empty() && !c.find_upstream(rollout.upstream)) {
    r.error_at(item_path("rollouts", i, "upstream"), rollout.mark,
               "unknown upstream " + quoted(rollout.upstream));
  }
  const std::string preview = rollout.blue_green ? rollout.blue_green->preview_route : "";
  const bool routed = std::any_of(c.routes.begin(), c.routes.end(), [&](const Route& route) {
    return route.rollout == rollout.name && route.name != preview;
  });
  if (!rollout.name.empty() && !routed) {
    r.error_at(item_path("rollouts", i, "name"), rollout.mark,
               "no route sends traffic to this rollout (a route with rollout: " + rollout.name +
                   (preview.empty() ? "" : ", besides previewRoute") + ")");
  }
  if (rollout.blue_green) check_preview_route(c, r, i);
  if (rollout.canary) check_experiments(c, r, i);
  if (rollout.canary && rollout.canary->analysis) {
    const std::size_t steps = rollout.canary->steps.size();
    const uint32_t starting = rollout.canary->analysis->starting_step;
    if (starting > 0 && starting >= steps) {
      r.error_at(item_path("rollouts", i, "strategy.canary.analysis.startingStep"), rollout.mark,
                 "must be less than the number of steps (" + std::to_string(steps) + ")");
    }
  }
}

/// A notifier's rollout filter names rollouts of this config.
void check_notifications(const Config& c, Reader& r) {
  for (std::size_t i = 0; i < c.notifications.size(); ++i) {
    const auto& rollouts = c.notifications[i].rollouts;
    for (std::size_t j = 0; j < rollouts.size(); ++j) {
      if (c.find_rollout(rollouts[j])) continue;
      r.error_at(index_path(item_path("notifications", i, "rollouts"), j), c.notifications[i].mark,
                 "unknown rollout " + quoted(rollouts[j]));
    }
  }
}

}  // namespace

std::string format_centi(uint32_t centi) {
  std::string out = std::to_string(centi / 100);
  if (centi % 100 == 0) return out;
  const uint32_t rest = centi % 100;
  out += rest < 10 ? ".0" + std::to_string(rest) : "." + std::to_string(rest);
  while (out.back() == '0') out.pop_back();
  return out;
}

std::string quoted(std::string_view text) {
  std::string out;  // appended, not `"\"" + ...`: GCC 12 -O3 gives a false -Wrestrict on that
  out.reserve(text.size() + 2);
  out += '"';
  out += text;
  out += '"';
  return out;
}

std::string item_path(std::string_view list, std::size_t index, std::string_view field) {
  std::string path = index_path(list, index);
  return field.empty() ? path : join_path(path, field);
}

void validate(const Config& config, Reader& reader) {
  check_unique_names(reader, config.listeners, "listeners", "listener");
  check_unique_names(reader, config.upstreams, "upstreams", "upstream");
  check_unique_names(reader, config.routes, "routes", "route");
  check_unique_names(reader, config.rollouts, "rollouts", "rollout");
  check_unique_names(reader, config.analysis_templates, "analysisTemplates", "analysis template");
  check_unique_names(reader, config.notifications, "notifications", "notifier");
  check_routes(config, reader);
  for (std::size_t i = 0; i < config.rollouts.size(); ++i) check_rollout(config, reader, i);
  check_notifications(config, reader);
  validate_analysis(config, reader);
}

}  // namespace vane::config
