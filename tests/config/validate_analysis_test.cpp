// Validation of analysis templates and of the analyses that use them: error class -> exact lines.
#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

TEST(ValidateAnalysis, AnalysisTemplates) {
  run({
      {"metric fields and providers", std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    args: [{name: a}, {name: a}]
    metrics:
      - name: m1
        count: 3
        failureLimit: -1
        successCondition: result > {{args.b}} && {{ args.a }} > 0
        provider: {builtin: {metric: latency-p42, target: baseline, minRequests: 0}}
      - name: m1
        provider: {}
      - name: m3
        provider: {web: {url: "ftp://x", method: DELETE, jsonPath: data}}
      - name: m4
        provider:
          web: {url: "http://x/{{args.a}}", body: "{{args.c}}"}
          prometheus: {address: http://p, query: up}
      - name: m5
        provider: {web: {url: "http://x", body: "x"}, bogus: 1}
    dryRun: [{metricName: nope}]
    measurementRetention: [{metricName: m3, limit: 0}]
)",
       {"vane.yaml:6:30: analysisTemplates[0].args[1].name: duplicate arg \"a\"",
        "vane.yaml:9:16: analysisTemplates[0].metrics[0].count: a count above 1 needs an interval",
        "vane.yaml:10:23: analysisTemplates[0].metrics[0].failureLimit: -1 (never fail) needs "
        "consecutiveSuccessLimit > 0",
        "vane.yaml:11:27: analysisTemplates[0].metrics[0].successCondition: unknown arg \"b\" (not "
        "in the template's args)",
        "vane.yaml:12:38: analysisTemplates[0].metrics[0].provider.builtin.metric: must be one of "
        "success-rate, error-rate, request-rate, latency-p50, latency-p90, latency-p95, "
        "latency-p99, latency-mean",
        "vane.yaml:12:59: analysisTemplates[0].metrics[0].provider.builtin.target: must be one of "
        "canary, stable, mirror, experiment:NAME",
        "vane.yaml:12:82: analysisTemplates[0].metrics[0].provider.builtin.minRequests: must be "
        "at least 1",
        "vane.yaml:13:15: analysisTemplates[0].metrics[1].name: duplicate metric name \"m1\"",
        "vane.yaml:14:19: analysisTemplates[0].metrics[1].provider: needs exactly one of builtin, "
        "prometheus, web or exec",
        "vane.yaml:16:31: analysisTemplates[0].metrics[2].provider.web.url: must be an http:// or "
        "https:// URL",
        "vane.yaml:16:50: analysisTemplates[0].metrics[2].provider.web.method: must be one of GET, "
        "POST, PUT",
        "vane.yaml:16:68: analysisTemplates[0].metrics[2].provider.web.jsonPath: must start with "
        "'$' (or Argo's '{$')",
        "vane.yaml:19:11: analysisTemplates[0].metrics[3].provider: needs exactly one of builtin, "
        "prometheus, web or exec",
        "vane.yaml:22:49: analysisTemplates[0].metrics[4].provider.web.body: a GET request has no "
        "body; use POST or PUT",
        "vane.yaml:22:55: analysisTemplates[0].metrics[4].provider.bogus: unknown key",
        "vane.yaml:23:27: analysisTemplates[0].dryRun[0].metricName: unknown metric \"nope\"",
        "vane.yaml:24:52: analysisTemplates[0].measurementRetention[0].limit: must be at least 1"}},
      {"web GET with a body and placeholders", std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    metrics:
      - name: m
        provider: {web: {url: "http://x/{{args.a}}", body: "{{ x }}"}}
)",
       {"vane.yaml:8:31: analysisTemplates[0].metrics[0].provider.web.url: unknown arg \"a\" (not "
        "in the template's args)",
        "vane.yaml:8:60: analysisTemplates[0].metrics[0].provider.web.body: a GET request has no "
        "body; use POST or PUT",
        "vane.yaml:8:60: analysisTemplates[0].metrics[0].provider.web.body: unknown placeholder "
        "\"{{x}}\": only {{args.NAME}} is supported"}},
      {"duplicate template names", std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - {name: t, metrics: [{name: m, provider: {builtin: {metric: error-rate}}}]}
  - {name: t, metrics: []}
)",
       {"vane.yaml:6:12: analysisTemplates[1].name: duplicate analysis template name \"t\" (first "
        "at line 5)",
        "vane.yaml:6:24: analysisTemplates[1].metrics: must not be empty"}},
  });
}

