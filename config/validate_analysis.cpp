// Cross-checks of analysis templates and of the rollouts' analysis specs that use them.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "config/validate.hpp"

namespace vane::config {
namespace {

bool declares_arg(const AnalysisTemplate& t, std::string_view name) {
  return std::any_of(t.args.begin(), t.args.end(), [&](const Arg& a) { return a.name == name; });
}

bool has_metric(const AnalysisTemplate& t, std::string_view name) {
  return std::any_of(t.metrics.begin(), t.metrics.end(),
                     [&](const Metric& m) { return m.name == name; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

/// Every `{{args.NAME}}` in `text` must name an arg the template declares.
void check_placeholders(Reader& r, const AnalysisTemplate& t, const std::string& path,
                        std::string_view text) {
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const std::size_t close = text.find("}}", pos + 2);
    if (close == std::string_view::npos) {
      r.error_at(path, t.mark, "\"{{\" without a closing \"}}\"");
      return;
    }
    const std::string_view inner = trim(text.substr(pos + 2, close - pos - 2));
    if (!inner.starts_with("args.")) {
      r.error_at(path, t.mark, "unknown placeholder \"{{" + std::string(inner) +
                                   "}}\": only {{args.NAME}} is supported");
    } else if (!declares_arg(t, inner.substr(5))) {
      r.error_at(path, t.mark, "unknown arg " + quoted(inner.substr(5)) + " (not in the " +
                                   "template's args)");
    }
    pos = close + 2;
  }
}

void check_metric_placeholders(Reader& r, const AnalysisTemplate& t, const Metric& m,
                               const std::string& path) {
  check_placeholders(r, t, path + ".successCondition", m.success_condition);
  check_placeholders(r, t, path + ".failureCondition", m.failure_condition);
  const auto headers = [&](const std::string& base, const std::vector<KeyValue>& list) {
    for (std::size_t k = 0; k < list.size(); ++k) {
      check_placeholders(r, t, item_path(base + ".headers", k, "value"), list[k].value);
    }
  };
  if (m.prometheus) {
    const std::string base = path + ".provider.prometheus";
    check_placeholders(r, t, base + ".address", m.prometheus->address);
    check_placeholders(r, t, base + ".query", m.prometheus->query);
    headers(base, m.prometheus->headers);
  }
  if (m.web) {
    const std::string base = path + ".provider.web";
    check_placeholders(r, t, base + ".url", m.web->url);
    check_placeholders(r, t, base + ".body", m.web->body);
    check_placeholders(r, t, base + ".jsonPath", m.web->json_path);
    headers(base, m.web->headers);
  }
  if (m.exec) {
    const std::string base = path + ".provider.exec";
    for (std::size_t k = 0; k < m.exec->command.size(); ++k) {
      check_placeholders(r, t, index_path(base + ".command", k), m.exec->command[k]);
    }
    check_placeholders(r, t, base + ".jsonPath", m.exec->json_path);
  }
}

/// `[{metricName: X}]` lists (dryRun, measurementRetention) must name metrics of the template.
void check_metric_ref(Reader& r, const AnalysisTemplate& t, const std::string& path,
                      std::string_view name) {
  if (!name.empty() && !has_metric(t, name)) {
    r.error_at(path, t.mark, "unknown metric " + quoted(name));
  }
}

void check_template(Reader& r, const AnalysisTemplate& t, std::size_t i) {
  const std::string path = item_path("analysisTemplates", i);
  std::unordered_set<std::string_view> args;
  for (std::size_t k = 0; k < t.args.size(); ++k) {
    if (!t.args[k].name.empty() && !args.insert(t.args[k].name).second) {
      r.error_at(item_path(path + ".args", k, "name"), t.mark,
                 "duplicate arg " + quoted(t.args[k].name));
    }
  }
  std::unordered_set<std::string_view> metrics;
  for (std::size_t k = 0; k < t.metrics.size(); ++k) {
    const Metric& m = t.metrics[k];
    if (!m.name.empty() && !metrics.insert(m.name).second) {
      r.error_at(item_path(path + ".metrics", k, "name"), m.mark,
                 "duplicate metric name " + quoted(m.name));
    }
    check_metric_placeholders(r, t, m, item_path(path + ".metrics", k));
  }
  for (std::size_t k = 0; k < t.dry_run.size(); ++k) {
    check_metric_ref(r, t, item_path(path + ".dryRun", k, "metricName"), t.dry_run[k]);
  }
  for (std::size_t k = 0; k < t.measurement_retention.size(); ++k) {
    check_metric_ref(r, t, item_path(path + ".measurementRetention", k, "metricName"),
                     t.measurement_retention[k].metric_name);
  }
}

/// One use of templates: a step's `analysis`, a canary's background `analysis`, or a blueGreen
/// pre/post promotion analysis. Problems of the use as a whole are reported at `at`.
struct SpecUse {
  const AnalysisSpec& spec;
  std::string path;
  Mark at;
  bool background = false;
  bool one_template = false;  ///< an experiment's analysis: `templateName` beside its args
};

/// The resolved templates of a use; unknown names are reported.
std::vector<const AnalysisTemplate*> resolve(const Config& c, Reader& r, const SpecUse& use) {
  std::vector<const AnalysisTemplate*> found;
  for (std::size_t k = 0; k < use.spec.templates.size(); ++k) {
    const std::string& name = use.spec.templates[k].template_name;
    const AnalysisTemplate* t = c.find_template(name);
    const std::string path = use.one_template
                                 ? use.path + ".templateName"
                                 : item_path(use.path + ".templates", k, "templateName");
    if (!t) {
      r.error_at(path, use.at, "unknown analysis template " + quoted(name));
    } else if (std::find(found.begin(), found.end(), t) != found.end()) {
      r.error_at(path, use.at,
                 "template " + quoted(name) + " is listed twice");
    } else {
      found.push_back(t);
    }
  }
  return found;
}

void check_args(Reader& r, const SpecUse& use, const std::vector<const AnalysisTemplate*>& ts) {
  const std::vector<Arg>& given = use.spec.args;
  for (std::size_t k = 0; k < given.size(); ++k) {
    const bool declared = std::any_of(ts.begin(), ts.end(), [&](const AnalysisTemplate* t) {
      return declares_arg(*t, given[k].name);
    });
    if (!declared && ts.size() == use.spec.templates.size()) {  // all resolved: no noise
      r.error_at(item_path(use.path + ".args", k, "name"), use.at,
                 "no template of this analysis has an arg " + quoted(given[k].name));
    }
  }
  for (const AnalysisTemplate* t : ts) {
    for (const Arg& arg : t->args) {
      const bool supplied = std::any_of(given.begin(), given.end(),
                                        [&](const Arg& a) { return a.name == arg.name; });
      if (!arg.value && !supplied) {
        r.error(use.at, use.path,
                "template " + quoted(t->name) + " needs arg " + quoted(arg.name));
      }
    }
  }
}

void check_metrics(Reader& r, const SpecUse& use, const std::vector<const AnalysisTemplate*>& ts) {
  std::unordered_map<std::string_view, std::string_view> owner;  // metric name -> template
  for (const AnalysisTemplate* t : ts) {
    for (const Metric& m : t->metrics) {
      if (!use.background && m.interval && !m.count) {
        r.error(use.at, use.path,
                "metric " + quoted(m.name) + " of template " + quoted(t->name) +
                    " has an interval and no count: it runs until the rollout ends, which only "
                    "a canary's background analysis may do");
      }
      const auto [it, inserted] = owner.emplace(m.name, t->name);
      if (!inserted && it->second != t->name) {
        r.error(use.at, use.path,
                "templates " + quoted(it->second) + " and " + quoted(t->name) +
                    " both have a metric " + quoted(m.name));
      }
    }
  }
}

void check_use(const Config& c, Reader& r, const SpecUse& use) {
  const auto templates = resolve(c, r, use);
  check_args(r, use, templates);
  check_metrics(r, use, templates);
}

void check_rollout_uses(const Config& c, Reader& r, std::size_t i) {
  const Rollout& rollout = c.rollouts[i];
  const std::string base = item_path("rollouts", i, "strategy");
  if (rollout.canary) {
    const std::vector<Step>& steps = rollout.canary->steps;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const auto& analyses = steps[k].experiment.analyses;
      for (std::size_t a = 0; steps[k].kind == Step::Kind::Experiment && a < analyses.size(); ++a) {
        const std::string step = item_path(base + ".canary.steps", k, "experiment");
        check_use(c, r, {.spec = analyses[a].spec,
                         .path = item_path(step + ".analyses", a),
                         .at = analyses[a].spec.mark,
                         .one_template = true});
      }
      if (steps[k].kind != Step::Kind::Analysis) continue;
      // Reported at the step, i.e. at its `analysis:` key.
      check_use(c, r, {steps[k].analysis, item_path(base + ".canary.steps", k, "analysis"),
                       steps[k].mark});
    }
    if (rollout.canary->analysis) {
      const std::string path = base + ".canary.analysis";
      check_use(c, r, {*rollout.canary->analysis, path, r.mark_of(path, rollout.mark), true});
    }
  }
  if (rollout.blue_green) {
    for (const auto& [key, spec] :
         {std::pair{"prePromotionAnalysis", &rollout.blue_green->pre_promotion_analysis},
          std::pair{"postPromotionAnalysis", &rollout.blue_green->post_promotion_analysis}}) {
      if (!*spec) continue;
      const std::string path = base + ".blueGreen." + key;
      check_use(c, r, {**spec, path, r.mark_of(path, rollout.mark)});
    }
  }
}

}  // namespace

void validate_analysis(const Config& config, Reader& reader) {
  for (std::size_t i = 0; i < config.analysis_templates.size(); ++i) {
    check_template(reader, config.analysis_templates[i], i);
  }
  for (std::size_t i = 0; i < config.rollouts.size(); ++i) {
    check_rollout_uses(config, reader, i);
  }
}

}  // namespace vane::config
