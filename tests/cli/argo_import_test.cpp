// `vane import argo` (SPEC §13) on real Argo Rollouts example files and on fixtures of the same
// shapes: the notes it prints, key parts of the config it writes, and that config loaded and
// validated by vane's own loader (with the checks `vane validate` uses) without an error.
#include "cli/argo_import.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "control/config_checks.hpp"

namespace vane::cli::argo {
namespace {

SourceFile fixture(const std::string& name) {
  std::ifstream in(std::string(VANE_ARGO_FIXTURES) + "/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return SourceFile{name, text.str()};
}

ImportResult import_files(const std::vector<std::string>& names) {
  std::vector<SourceFile> files;
  for (const auto& name : names) files.push_back(fixture(name));
  return import_argo(files, control::config_checks());
}

std::string all_notes(const ImportResult& r) {
  std::string text;
  for (const Note& note : r.notes) text += note.to_string() + "\n";
  return text;
}

/// `note`, a whole note line, is among the notes of `r`.
void expect_note(const ImportResult& r, const std::string& note) {
  const std::string notes = all_notes(r);
  EXPECT_NE(notes.find(note + "\n"), std::string::npos) << note << "\nin:\n" << notes;
}

/// The written config loads and validates with no error; its parsed form.
std::shared_ptr<const config::Config> expect_valid(const ImportResult& r) {
  const auto loaded = config::load_string(r.config, "imported.yaml", control::config_checks());
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.to_string() << "\n" << r.config;
  return loaded.config;
}

struct Case {
  std::vector<std::string> files;
  std::vector<std::string> notes;   ///< each a whole note line
  std::vector<std::string> config;  ///< each a part of the written config
};

class ArgoImportTable : public ::testing::TestWithParam<Case> {};

TEST_P(ArgoImportTable, NotesConfigAndValidation) {
  const Case& c = GetParam();
  const ImportResult r = import_files(c.files);
  ASSERT_FALSE(r.config.empty()) << all_notes(r);
  for (const auto& note : c.notes) expect_note(r, note);
  for (const auto& part : c.config) EXPECT_NE(r.config.find(part), std::string::npos) << part << "\nin:\n" << r.config;
  EXPECT_TRUE(expect_valid(r));
}

constexpr const char* kPods = "vane routes requests between Services; it does not run pods";

INSTANTIATE_TEST_SUITE_P(
    Examples, ArgoImportTable,
    ::testing::Values(
        // Argo's own examples/ (tests/cli/argo/examples).
        Case{{"examples/rollout-analysis-step.yaml"},
             {std::string("examples/rollout-analysis-step.yaml:11: Rollout/rollout-analysis-step.spec.replicas: not imported: ") + kPods,
              "examples/rollout-analysis-step.yaml:27: Rollout/rollout-analysis-step.spec.strategy: not imported: names no "
              "stable (or active) Service: the desired upstream is named after the Rollout",
              "examples/rollout-analysis-step.yaml:35: Rollout/rollout-analysis-step.spec.strategy.canary.steps[1].analysis: "
              "not imported: left out: AnalysisTemplate random-fail is not among the imported templates; "
              "ClusterAnalysisTemplate always-pass is not among the imported templates"},
             {"endpoints: [\"rollout-analysis-step.default.svc:80\"]", "match: {pathPrefix: /}\n    rollout: rollout-analysis-step",
              "        steps:\n          - setWeight: 25\n"}},
        Case{{"examples/rollout-bluegreen.yaml"},
             {std::string("examples/rollout-bluegreen.yaml:13: Rollout/rollout-bluegreen.spec.template: not imported: ") + kPods},
             {"upstream: rollout-bluegreen-active  # the active Service; set rollout-bluegreen-preview to release it",
              "endpoints: [\"rollout-bluegreen-preview.default.svc:80\"]",
              "match: {host: rollout-bluegreen-preview, pathPrefix: /}",
              "      blueGreen:\n        previewRoute: rollout-bluegreen-preview\n        autoPromotionEnabled: false\n"}},
        Case{{"examples/istio-mirror.yaml"},
             {std::string("examples/istio-mirror.yaml:70: Rollout/istio-host-split.spec.strategy.canary.steps[0].setCanaryScale: not imported: ") + kPods,
              "examples/istio-mirror.yaml:103: Gateway/istio-host-split-gateway: not imported: kind Gateway has no counterpart in vane"},
             {"match: {host: istio-host-split.com, pathPrefix: /}",
              "          - setMirrorRoute:\n              name: mirror-route\n              percentage: 50\n              match:\n"
              "                - method: {exact: POST}\n                  path: {prefix: /color}\n          - pause: {}\n",
              "upstream: istio-host-split-stable  # the stable Service; set istio-host-split-canary to release it"}},
        Case{{"examples/apisix-rollout.yaml"},
             {std::string("examples/apisix-rollout.yaml:20: Rollout/rollout-apisix-canary.spec.strategy.canary.steps[0].setCanaryScale: not imported: ") + kPods,
              "examples/apisix-rollout.yaml:10: Rollout/rollout-apisix-canary.spec.strategy.canary.stableService: not imported: "
              "Service rollout-apisix-canary-stable is not among the files: its upstream gets port 80"},
             {"          - setHeaderRoute:\n              name: set-header\n              match:\n                - headerName: trace\n"
              "                  headerValue: {exact: debug}\n          - pause: {}\n          - setWeight: 20\n",
              "          - pause: {duration: 15s}\n"}},
        Case{{"examples/appmesh-canary-rollout.yaml"},
             {},
             {"endpoints: [\"my-svc-stable.argo-examples.svc:80\"]", "    args:\n      - name: envoy_cluster_name\n",
              "        interval: 5m\n        successCondition: result[0] >= 0.99\n        failureLimit: 3\n",
              "            query: |\n              sum(irate(envoy_cluster_upstream_rq_xx{app=\"wrk-tester\","
              "envoy_cluster_name=\"{{args.envoy_cluster_name}}\"",
              "          - pause: {duration: 10m}\n"}},
        // Fixtures of the same shapes.
        Case{{"canary-ingress.yaml"},
             {"canary-ingress.yaml:35: Ingress/shop.spec.tls: not imported: TLS is set on vane's listeners (certFile, keyFile), not per Ingress",
              "canary-ingress.yaml:57: Ingress/shop.spec.rules[0].http.paths[2].pathType: not imported: an Exact path is imported as a prefix",
              "canary-ingress.yaml:63: Ingress/shop.spec.rules[0].http.paths[3].path: not imported: a regular-expression path: vane routes by path prefix",
              "canary-ingress.yaml:113: Rollout/shop.spec.strategy.canary.steps[4].analysis: not imported: left out: template smoke needs "
              "arg token, which has no imported value",
              "canary-ingress.yaml:120: Rollout/shop.spec.strategy.canary.steps[4].analysis.args[1].valueFrom: not imported: a value from "
              "a Secret or a field of the Rollout: give the arg a value by hand",
              "canary-ingress.yaml:124: Rollout/shop.spec.strategy.canary.steps[5].experiment: not imported: experiment steps are not "
              "imported (write a vane experiment step by hand)",
              "canary-ingress.yaml:131: Rollout/shop.spec.strategy.canary.steps[8].pause.duration: not imported: not a duration vane "
              "reads ('soon'): the pause is left out",
              "canary-ingress.yaml:160: AnalysisTemplate/success-rate.spec.metrics[0].provider.prometheus.insecure: not imported: TLS "
              "verification of a provider cannot be turned off",
              "canary-ingress.yaml:177: AnalysisTemplate/success-rate.spec.metrics[2].provider.job: not imported: the job provider runs "
              "a pod; vane's exec provider runs a local command, written by hand",
              "canary-ingress.yaml:200: AnalysisTemplate/smoke.spec.args[1].valueFrom: not imported: a value from a Secret or a field "
              "of the Rollout: give the arg a value by hand"},
             {"endpoints: [\"shop-stable.store.svc:8080\"]", "endpoints: [\"shop-canary.store.svc:8081\"]",
              "match: {host: shop.example.com, pathPrefix: /api}\n    rollout: shop",
              "match: {host: shop.example.com, pathPrefix: /static}\n    upstream: assets",
              "    progressDeadlineSeconds: 300\n    progressDeadlineAbort: true\n    scaleDownDelaySeconds: 60\n",
              // steps 0 (setCanaryScale), 4 (analysis), 5 (experiment) and 8 are left out: startingStep 2 → 1
              "          - setWeight: 10\n          - pause: {duration: 1h}\n          - setWeight: 30\n          - setWeight: 60\n"
              "          - pause: {duration: 1m30s}\n        analysis:\n          templates: [{templateName: success-rate}]\n"
              "          args:\n            - name: service-name\n              value: \"shop-canary.store.svc.cluster.local\"\n"
              "          startingStep: 1\n",
              "            address: http://prometheus.monitoring:{{args.prometheus-port}}\n",
              "    dryRun:\n      - metricName: latency\n",
              "    measurementRetention:\n      - metricName: success-rate\n        limit: 20\n      - metricName: latency\n",
              "            jsonPath: $.status\n"}},
        Case{{"bluegreen-ingress.yaml"},
             {std::string("bluegreen-ingress.yaml:50: Rollout/checkout.spec.strategy.blueGreen.previewReplicaCount: not imported: ") + kPods,
              "bluegreen-ingress.yaml:116: ConfigMap/checkout-settings: not imported: kind ConfigMap has no counterpart in vane"},
             {"    match: {host: preview.checkout.example.com, pathPrefix: /}\n    rollout: checkout\n",
              "        previewRoute: checkout-preview\n        autoPromotionSeconds: 120\n        prePromotionAnalysis:\n"
              "          templates: [{templateName: smoke-test}]\n",
              "        postPromotionAnalysis:\n          templates: [{templateName: error-rate}]\n        scaleDownDelaySeconds: 45\n",
              "            method: POST\n            body: \"{\\\"check\\\": \\\"all\\\"}\"\n            jsonPath: $.result\n",
              "  # ClusterAnalysisTemplate/smoke-test (bluegreen-ingress.yaml:3)\n"}},
        Case{{"header-routes.yaml"},
             {"header-routes.yaml:30: Rollout/reviews.spec.strategy.canary.steps[1].setHeaderRoute: not imported: no match entry "
              "could be imported: the step is left out"},
             {"match: {host: \"*.reviews.example.com\", pathPrefix: /}",
              "                - headerName: User-Agent\n                  headerValue: {regex: .*Android.*}\n",
              "                  headers:\n                    X-Region: {prefix: eu-}\n",
              "          - setHeaderRoute:\n              name: beta\n          - setMirrorRoute:\n              name: shadow\n"}},
        Case{{"secret-web.yaml"},
             {"secret-web.yaml:13: Rollout/catalog.spec.strategy.canary.analysis: not imported: left out: template status-page "
              "needs arg samples, which has no imported value",
              "secret-web.yaml:14: Rollout/catalog.spec.strategy.canary.analysis.name: not imported: vane names analysis runs itself",
              "secret-web.yaml:19: Rollout/catalog.spec.strategy.canary.steps[1].analysis: not imported: left out: template "
              "remote-check needs arg check-url, which has no imported value",
              "secret-web.yaml:24: Secret/check-endpoint: not imported: kind Secret has no counterpart in vane",
              "secret-web.yaml:68: AnalysisTemplate/status-page.spec.metrics[0].count: not imported: uses an arg without a value "
              "in the template: left at its default"},
             {"          - setWeight: 40\n          - pause: {duration: 30s}\n\n",
              // count and interval take the template's arg values; maxFailures is Argo's old failureLimit
              "      - name: remote\n        interval: 10s\n        count: 3\n",
              "            url: \"{{args.check-url}}\"\n            jsonPath: $.state\n",
              "      - name: status\n        interval: 20s\n        successCondition: result.up\n        failureLimit: 2\n"}},
        Case{{"subset-split.yaml"},
             {"subset-split.yaml:26: DestinationRule/ratings-versions: not imported: kind DestinationRule has no counterpart in vane",
              "subset-split.yaml:50: Rollout/ratings.spec.strategy.canary.trafficRouting.istio.destinationRule: not imported: stable "
              "and canary as subsets of one Service: vane needs a Service (an upstream) per version",
              std::string("subset-split.yaml:73: Rollout/details.spec.workloadRef: not imported: ") + kPods},
             {"  - name: ratings\n    endpoints: [\"ratings.default.svc:9080\"]\n",
              "    match: {host: ratings, pathPrefix: /}\n    rollout: ratings\n",
              "    match: {pathPrefix: /}\n    rollout: details\n"}}));

TEST(ArgoImport, SeveralFilesMakeOneConfig) {
  const ImportResult r = import_files({"canary-ingress.yaml", "bluegreen-ingress.yaml", "examples/rollout-bluegreen.yaml"});
  const auto config = expect_valid(r);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->rollouts.size(), 3u);
  // The notes come in the order of the files, then of lines.
  ASSERT_FALSE(r.notes.empty());
  EXPECT_EQ(r.notes.front().file, "canary-ingress.yaml");
  EXPECT_EQ(r.notes.back().file, "examples/rollout-bluegreen.yaml");
}

TEST(ArgoImport, TwoRolloutsWithoutIngressGetDistinctRoutes) {
  const ImportResult r = import_files({"examples/rollout-analysis-step.yaml", "examples/appmesh-canary-rollout.yaml"});
  const auto config = expect_valid(r);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->routes.size(), 2u);
  EXPECT_EQ(config->routes[0].match.host, "");
  EXPECT_EQ(config->routes[1].match.host, "my-rollout");
}

TEST(ArgoImport, NothingImportableWritesNothing) {
  const ImportResult r = import_argo({SourceFile{"cm.yaml", "kind: ConfigMap\nmetadata: {name: x}\n"},
                                      SourceFile{"bad.yaml", "kind: [\n"}});
  EXPECT_TRUE(r.config.empty());
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_EQ(r.notes[0].to_string(), "cm.yaml:1: ConfigMap/x: not imported: kind ConfigMap has no counterpart in vane");
  EXPECT_EQ(r.notes[1].file, "bad.yaml");
  EXPECT_EQ(r.notes[1].path, "document");  // a note always names what it is about
  EXPECT_NE(r.notes[1].reason.find("not valid YAML"), std::string::npos);
}

TEST(ArgoImport, ConditionsVaneCannotReadLeaveTheMetricOut) {
  const ImportResult r = import_argo({SourceFile{"t.yaml", R"(kind: AnalysisTemplate
metadata: {name: t}
spec:
  metrics:
    - name: good
      successCondition: result > 1
      provider: {prometheus: {address: "http://p:9090", query: up}}
    - name: bad
      successCondition: result >>> 1
      provider: {prometheus: {address: "http://p:9090", query: up}}
    - name: other-placeholder
      successCondition: result > {{ metrics.x }}
      provider: {prometheus: {address: "http://p:9090", query: up}}
    - name: unclosed
      provider:
        web: {url: "http://h/{{args.x"}
)"}}, control::config_checks());
  expect_note(r, "t.yaml:9: AnalysisTemplate/t.spec.metrics[1].successCondition: not imported: a condition vane cannot "
                 "read (column 9: unexpected \">\"): the metric is left out");
  expect_note(r, "t.yaml:12: AnalysisTemplate/t.spec.metrics[2].successCondition: not imported: unknown placeholder "
                 "\"{{metrics.x}}\": only {{args.NAME}} is supported: the metric is left out");
  expect_note(r, "t.yaml:16: AnalysisTemplate/t.spec.metrics[3].provider.web.url: not imported: \"{{\" without a "
                 "closing \"}}\": the metric is left out");
  const auto config = expect_valid(r);
  ASSERT_TRUE(config);
  ASSERT_EQ(config->analysis_templates.size(), 1u);
  ASSERT_EQ(config->analysis_templates[0].metrics.size(), 1u);
  EXPECT_EQ(config->analysis_templates[0].metrics[0].name, "good");
}

// Documents of the wrong shape anywhere: noted, never a crash, and what can be imported still is.
TEST(ArgoImport, HostileShapesAreNotedNotFatal) {
  const ImportResult r = import_argo({SourceFile{"h.yaml", R"(kind: Rollout
metadata: {name: a}
spec: [1, 2]
---
kind: Rollout
metadata: {name: b}
spec:
  strategy:
    canary:
      stableService: {x: 1}
      steps: {setWeight: 5}
      analysis: [1]
---
kind: Rollout
metadata: {name: c}
spec:
  strategy:
    canary:
      steps:
        - setWeight: 250
        - setWeight: ten
        - pause: {duration: [1]}
        - [nested]
        - setHeaderRoute: {match: [{headerName: X}]}
        - setMirrorRoute: {name: m, match: [{}, {method: {glob: x}}]}
---
kind: Rollout
metadata: {name: d}
spec: {strategy: {canary: {analysis: {templates: [{templateName: bg}], startingStep: 3}}}}
---
kind: AnalysisTemplate
metadata: {name: bg}
spec: {metrics: [{name: up, interval: 5s, provider: {prometheus: {address: "http://p:9090", query: up}}}]}
---
kind: [Rollout]
---
"just text"
---
kind: Ingress
metadata: {name: i}
spec: {rules: [{http: {paths: [{path: [1], backend: {service: {name: {}}}}]}}, 7]}
---
kind: AnalysisTemplate
metadata: {name: t}
spec: {metrics: [{name: [x], provider: {web: {}}}, {provider: {}}, 3]}
)"}}, control::config_checks());
  EXPECT_FALSE(r.notes.empty());
  const auto config = expect_valid(r);
  ASSERT_TRUE(config) << r.config;
  EXPECT_EQ(config->rollouts.size(), 3u);  // b, c and d; a has no strategy
  EXPECT_FALSE(config->rollouts[2].canary->analysis);  // startingStep 3 of no steps: left out, noted
}

// `kubectl get -A` output: Services of one name in two namespaces are two upstreams.
TEST(ArgoImport, SameServiceNameInTwoNamespacesIsTwoUpstreams) {
  const ImportResult r = import_argo({SourceFile{"all.yaml", R"(kind: Rollout
metadata: {name: shop, namespace: shop}
spec: {strategy: {canary: {stableService: web, canaryService: web-canary}}}
---
kind: Service
metadata: {name: web, namespace: shop}
spec: {ports: [{port: 8080}]}
---
kind: Service
metadata: {name: web-canary, namespace: shop}
spec: {ports: [{port: 8081}]}
---
kind: Rollout
metadata: {name: blog, namespace: blog}
spec: {strategy: {canary: {stableService: web, canaryService: web-canary}}}
---
kind: Service
metadata: {name: web-canary, namespace: blog}
spec: {ports: [{port: 9091}]}
)"}}, control::config_checks());
  expect_note(r, "all.yaml:15: Rollout/blog.spec.strategy.canary.stableService: not imported: upstream web is that of "
                 "shop/web: this one is named web-blog");
  expect_note(r, "all.yaml:15: Rollout/blog.spec.strategy.canary.stableService: not imported: Service web is not among "
                 "the files: its upstream gets port 80");
  EXPECT_NE(r.config.find("upstream: web-blog  # the stable Service; set web-canary-blog to release it"), std::string::npos)
      << r.config;
  const auto config = expect_valid(r);
  ASSERT_TRUE(config) << r.config;
  std::map<std::string, std::string> endpoints;
  for (const auto& u : config->upstreams) endpoints[u.name] = u.endpoints.at(0).text;
  EXPECT_EQ(endpoints, (std::map<std::string, std::string>{{"web", "web.shop.svc:8080"},
                                                           {"web-canary", "web-canary.shop.svc:8081"},
                                                           {"web-blog", "web.blog.svc:80"},
                                                           {"web-canary-blog", "web-canary.blog.svc:9091"}}));
  ASSERT_EQ(config->rollouts.size(), 2u);
  EXPECT_EQ(config->rollouts[1].upstream, "web-blog");
}

// A Service port vane cannot use (a name, out of range, none) is noted and port 80 written: the
// config still validates.
TEST(ArgoImport, BadServicePortIsNotedAndPort80Written) {
  const ImportResult r = import_argo({SourceFile{"p.yaml", R"(kind: Rollout
metadata: {name: a}
spec: {strategy: {canary: {stableService: named, canaryService: huge}}}
---
kind: Rollout
metadata: {name: b}
spec: {strategy: {blueGreen: {activeService: none}}}
---
kind: Service
metadata: {name: named}
spec:
  ports:
    - port: http
---
kind: Service
metadata: {name: huge}
spec: {ports: [{port: 70000}]}
---
kind: Service
metadata: {name: none}
spec: {type: ExternalName}
)"}}, control::config_checks());
  expect_note(r, "p.yaml:13: Service/named.spec.ports[0].port: not imported: expected a whole number from 1 to 65535, "
                 "not 'http': its upstream gets port 80");
  expect_note(r, "p.yaml:17: Service/huge.spec.ports[0].port: not imported: expected a whole number from 1 to 65535, "
                 "not '70000': its upstream gets port 80");
  expect_note(r, "p.yaml:19: Service/none: not imported: a Service without ports: its upstream gets port 80");
  const auto config = expect_valid(r);
  ASSERT_TRUE(config) << r.config;
  ASSERT_EQ(config->upstreams.size(), 3u);
  for (const auto& u : config->upstreams) EXPECT_EQ(u.endpoints.at(0).text, u.name + ".default.svc:80");
}

TEST(ArgoImport, StringsThatNeedQuotingReadBackTheSame) {
  const ImportResult r = import_argo({SourceFile{"q.yaml", R"(kind: AnalysisTemplate
metadata: {name: q}
spec:
  args:
    - name: "yes"
      value: "a: b # c"
  metrics:
    - name: "true"
      successCondition: 'result == "x: y" || result == "#"'
      provider:
        web:
          url: "http://h/?q={{args.yes}}"
          headers: [{key: X-A, value: "{{args.yes}}\t'\"\\"}]
)"}}, control::config_checks());
  const auto config = expect_valid(r);
  ASSERT_TRUE(config) << r.config;
  const auto& t = config->analysis_templates.at(0);
  EXPECT_EQ(t.args.at(0).name, "yes");
  EXPECT_EQ(t.args.at(0).value, "a: b # c");
  EXPECT_EQ(t.metrics.at(0).name, "true");
  EXPECT_EQ(t.metrics.at(0).success_condition, "result == \"x: y\" || result == \"#\"");
  EXPECT_EQ(t.metrics.at(0).web->headers.at(0).value, "{{args.yes}}\t'\"\\");
}

}  // namespace
}  // namespace vane::cli::argo
