#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>

namespace vane::config {
namespace {

using std::chrono::milliseconds;

/// Every section of SPEC §2, with values that differ from the defaults.
constexpr const char* full_yaml = R"(
listeners:
  - name: public
    address: 0.0.0.0:8080
    tls: {certFile: tls.crt, keyFile: tls.key}
  - name: v6
    address: "[::]:8443"
    tls:
      certificates:
        - {certFile: a.crt, keyFile: a.key}
        - {certFile: b.crt, keyFile: b.key}
admin:
  address: 127.0.0.1:0
  tokenFile: admin.token
state:
  dir: /var/lib/vane
limits:
  maxRequestLineBytes: 4096
  maxRequestHeaderBytes: 32768
  maxRequestHeaders: 50
  maxRequestBodyBytes: 1048576
  requestHeaderTimeout: 5s
  requestBodyTimeout: 15s
  idleTimeout: 2m
  upgradedIdleTimeout: 90s
  maxMirrorBodyBytes: 65536
  maxMirrorInFlight: 16
workers: 2
upstreams:
  - name: shop-v1
    endpoints: ["10.0.0.1:8080", "shop-v1.default.svc:8080"]
    dnsRefresh: 10s
    connectTimeout: 250ms
    timeout: 1m
    maxConnectionsPerEndpoint: 64
    protocol: h2
    healthCheck: {path: /ready, interval: 2s, timeout: 500ms, unhealthyThreshold: 5, healthyThreshold: 1}
    retries: {attempts: 2, on: [connect-failure, reset, timeout, 5xx]}
  - name: shop-v2
    endpoints: ["https://[::1]:9443"]
    healthCheck: {}
    tls: {caFile: ca.pem, insecureSkipVerify: true, serverName: shop.internal}
routes:
  - name: shop
    match: {host: Shop.Example.COM, pathPrefix: /}
    rollout: shop
  - name: static
    match: {pathPrefix: /static}
    upstream: shop-v1
  - name: bg
    match: {host: bg.example.com}
    rollout: bg
  - name: bg-preview
    match: {host: preview.example.com}
    rollout: bg
rollouts:
  - name: shop
    upstream: shop-v2
    progressDeadlineSeconds: 120
    progressDeadlineAbort: true
    scaleDownDelaySeconds: 10
    strategy:
      canary:
        stickiness: {cookie: vane-bucket}
        shield: {on: [5xx, reset], timeout: 2s}
        steps:
          - setWeight: 12.5
          - pause: {duration: 1m}
          - pause: {duration: 30}
          - analysis:
              templates: [{templateName: success-rate}]
              args: [{name: threshold, value: "0.95"}]
          - setHeaderRoute:
              name: beta
              match:
                - headerName: X-Beta
                  headerValue: {exact: "yes"}
                - headerName: X-Group
                  headerValue: {prefix: "team-"}
                  method: {exact: GET}
                  path: {regex: "^/api/.*"}
          - setMirrorRoute:
              name: shadow
              percentage: 50
              match:
                - method: {exact: GET}
                  path: {prefix: /api}
                  headers: {X-Foo: {exact: bar}}
          - setHeaderRoute: {name: beta}
          - setWeight: 100
          - pause: {}
        analysis:
          templates: [{templateName: latency}]
          args: [{name: threshold, value: "0.99"}]
          startingStep: 1
  - name: bg
    upstream: shop-v1
    strategy:
      blueGreen:
        previewRoute: bg-preview
        autoPromotionEnabled: false
        autoPromotionSeconds: 30
        prePromotionAnalysis: {templates: [{templateName: smoke}], args: [{name: rev, value: v1}]}
        postPromotionAnalysis: {templates: [{templateName: success-rate}]}
        scaleDownDelaySeconds: 60
        abortScaleDownDelaySeconds: 5
analysisTemplates:
  - name: success-rate
    args: [{name: threshold, value: "0.99"}]
    metrics:
      - name: success-rate
        interval: 10s
        initialDelay: 5s
        count: 6
        successCondition: result >= {{args.threshold}}
        failureCondition: result < 0.9
        failureLimit: 1
        inconclusiveLimit: 2
        consecutiveErrorLimit: 3
        consecutiveSuccessLimit: 0
        provider:
          builtin: {metric: success-rate, window: 1m, minRequests: 50, target: stable}
    dryRun: [{metricName: success-rate}]
    measurementRetention: [{metricName: success-rate, limit: 20}]
  - name: latency
    args: [{name: threshold}]
    metrics:
      - name: p95
        interval: 30s
        failureLimit: -1
        consecutiveSuccessLimit: 3
        successCondition: result <= baseline * 1.2
        provider:
          prometheus:
            address: http://127.0.0.1:9090
            query: histogram_quantile(0.95, x) < {{args.threshold}}
            timeout: 5
            headers: [{key: Authorization, value: "Bearer t"}]
  - name: smoke
    args: [{name: rev}]
    metrics:
      - name: smoke
        provider:
          web:
            url: http://checks.internal/smoke?rev={{ args.rev }}
            method: POST
            headers: [{key: X-Check, value: "1"}]
            body: '{"a": 1}'
            timeoutSeconds: 3
            jsonPath: $.data.ok
)";

std::shared_ptr<const Config> load_ok(std::string_view yaml) {
  LoadResult result = load_string(yaml, "vane.yaml");
  for (const Error& e : result.errors) ADD_FAILURE() << e.to_string();
  return result.config;
}

TEST(Loader, FullFileListenersAdminLimits) {
  const auto c = load_ok(full_yaml);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->file, "vane.yaml");
  ASSERT_EQ(c->listeners.size(), 2u);
  EXPECT_EQ(c->listeners[0].name, "public");
  EXPECT_EQ(c->listeners[0].host, "0.0.0.0");
  EXPECT_EQ(c->listeners[0].port, 8080);
  ASSERT_TRUE(c->listeners[0].tls);
  ASSERT_EQ(c->listeners[0].tls->certificates.size(), 1u);
  EXPECT_EQ(c->listeners[0].tls->certificates[0].key_file, "tls.key");
  EXPECT_EQ(c->listeners[0].mark.line, 3);
  EXPECT_EQ(c->listeners[0].mark.column, 5);
  EXPECT_EQ(c->listeners[1].address, "[::]:8443");
  EXPECT_EQ(c->listeners[1].host, "::");
  EXPECT_EQ(c->listeners[1].port, 8443);
  ASSERT_EQ(c->listeners[1].tls->certificates.size(), 2u);
  EXPECT_EQ(c->listeners[1].tls->certificates[1].cert_file, "b.crt");

