// Experiment steps in the config (SPEC §14): defaults, template slots, and the validation of
// names, upstreams, specRef values, weights (with the canary weight at that step) and analyses.
#include <gtest/gtest.h>

#include "config/loader.hpp"
#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

/// Lines 1-2 base, 3: an analysis template `t` with arg `tolerance`, 4: route, 5: rollouts:,
/// 6-9: ro down to `canary:`, 10: `steps:`; steps from 11.
std::string experiment_steps(const std::string& steps) {
  return std::string(base) +
         "analysisTemplates: [{name: t, args: [{name: tolerance}], metrics: [{name: m, "
         "successCondition: \"result <= baseline * {{args.tolerance}}\", provider: {builtin: "
         "{metric: latency-p95}}}]}]\n"
         "routes: [{name: r, rollout: ro}]\nrollouts:\n  - name: ro\n    upstream: v\n"
         "    strategy:\n      canary:\n        steps:\n" +
         steps;
}

TEST(ExperimentConfig, DefaultsSlotsAndTemplates) {
  const LoadResult loaded = load_string(experiment_steps(R"(          - setWeight: 10
          - experiment:
              duration: 5m
              templates:
                - {name: baseline, upstream: u, weight: 5}
                - {name: canary, specRef: canary, weight: 2.5}
              analyses:
                - {name: compare, templateName: t, args: [{name: tolerance, value: "1.1"}]}
          - experiment:
              name: again
              templates: [{name: canary, specRef: stable, weight: 10}, {name: third, upstream: v, weight: 1}]
)"), "vane.yaml");
  ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  const CanaryStrategy& canary = *loaded.config->rollouts.at(0).canary;
  const ExperimentStep& e = canary.steps.at(1).experiment;
  EXPECT_EQ(canary.steps[1].kind, Step::Kind::Experiment);
  EXPECT_EQ(e.name, "experiment-1");  // named after its step index
  EXPECT_EQ(e.duration, Duration{300'000});
  ASSERT_EQ(e.templates.size(), 2u);
  EXPECT_EQ(e.templates[0].upstream, "u");
  EXPECT_EQ(e.templates[0].weight_centi, 500u);
  EXPECT_EQ(e.templates[1].spec_ref, "canary");
  EXPECT_EQ(e.templates[1].weight_centi, 250u);
  ASSERT_EQ(e.analyses.size(), 1u);
  EXPECT_EQ(e.analyses[0].name, "compare");
  EXPECT_EQ(e.analyses[0].spec.templates.at(0).template_name, "t");
  EXPECT_EQ(e.analyses[0].spec.args.at(0).value, "1.1");
  const ExperimentStep& again = canary.steps.at(2).experiment;
  EXPECT_EQ(again.name, "again");
  EXPECT_FALSE(again.duration);  // until its analyses finish
  // One slot per distinct name across the rollout's experiments.
  EXPECT_EQ(canary.experiment_names, (std::vector<std::string>{"baseline", "canary", "third"}));
  EXPECT_EQ(again.templates[0].slot, 1);
  EXPECT_EQ(again.templates[1].slot, 2);
}

TEST(ExperimentConfig, Validation) {
  run({
      {"template shapes", experiment_steps(R"(          - experiment:
              templates:
                - {name: a, upstream: u, specRef: stable, weight: 1}
                - {name: b, weight: 1}
                - {name: c, specRef: preview, weight: 1}
                - {name: d, upstream: nowhere, weight: 1}
                - {name: a, specRef: canary, weight: 101}
                - {upstream: u}
)"),
       {"vane.yaml:13:19: rollouts[0].strategy.canary.steps[0].experiment.templates[0]: needs "
        "exactly one of upstream or specRef",
        "vane.yaml:14:19: rollouts[0].strategy.canary.steps[0].experiment.templates[1]: needs "
        "exactly one of upstream or specRef",
        "vane.yaml:15:38: rollouts[0].strategy.canary.steps[0].experiment.templates[2].specRef: "
        "must be one of stable, canary",
        "vane.yaml:16:39: rollouts[0].strategy.canary.steps[0].experiment.templates[3].upstream: "
        "unknown upstream \"nowhere\"",
        "vane.yaml:17:26: rollouts[0].strategy.canary.steps[0].experiment.templates[4].name: "
        "duplicate template name \"a\"",
        "vane.yaml:17:54: rollouts[0].strategy.canary.steps[0].experiment.templates[4].weight: "
        "must be between 0 and 100",
        "vane.yaml:18:19: rollouts[0].strategy.canary.steps[0].experiment.templates[5].name: is "
        "required",
        "vane.yaml:18:19: rollouts[0].strategy.canary.steps[0].experiment.templates[5].weight: "
        "is required"}},
      {"weights with the canary weight", experiment_steps(R"(          - setWeight: 60
          - experiment:
              templates: [{name: a, upstream: u, weight: 20}, {name: b, specRef: canary, weight: 20.5}]
          - setWeight: 50
          - experiment:
              templates: [{name: a, upstream: u, weight: 50}]
)"),
       {"vane.yaml:13:26: rollouts[0].strategy.canary.steps[1].experiment.templates: template "
        "weights (40.5) plus the canary weight at this step (60) exceed 100"}},
      {"names and analyses", experiment_steps(R"(          - experiment:
              templates: [{name: a, upstream: u, weight: 1}, {name: b, upstream: u, weight: 1}]
          - experiment:
              templates: [{name: c, upstream: u, weight: 1}, {name: d, upstream: u, weight: 1}, {name: e, upstream: u, weight: 1}]
              analyses:
                - {name: x, templateName: t}
                - {name: x, templateName: missing, args: [{name: tolerance, value: "1"}]}
                - {templateName: t, args: [{name: other, value: "1"}, {name: tolerance, value: "1"}]}
)"),
       {"vane.yaml:14:104: rollouts[0].strategy.canary.steps[1].experiment.templates[2].name: a "
        "rollout's experiments may use at most 4 template names",
        "vane.yaml:16:19: rollouts[0].strategy.canary.steps[1].experiment.analyses[0]: template "
        "\"t\" needs arg \"tolerance\"",
        "vane.yaml:17:26: rollouts[0].strategy.canary.steps[1].experiment.analyses[1].name: "
        "duplicate analysis name \"x\"",
        "vane.yaml:17:43: rollouts[0].strategy.canary.steps[1].experiment.analyses[1]."
        "templateName: unknown analysis template \"missing\"",
        "vane.yaml:18:19: rollouts[0].strategy.canary.steps[1].experiment.analyses[2].name: is "
        "required",
        "vane.yaml:18:51: rollouts[0].strategy.canary.steps[1].experiment.analyses[2].args[0]."
        "name: no template of this analysis has an arg \"other\""}},
      {"builtin targets", std::string(base) + R"(analysisTemplates:
  - name: t
    metrics: [{name: m, provider: {builtin: {metric: success-rate, target: "experiment:"}}}]
routes: [{name: r, upstream: u}]
)",
       {"vane.yaml:5:76: analysisTemplates[0].metrics[0].provider.builtin.target: must be one of "
        "canary, stable, mirror, experiment:NAME"}},
  });
}

}  // namespace
}  // namespace vane::config::test