/// Templates used by the analysis-use cases, appended after the rollout.
constexpr const char* templates = R"(analysisTemplates:
  - name: needs-x
    args: [{name: x}, {name: y, value: "1"}]
    metrics: [{name: a, successCondition: "result > {{args.x}}", provider: {builtin: {metric: error-rate}}}]
  - name: forever
    metrics: [{name: b, interval: 10s, provider: {builtin: {metric: success-rate}}}]
  - name: also-a
    metrics: [{name: a, provider: {builtin: {metric: request-rate}}}]
)";

TEST(ValidateAnalysis, AnalysisUses) {
  run({
      {"template references and args", with_steps(R"(          - analysis:
              templates: [{templateName: needs-x}]
          - analysis: {templates: [{templateName: nope}], args: [{name: z, value: "1"}]}
          - analysis:
              templates: [{templateName: needs-x}]
              args: [{name: x, value: "2"}, {name: q, value: "3"}, {name: y}]
)",
                                                   templates),
       {"vane.yaml:10:13: rollouts[0].strategy.canary.steps[0].analysis: template \"needs-x\" "
        "needs arg \"x\"",
        "vane.yaml:12:51: rollouts[0].strategy.canary.steps[1].analysis.templates[0].templateName: "
        "unknown analysis template \"nope\"",
        "vane.yaml:15:52: rollouts[0].strategy.canary.steps[2].analysis.args[1].name: no template "
        "of this analysis has an arg \"q\"",
        "vane.yaml:15:68: rollouts[0].strategy.canary.steps[2].analysis.args[2].value: is "
        "required"}},
      {"indefinite metrics and metric name clashes", with_steps(R"(          - analysis:
              templates: [{templateName: forever}]
          - analysis: {templates: [{templateName: also-a}, {templateName: needs-x}], args: [{name: x, value: "1"}]}
        analysis: {templates: [{templateName: forever}]}
)",
                                                                  templates),
       {"vane.yaml:10:13: rollouts[0].strategy.canary.steps[0].analysis: metric \"b\" of template "
        "\"forever\" has an interval and no count: it runs until the rollout ends, which only a "
        "canary's background analysis may do",
        "vane.yaml:12:13: rollouts[0].strategy.canary.steps[1].analysis: templates \"also-a\" and "
        "\"needs-x\" both have a metric \"a\""}},
      {"blueGreen analyses are not background", std::string(base) + R"(routes: [{name: r, rollout: ro}]
rollouts:
  - name: ro
    upstream: v
    strategy:
      blueGreen:
        prePromotionAnalysis: {templates: [{templateName: forever}]}
        postPromotionAnalysis: {templates: [{templateName: needs-x}, {templateName: needs-x}]}
)" + templates,
       {"vane.yaml:9:31: rollouts[0].strategy.blueGreen.prePromotionAnalysis: metric \"b\" of "
        "template \"forever\" has an interval and no count: it runs until the rollout ends, which "
        "only a canary's background analysis may do",
        "vane.yaml:10:32: rollouts[0].strategy.blueGreen.postPromotionAnalysis: template "
        "\"needs-x\" needs arg \"x\"",
        "vane.yaml:10:85: rollouts[0].strategy.blueGreen.postPromotionAnalysis.templates[1]"
        ".templateName: template \"needs-x\" is listed twice"}},
  });
}

}  // namespace
}  // namespace vane::config::test