  EXPECT_EQ(c->admin.port, 0);
  EXPECT_EQ(c->admin.token_file, "admin.token");
  EXPECT_EQ(c->state.dir, "/var/lib/vane");
  EXPECT_EQ(c->limits.max_request_line_bytes, 4096u);
  EXPECT_EQ(c->limits.max_request_header_bytes, 32768u);
  EXPECT_EQ(c->limits.max_request_headers, 50u);
  EXPECT_EQ(c->limits.max_request_body_bytes, 1048576u);
  EXPECT_EQ(c->limits.request_header_timeout, milliseconds{5'000});
  EXPECT_EQ(c->limits.request_body_timeout, milliseconds{15'000});
  EXPECT_EQ(c->limits.idle_timeout, milliseconds{120'000});
  EXPECT_EQ(c->limits.upgraded_idle_timeout, milliseconds{90'000});
  EXPECT_EQ(c->limits.max_mirror_body_bytes, 65536u);
  EXPECT_EQ(c->limits.max_mirror_in_flight, 16u);
  EXPECT_EQ(c->workers, 2u);
}

TEST(Loader, FullFileUpstreamsAndRoutes) {
  const auto c = load_ok(full_yaml);
  ASSERT_TRUE(c);
  const Upstream* v1 = c->find_upstream("shop-v1");
  ASSERT_TRUE(v1);
  ASSERT_EQ(v1->endpoints.size(), 2u);
  EXPECT_EQ(v1->endpoints[1].host, "shop-v1.default.svc");
  EXPECT_EQ(v1->endpoints[1].port, 8080);
  EXPECT_FALSE(v1->endpoints[1].tls);
  EXPECT_EQ(v1->dns_refresh, milliseconds{10'000});
  EXPECT_EQ(v1->connect_timeout, milliseconds{250});
  EXPECT_EQ(v1->timeout, milliseconds{60'000});
  EXPECT_EQ(v1->max_connections_per_endpoint, 64u);
  EXPECT_EQ(v1->protocol, Protocol::H2);
  ASSERT_TRUE(v1->health_check);
  EXPECT_EQ(v1->health_check->path, "/ready");
  EXPECT_EQ(v1->health_check->timeout, milliseconds{500});
  EXPECT_EQ(v1->health_check->unhealthy_threshold, 5u);
  EXPECT_EQ(v1->retries.attempts, 2u);
  EXPECT_EQ(v1->retries.on.size(), 4u);

  const Upstream* v2 = c->find_upstream("shop-v2");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->endpoints[0].text, "https://[::1]:9443");
  EXPECT_EQ(v2->protocol, Protocol::Http1);  // the default
  EXPECT_EQ(v2->endpoints[0].host, "::1");
  EXPECT_TRUE(v2->endpoints[0].tls);
  ASSERT_TRUE(v2->health_check);  // {} = every default
  EXPECT_EQ(v2->health_check->path, "/healthz");
  EXPECT_EQ(v2->health_check->interval, milliseconds{5'000});
  ASSERT_TRUE(v2->tls);
  EXPECT_TRUE(v2->tls->insecure_skip_verify);
  EXPECT_EQ(v2->tls->server_name, "shop.internal");
  EXPECT_EQ(c->find_upstream("nope"), nullptr);

  ASSERT_EQ(c->routes.size(), 4u);
  EXPECT_EQ(c->routes[0].match.host, "shop.example.com");
  EXPECT_EQ(c->routes[0].rollout, "shop");
  EXPECT_EQ(c->routes[1].match.host, "");
  EXPECT_EQ(c->routes[1].match.path_prefix, "/static");
  EXPECT_EQ(c->routes[1].upstream, "shop-v1");
  EXPECT_EQ(c->routes[2].match.path_prefix, "/");
}

TEST(Loader, FullFileCanarySteps) {
  const auto c = load_ok(full_yaml);
  ASSERT_TRUE(c);
  const Rollout* r = c->find_rollout("shop");
  ASSERT_TRUE(r && r->canary && !r->blue_green);
  EXPECT_EQ(r->progress_deadline_seconds, 120u);
  EXPECT_TRUE(r->progress_deadline_abort);
  EXPECT_EQ(r->scale_down_delay_seconds, 10u);
  const auto& steps = r->canary->steps;
  ASSERT_EQ(steps.size(), 9u);
  EXPECT_EQ(steps[0].kind, Step::Kind::SetWeight);
  EXPECT_EQ(steps[0].weight_centi, 1250u);
  EXPECT_EQ(steps[1].pause.duration, milliseconds{60'000});
  EXPECT_EQ(steps[2].pause.duration, milliseconds{30'000});
  EXPECT_EQ(steps[3].kind, Step::Kind::Analysis);
  EXPECT_EQ(steps[3].analysis.templates[0].template_name, "success-rate");
  EXPECT_EQ(steps[3].analysis.args[0].value, "0.95");

  const HeaderRouteStep& beta = steps[4].header_route;
  EXPECT_EQ(beta.name, "beta");
  ASSERT_EQ(beta.match.size(), 2u);
  ASSERT_EQ(beta.match[0].headers.size(), 1u);
  EXPECT_EQ(beta.match[0].headers[0].name, "X-Beta");
  EXPECT_EQ(beta.match[0].headers[0].value.value, "yes");
  EXPECT_EQ(beta.match[1].headers[0].value.kind, StringMatch::Kind::Prefix);
  ASSERT_TRUE(beta.match[1].method && beta.match[1].path);
  EXPECT_EQ(beta.match[1].path->kind, StringMatch::Kind::Regex);
  EXPECT_EQ(beta.match[1].path->value, "^/api/.*");

  const MirrorRouteStep& shadow = steps[5].mirror_route;
  EXPECT_EQ(steps[5].kind, Step::Kind::SetMirrorRoute);
  EXPECT_DOUBLE_EQ(shadow.percentage, 50.0);
  ASSERT_EQ(shadow.match.size(), 1u);
  EXPECT_EQ(shadow.match[0].method->value, "GET");
  EXPECT_EQ(shadow.match[0].path->kind, StringMatch::Kind::Prefix);
  EXPECT_EQ(shadow.match[0].headers[0].name, "X-Foo");

  EXPECT_EQ(steps[6].kind, Step::Kind::SetHeaderRoute);
  EXPECT_TRUE(steps[6].header_route.match.empty());  // removes the route
  EXPECT_EQ(steps[7].weight_centi, 10000u);
  EXPECT_EQ(steps[8].kind, Step::Kind::Pause);
  EXPECT_FALSE(steps[8].pause.duration);  // wait for promote

  EXPECT_EQ(r->canary->stickiness->cookie, "vane-bucket");
  EXPECT_EQ(r->canary->shield->on.size(), 2u);
  EXPECT_EQ(r->canary->shield->timeout, milliseconds{2'000});
  ASSERT_TRUE(r->canary->analysis);
  EXPECT_EQ(r->canary->analysis->starting_step, 1u);
}

TEST(Loader, FullFileBlueGreen) {
  const auto c = load_ok(full_yaml);
  ASSERT_TRUE(c);
  const Rollout* r = c->find_rollout("bg");
  ASSERT_TRUE(r && r->blue_green && !r->canary);
  const BlueGreenStrategy& bg = *r->blue_green;
  EXPECT_EQ(bg.preview_route, "bg-preview");
  EXPECT_FALSE(bg.auto_promotion_enabled);
  EXPECT_EQ(bg.auto_promotion_seconds, 30u);
  ASSERT_TRUE(bg.pre_promotion_analysis && bg.post_promotion_analysis);
  EXPECT_EQ(bg.pre_promotion_analysis->templates[0].template_name, "smoke");
  EXPECT_EQ(bg.scale_down_delay_seconds, std::optional<uint32_t>(60));
  EXPECT_EQ(bg.abort_scale_down_delay_seconds, 5u);
  EXPECT_EQ(r->progress_deadline_seconds, 600u);
}

TEST(Loader, BlueGreenDefaults) {
  const auto c = load_ok(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, rollout: ro}]
rollouts:
  - name: ro
    upstream: u
    scaleDownDelaySeconds: 12
    strategy: {blueGreen: {}}
)");
  ASSERT_TRUE(c);
  const Rollout& r = c->rollouts.at(0);
  ASSERT_TRUE(r.blue_green && !r.canary);
  const BlueGreenStrategy& bg = *r.blue_green;
  EXPECT_EQ(bg.preview_route, "");
  EXPECT_TRUE(bg.auto_promotion_enabled);
  EXPECT_EQ(bg.auto_promotion_seconds, 0u);
  EXPECT_FALSE(bg.pre_promotion_analysis.has_value());
  EXPECT_FALSE(bg.post_promotion_analysis.has_value());
  EXPECT_FALSE(bg.scale_down_delay_seconds.has_value());  // the rollout's 12 s apply
  EXPECT_EQ(r.scale_down_delay_seconds, 12u);
  EXPECT_EQ(bg.abort_scale_down_delay_seconds, 30u);
}

TEST(Loader, FullFileTemplates) {
  const auto c = load_ok(full_yaml);
  ASSERT_TRUE(c);
  const AnalysisTemplate* sr = c->find_template("success-rate");
  ASSERT_TRUE(sr);
  ASSERT_EQ(sr->metrics.size(), 1u);
  const Metric& m = sr->metrics[0];
  EXPECT_EQ(m.interval, milliseconds{10'000});
  EXPECT_EQ(m.initial_delay, milliseconds{5'000});
  EXPECT_EQ(m.count, 6u);
  EXPECT_EQ(m.success_condition, "result >= {{args.threshold}}");
  EXPECT_EQ(m.success_condition_mark.line, 115);
  EXPECT_EQ(m.success_condition_mark.column, 27);
  EXPECT_EQ(m.failure_limit, 1);
  EXPECT_EQ(m.inconclusive_limit, 2);
  EXPECT_EQ(m.consecutive_error_limit, 3);
  ASSERT_TRUE(m.builtin && !m.prometheus && !m.web);
  EXPECT_EQ(m.builtin->window, milliseconds{60'000});
  EXPECT_EQ(m.builtin->min_requests, 50u);
  EXPECT_EQ(m.builtin->target, "stable");
  EXPECT_EQ(sr->dry_run, std::vector<std::string>{"success-rate"});
  EXPECT_EQ(sr->measurement_retention[0].limit, 20u);

  const Metric& p95 = c->find_template("latency")->metrics[0];
  EXPECT_FALSE(c->find_template("latency")->args[0].value);
  EXPECT_FALSE(p95.count);
  EXPECT_EQ(p95.failure_limit, -1);
  EXPECT_EQ(p95.prometheus->timeout_seconds, 5u);
  EXPECT_EQ(p95.prometheus->headers[0].value, "Bearer t");

  const Metric& smoke = c->find_template("smoke")->metrics[0];
  EXPECT_EQ(smoke.web->method, "POST");
  EXPECT_EQ(smoke.web->body, "{\"a\": 1}");
  EXPECT_EQ(smoke.web->timeout_seconds, 3u);
  EXPECT_EQ(smoke.web->json_path, "$.data.ok");
  EXPECT_EQ(smoke.failure_limit, 0);  // Argo defaults
  EXPECT_EQ(smoke.consecutive_error_limit, 4);
}

TEST(Loader, ExternalChecksReportAtTheValue) {
  ExternalChecks checks;
  checks.regex = [](std::string_view p) { return p == "(" ? std::string("missing )") : ""; };
  checks.condition = [](std::string_view e) {
    return e.find("@") != std::string_view::npos ? std::string("unexpected '@'") : "";
  };
  const LoadResult result = load_string(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
analysisTemplates:
  - name: t
    metrics:
      - name: m
        successCondition: result @ 1
        provider: {builtin: {metric: success-rate}}
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, rollout: ro}]
rollouts:
  - name: ro
    upstream: u
    strategy:
      canary:
        steps:
          - setHeaderRoute: {name: h, match: [{headerName: X-A, headerValue: {regex: "("}}]}
)",
                                        "v.yaml", checks);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].to_string(),
            "v.yaml:6:27: analysisTemplates[0].metrics[0].successCondition: unexpected '@'");
  EXPECT_EQ(result.errors[1].to_string(),
            "v.yaml:16:86: rollouts[0].strategy.canary.steps[0].setHeaderRoute.match[0]"
            ".headerValue.regex: missing )");
  EXPECT_FALSE(result.config);
}

TEST(Loader, TlsFileChecksReportAtCertFileKeyFileAndCaFile) {
  ExternalChecks checks;
  std::vector<std::string> key_checks;
  checks.certificate = [](const std::string& f) { return f == "bad.crt" ? "bad cert" : ""; };
  checks.private_key = [&](const std::string& cert, const std::string& key) {
    key_checks.push_back(cert + "+" + key);
    return key == "other.key" ? std::string("key mismatch") : "";
  };
  checks.ca_file = [](const std::string& f) { return f == "bad-ca.pem" ? "bad CA" : ""; };
  const LoadResult result = load_string(R"(listeners:
  - name: a
    address: "127.0.0.1:0"
    tls: {certFile: bad.crt, keyFile: a.key}
  - name: b
    address: "127.0.0.1:0"
    tls:
      certificates:
        - {certFile: b.crt, keyFile: b.key}
        - {certFile: c.crt, keyFile: other.key}
upstreams:
  - {name: u, endpoints: ["https://127.0.0.1:1"], tls: {caFile: bad-ca.pem}}
routes: [{name: r, upstream: u}]
)",
                                        "v.yaml", checks);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_EQ(result.errors[0].to_string(), "v.yaml:4:21: listeners[0].tls.certFile: bad cert");
  EXPECT_EQ(result.errors[1].to_string(),
            "v.yaml:10:38: listeners[1].tls.certificates[1].keyFile: key mismatch");
  EXPECT_EQ(result.errors[2].to_string(), "v.yaml:12:65: upstreams[0].tls.caFile: bad CA");
  // The key is checked only against a certificate that passed.
  EXPECT_EQ(key_checks, (std::vector<std::string>{"b.crt+b.key", "c.crt+other.key"}));
}

TEST(Loader, LoadFileUsesThePathAsGiven) {
  const std::string path = ::testing::TempDir() + "vane_loader_test.yaml";
  {
    std::ofstream out(path);
    out << "listeners: [{name: l, address: \"127.0.0.1:0\"}]\nworkers: 0\n";
  }
  const LoadResult result = load_file(path);
  std::remove(path.c_str());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(), path + ":2:10: workers: must be at least 1");
}

// Found by tests/fuzz/config_fuzz: YAML::LoadAll (yaml-cpp 0.7) looped for ever, allocating, on a
// token where no node may start; a reload of such a file ran the process out of memory. The parser
// is libyaml's now; the case stays.
TEST(Loader, AStrayCommaIsASyntaxErrorNotAnEndlessLoop) {
  for (const auto& [yaml, where] : {std::pair{",", "vane.yaml:1:1: "},
                                    std::pair{"workers: 1\n---\n,\n", "vane.yaml:3:1: "}}) {
    const LoadResult result = load_string(yaml, "vane.yaml");
    ASSERT_EQ(result.errors.size(), 1u) << yaml;
    EXPECT_EQ(result.errors[0].to_string(),
              std::string(where) +
                  "YAML syntax error: while parsing a block node: did not find expected node content");
    EXPECT_FALSE(result.config);
  }
}

TEST(Loader, MissingFileIsOneErrorWithoutPosition) {
  const LoadResult result = load_file("/nonexistent/vane.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_EQ(result.errors[0].to_string().rfind("/nonexistent/vane.yaml: cannot read the file", 0),
            0u);
  EXPECT_FALSE(result.config);
}

}  // namespace
}  // namespace vane::config
