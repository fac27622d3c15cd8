// The example file of SPEC §2 as written (plus the upstream and templates it refers to), and the
// defaults SPEC §2 promises when fields are left out.
#include <gtest/gtest.h>

#include "config/loader.hpp"

namespace vane::config {
namespace {

using std::chrono::milliseconds;

constexpr const char* spec_example = R"(listeners:
  - name: public
    address: 0.0.0.0:8080            # host:port, [::]:8080 for IPv6
    tls: {certFile: tls.crt, keyFile: tls.key}   # optional; TLS 1.2+ only
admin:
  address: 127.0.0.1:9901            # default; /metrics, /healthz, /readyz, /api/v1/…
  tokenFile: admin.token             # optional: POST endpoints then need "Authorization: Bearer <token>"
state:
  dir: ./vane-state                  # rollout progress survives restarts here (default ./vane-state)
limits:                              # defaults shown
  maxRequestLineBytes: 8192          # longer request line -> 414
  maxRequestHeaderBytes: 65536       # larger header section -> 431
  maxRequestHeaders: 100             # more header fields -> 431
  maxRequestBodyBytes: 10485760      # larger -> 413
  requestHeaderTimeout: 10s          # headers started but not complete in time -> 408 + close
  requestBodyTimeout: 30s            # body stalls this long -> 408 + close
  idleTimeout: 60s                   # keep-alive connection idle this long -> closed, no response
  maxMirrorBodyBytes: 1048576        # larger request bodies are not mirrored (counted)
  maxMirrorInFlight: 256             # per worker; further copies are dropped (counted)
workers: auto                        # worker threads; auto = number of cores
upstreams:
  - name: shop-v1
    endpoints: ["10.0.0.1:8080", "shop-v1.default.svc:8080"]   # names re-resolved every dnsRefresh
    dnsRefresh: 5s
    connectTimeout: 1s
    timeout: 30s                     # whole upstream request; -> 504
    maxConnectionsPerEndpoint: 1024
    healthCheck: {path: /healthz, interval: 5s, timeout: 1s, unhealthyThreshold: 3, healthyThreshold: 2}
    retries: {attempts: 1, on: [connect-failure, reset]}   # only idempotent methods are retried
  - name: shop-v2                    # added: the example's rollout wants it
    endpoints: ["10.0.0.2:8080"]
routes:
  - name: shop
    match: {host: shop.example.com, pathPrefix: /}   # host optional (any); longest prefix wins
    rollout: shop                    # or: upstream: NAME
rollouts:
  - name: shop
    upstream: shop-v2                # the desired version
    progressDeadlineSeconds: 600     # a step waiting this long for a healthy canary -> Degraded
    progressDeadlineAbort: false     # true: ... and aborted
    strategy:
      canary:
        stickiness: {cookie: vane-bucket}   # or {header: X-User-Id}; optional, see §3
        shield: {on: [5xx, connect-failure, reset, timeout], timeout: 1s}   # optional, see §3
        steps:
          - setWeight: 10            # 0..100, up to two decimals (0.01% precision)
          - pause: {duration: 1m}    # duration string or integer seconds; {} = wait for `promote`
          - analysis:
              templates: [{templateName: success-rate}]
              args: [{name: threshold, value: "0.99"}]
          - setHeaderRoute:          # these requests go to canary whatever the weight
              name: beta-testers
              match:
                - headerName: X-Beta
                  headerValue: {exact: "yes"}      # or {prefix: …} or {regex: …} (RE2 syntax)
          - setMirrorRoute:          # copy matching requests to canary; its responses are dropped
              name: shadow-get
              percentage: 50         # of matching requests
              match:
                - method: {exact: GET}
                  path: {prefix: /api}
                  headers: {X-Foo: {exact: bar}}
          - setWeight: 50
          - pause: {}
        analysis:                    # background analysis: runs from startingStep until the rollout ends
          templates: [{templateName: latency}]
          startingStep: 1
      # blueGreen:                   # instead of canary
      #   previewRoute: shop-preview # a route (declared with `rollout: shop`) that reaches the new version
      #   autoPromotionEnabled: true
      #   autoPromotionSeconds: 30
      #   prePromotionAnalysis: {templates: [{templateName: smoke}]}
      #   postPromotionAnalysis: {templates: [{templateName: success-rate}]}
      #   scaleDownDelaySeconds: 30  # old version stays warm for instant rollback
analysisTemplates:
  - name: success-rate
    args: [{name: threshold, value: "0.99"}]   # value optional = required arg
    metrics:
      - name: success-rate
        interval: 10s
        initialDelay: 5s
        count: 6                     # unset: one measurement without interval; with interval, until the rollout ends (background only)
        successCondition: result >= {{args.threshold}}
        failureCondition: result < 0.9
        failureLimit: 0              # Argo defaults: failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4
        inconclusiveLimit: 1
        consecutiveErrorLimit: 4
        consecutiveSuccessLimit: 0   # >0: succeed early after that many successes in a row
        provider:
          builtin: {metric: success-rate, window: 30s, minRequests: 50}
    dryRun: [{metricName: success-rate}]   # measured and reported, never fails the run
    measurementRetention: [{metricName: success-rate, limit: 20}]   # default: last 10 kept
  - name: latency                      # added: used by the example's background analysis
    metrics:
      - name: p95
        interval: 30s
        successCondition: result <= baseline * 1.2
        provider:
          builtin: {metric: latency-p95, window: 30s, minRequests: 20, target: canary}   # minRequests default 1
  - name: prometheus
    args: [{name: token}]
    metrics:
      - name: canary-success
        count: 1
        provider:
          prometheus:
            address: http://127.0.0.1:9090
            query: sum(rate(vane_requests_total{rollout="shop",target="canary",code_class!="5xx"}[1m])) / sum(rate(vane_requests_total{rollout="shop",target="canary"}[1m]))
            timeout: 30                      # seconds
            headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
  - name: web
    args: [{name: rev}]
    metrics:
      - name: smoke
        provider:
          web:
            url: http://checks.internal/smoke?rev={{args.rev}}
            method: POST                     # GET (default), POST, PUT
            headers: [{key: X-Check, value: "1"}]
            body: '{"a": 1}'                 # not with GET
            timeoutSeconds: 10               # default
            jsonPath: $.data.ok              # default $ (the whole body); a non-JSON body is a string result
)";

std::shared_ptr<const Config> load_ok(std::string_view yaml) {
  LoadResult result = load_string(yaml, "vane.yaml");
  for (const Error& e : result.errors) ADD_FAILURE() << e.to_string();
  return result.config;
}

TEST(SpecExample, LoadsWithTheValuesShown) {
  const auto c = load_ok(spec_example);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->listeners[0].port, 8080);
  EXPECT_EQ(c->admin.address, "127.0.0.1:9901");
  EXPECT_EQ(c->workers, 0u);
  EXPECT_EQ(c->upstreams[0].endpoints.size(), 2u);
  EXPECT_EQ(c->routes[0].match.host, "shop.example.com");
  const Rollout* shop = c->find_rollout("shop");
  ASSERT_TRUE(shop && shop->canary);
  ASSERT_EQ(shop->canary->steps.size(), 7u);
  EXPECT_EQ(shop->canary->steps[0].weight_centi, 1000u);
  EXPECT_EQ(shop->canary->steps[1].pause.duration, milliseconds{60'000});
  EXPECT_EQ(shop->canary->steps[4].mirror_route.percentage, 50.0);
  EXPECT_EQ(shop->canary->steps[6].kind, Step::Kind::Pause);
  EXPECT_FALSE(shop->canary->steps[6].pause.duration);
  EXPECT_EQ(shop->canary->shield->on.size(), 4u);
  EXPECT_EQ(c->find_template("success-rate")->measurement_retention[0].limit, 20u);
  EXPECT_EQ(c->find_template("prometheus")->metrics[0].prometheus->timeout_seconds, 30u);
}

TEST(Defaults, MinimalFileGetsSpecDefaults) {
  const auto c = load_ok(R"(
listeners: [{name: l, address: "127.0.0.1:0"}]
workers: auto
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    metrics: [{name: m, provider: {builtin: {metric: request-rate}}}]
)");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->workers, 0u);
  EXPECT_EQ(c->admin.address, "127.0.0.1:9901");
  EXPECT_EQ(c->admin.port, 9901);
  EXPECT_EQ(c->state.dir, "./vane-state");
  EXPECT_EQ(c->limits.max_request_line_bytes, 8192u);
  EXPECT_EQ(c->limits.max_request_body_bytes, 10485760u);
  EXPECT_EQ(c->limits.idle_timeout, milliseconds{60'000});
  EXPECT_EQ(c->limits.max_mirror_in_flight, 256u);
  const Upstream& u = c->upstreams[0];
  EXPECT_FALSE(u.health_check);
  EXPECT_EQ(u.retries.attempts, 0u);
  EXPECT_EQ(u.timeout, milliseconds{30'000});
  EXPECT_EQ(u.max_connections_per_endpoint, 1024u);
  EXPECT_EQ(c->routes[0].match.path_prefix, "/");
  const Metric& m = c->analysis_templates[0].metrics[0];
  EXPECT_EQ(m.builtin->min_requests, 1u);
  EXPECT_EQ(m.builtin->target, "canary");
  EXPECT_EQ(m.builtin->window, milliseconds{30'000});
  EXPECT_FALSE(m.interval);
  EXPECT_FALSE(m.count);
}

TEST(Defaults, ShieldWithoutOnShieldsEveryFailureKind) {
  const auto c = load_ok(R"(
listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: u, endpoints: ["127.0.0.1:1"]}]
routes: [{name: r, rollout: ro}]
rollouts:
  - name: ro
    upstream: u
    strategy: {canary: {shield: {}, stickiness: {header: X-User-Id}}}
)");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rollouts[0].canary->shield->on.size(), 4u);
  EXPECT_EQ(c->rollouts[0].canary->stickiness->header, "X-User-Id");
  EXPECT_TRUE(c->rollouts[0].canary->steps.empty());
}

}  // namespace
}  // namespace vane::config
