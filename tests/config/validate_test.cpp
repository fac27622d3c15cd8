// Validation of listeners, upstreams, routes, rollouts and steps: each error class -> exact lines.
#include <algorithm>

#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

TEST(Validate, BaseAloneIsValid) {
  EXPECT_EQ(error_lines(std::string(base) + "routes: [{name: r, upstream: u}]\n"),
            std::vector<std::string>{});
}

// A large map is indexed (MapReader::kIndexFrom) instead of scanned per key: the same errors, at
// the same places, as in a small one.
TEST(Validate, LargeMapsReportLikeSmallOnes) {
  std::string yaml = std::string(base) + "routes: [{name: r, upstream: u}]\nlimits:\n";  // limits: line 4
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i) {
    yaml += "  x" + std::to_string(i) + ": 1\n";  // line 5 + i
    expected.push_back("vane.yaml:" + std::to_string(5 + i) + ":3: limits.x" + std::to_string(i) +
                       ": unknown key");
  }
  yaml += "  x3: 2\n  idleTimeout: 5s\n  maxRequestLineByte: 10\n  x30: 3\n";  // lines 45-48
  expected.insert(expected.begin() + 40, "vane.yaml:45:3: limits.x3: duplicate key (first at line 8)");
  expected.push_back("vane.yaml:47:3: limits.maxRequestLineByte: unknown key (did you mean "
                     "\"maxRequestLineBytes\"?)");
  expected.push_back("vane.yaml:48:3: limits.x30: duplicate key (first at line 35)");
  std::sort(expected.begin(), expected.end(), [](const std::string& a, const std::string& b) {
    const auto line = [](const std::string& e) { return std::stoi(e.substr(10)); };
    return line(a) < line(b);
  });
  EXPECT_EQ(error_lines(yaml), expected) << annotate(yaml);
}

TEST(Validate, YamlShape) {
  run({
      {"syntax error", "listeners: [{name: l\nworkers: 2\n",
       {"vane.yaml:2:8: YAML syntax error: while parsing a flow mapping: did not find expected ',' or '}'"}},
      {"unknown keys at the key, with a suggestion",
       std::string(base) + "routes: [{name: r, upstream: u}]\n"
                            "limits: {maxRequestLineByte: 10}\nfoo: 1\n",
       {"vane.yaml:4:10: limits.maxRequestLineByte: unknown key (did you mean "
        "\"maxRequestLineBytes\"?)",
        "vane.yaml:5:1: foo: unknown key"}},
      {"duplicate key at the second key",
       std::string(base) + "routes: [{name: r, upstream: u}]\nworkers: 1\nworkers: 2\n",
       {"vane.yaml:5:1: workers: duplicate key (first at line 4)"}},
      {"duplicate key in a flow map",
       std::string(base) + "routes: [{name: r, upstream: u, name: s}]\n",
       {"vane.yaml:3:33: routes[0].name: duplicate key (first at line 3)"}},
      {"wrong types at the value",
       std::string(base) + "routes: [{name: r, upstream: u}]\n"
                           "limits:\n  maxRequestHeaders: \"10\"\n  idleTimeout: 10\n"
                           "state: [a]\nworkers: many\nupstreams2: x\n",
       {"vane.yaml:5:22: limits.maxRequestHeaders: must be an integer",
        "vane.yaml:6:16: limits.idleTimeout: must be a duration such as 250ms, 30s, 5m or 1h30m",
        "vane.yaml:7:8: state: must be a map",
        "vane.yaml:8:10: workers: must be an integer",
        "vane.yaml:9:1: upstreams2: unknown key (did you mean \"upstreams\"?)"}},
      {"not a map at all", "- a\n- b\n", {"vane.yaml:1:1: must be a map"}},
      {"empty file", "", {"vane.yaml:1:1: listeners: at least one listener is required"}},
      {"two documents", "listeners: [{name: l, address: \"127.0.0.1:0\"}]\n---\nworkers: 1\n",
       {"vane.yaml:3:1: only one YAML document is allowed"}},
  });
}

TEST(Validate, ServerSections) {
  run({
      {"listener address and port ranges",
       R"(listeners:
  - {name: a, address: "0.0.0.0:70000"}
  - {name: b, address: "localhost"}
  - {name: c, address: "::1:80"}
  - {name: a, address: "[::1]:80", tls: {certFile: x}}
admin: {address: "127.0.0.1:x"}
limits: {maxRequestBodyBytes: 0, requestBodyTimeout: 0s}
workers: 0
)",
       {"vane.yaml:2:24: listeners[0].address: port must be between 0 and 65535",
        "vane.yaml:3:24: listeners[1].address: must be host:port ([v6]:port for IPv6)",
        "vane.yaml:4:24: listeners[2].address: must be host:port ([v6]:port for IPv6)",
        "vane.yaml:5:12: listeners[3].name: duplicate listener name \"a\" (first at line 2)",
        "vane.yaml:5:41: listeners[3].tls.keyFile: is required",
        "vane.yaml:6:18: admin.address: port must be between 0 and 65535",
        "vane.yaml:7:31: limits.maxRequestBodyBytes: must be at least 1",
        "vane.yaml:7:54: limits.requestBodyTimeout: must be greater than 0",
        "vane.yaml:8:10: workers: must be at least 1"}},
      {"no listener", "listeners: []\n",
       {"vane.yaml:1:12: listeners: at least one listener is required"}},
      {"protocols of listeners and upstreams (SPEC §10)",
       R"(listeners:
  - {name: a, address: "127.0.0.1:0", protocols: [http1, h3, http1]}
  - {name: b, address: "127.0.0.1:0", protocols: []}
upstreams:
  - {name: u, endpoints: ["127.0.0.1:1"], protocol: h2c}
  - {name: v, endpoints: ["127.0.0.1:1"], protocol: [h2]}
)",
       {"vane.yaml:2:58: listeners[0].protocols[1]: must be http1 or h2",
        "vane.yaml:2:62: listeners[0].protocols[2]: is listed twice",
        "vane.yaml:3:50: listeners[1].protocols: must not be empty",
        "vane.yaml:5:53: upstreams[0].protocol: must be http1 or h2",
        "vane.yaml:6:53: upstreams[1].protocol: must be a string"}},
  });
}

TEST(Validate, AccessLog) {
  run({
      {"format, path and keys",
       std::string(base) + R"(accessLog: {path: "", format: text, rotate: true}
)",
       {"vane.yaml:3:19: accessLog.path: must not be empty",
        "vane.yaml:3:31: accessLog.format: must be json",
        "vane.yaml:3:37: accessLog.rotate: unknown key"}},
      {"path required", std::string(base) + "accessLog: {format: json}\n",
       {"vane.yaml:3:12: accessLog.path: is required"}},
      {"not a map", std::string(base) + "accessLog: /dev/stdout\n",
       {"vane.yaml:3:12: accessLog: must be a map"}},
  });
  const LoadResult ok = load_string(std::string(base) + "accessLog: {path: /dev/stdout, format: json}\n", "vane.yaml");
  ASSERT_TRUE(ok.config) << (ok.errors.empty() ? "" : ok.errors[0].to_string());
  ASSERT_TRUE(ok.config->access_log);
  EXPECT_EQ(ok.config->access_log->path, "/dev/stdout");
  EXPECT_EQ(ok.config->access_log->format, "json");
  EXPECT_FALSE(load_string(base, "vane.yaml").config->access_log);
}

TEST(Validate, AnAccessLogThatCannotBeOpenedIsReportedAtItsPath) {
  ExternalChecks checks;
  checks.access_log = [](const std::string& path) {
    return path == "/missing/a.log" ? "cannot open /missing/a.log: no such directory" : "";
  };
  const LoadResult result = load_string(std::string(base) + "accessLog:\n  path: /missing/a.log\n",
                                        "vane.yaml", checks);
  ASSERT_EQ(result.errors.size(), 1U);
  EXPECT_EQ(result.errors[0].to_string(),
            "vane.yaml:4:9: accessLog.path: cannot open /missing/a.log: no such directory");
}

TEST(Validate, UpstreamsAndRoutes) {
  run({
      {"endpoints, health check, retries",
       R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - name: u
    endpoints: ["10.0.0.1:0", "ftp://x:1", "x:80/path"]
    healthCheck: {path: healthz, unhealthyThreshold: 0}
    retries: {on: [reset, 4xx]}
  - name: w
    endpoints: []
    connectTimeout: 1
routes: [{name: r, upstream: u}]
)",
       {"vane.yaml:4:17: upstreams[0].endpoints[0]: port must be between 1 and 65535",
        "vane.yaml:4:31: upstreams[0].endpoints[1]: scheme must be http:// or https://",
        "vane.yaml:4:44: upstreams[0].endpoints[2]: port must be between 1 and 65535",
        "vane.yaml:5:25: upstreams[0].healthCheck.path: must start with '/'",
        "vane.yaml:5:54: upstreams[0].healthCheck.unhealthyThreshold: must be at least 1",
        "vane.yaml:6:27: upstreams[0].retries.on[1]: must be one of connect-failure, reset, "
        "timeout, 5xx",
        "vane.yaml:8:16: upstreams[1].endpoints: must not be empty",
        "vane.yaml:9:21: upstreams[1].connectTimeout: must be a duration such as 250ms, 30s, 5m "
        "or 1h30m"}},
      {"routes: references, both, neither, duplicates",
       std::string(base) + R"(routes:
  - {name: a, match: {host: Shop.example.com, pathPrefix: /api}, upstream: nope}
  - {name: b, upstream: u, rollout: nope}
  - {name: c, match: {pathPrefix: api}}
  - {name: a, match: {host: shop.EXAMPLE.com, pathPrefix: /api}, upstream: u}
  - {name: e, upstream: v}
)",
       {"vane.yaml:4:76: routes[0].upstream: unknown upstream \"nope\"",
        "vane.yaml:5:37: routes[1].rollout: a route has either upstream or rollout, not both",
        "vane.yaml:5:37: routes[1].rollout: unknown rollout \"nope\"",
        "vane.yaml:6:5: routes[2]: needs upstream or rollout",
        "vane.yaml:6:35: routes[2].match.pathPrefix: must start with '/'",
        "vane.yaml:7:12: routes[3].name: duplicate route name \"a\" (first at line 4)",
        "vane.yaml:7:22: routes[3].match: same host and pathPrefix as route \"a\"",
        "vane.yaml:8:5: routes[4].match: same host and pathPrefix as route \"b\""}},
  });
}

TEST(Validate, CanarySteps) {
  run({
      {"setWeight ranges and decimals", canary(R"(        steps:
          - setWeight: 101
          - setWeight: 10.125
          - setWeight: abc
          - setWeight: -1
          - setWeight: 99.99
)"),
       {"vane.yaml:10:24: rollouts[0].strategy.canary.steps[0].setWeight: must be between 0 and "
        "100",
        "vane.yaml:11:24: rollouts[0].strategy.canary.steps[1].setWeight: must have at most two "
        "decimals",
        "vane.yaml:12:24: rollouts[0].strategy.canary.steps[2].setWeight: must be a number",
        "vane.yaml:13:24: rollouts[0].strategy.canary.steps[3].setWeight: must be between 0 and "
        "100"}},
      {"step shapes", canary(R"(        steps:
          - {setWeight: 10, pause: {}}
          - {}
          - setweight: 5
          - pause: {duration: soon}
          - 42
)"),
       {"vane.yaml:10:36: rollouts[0].strategy.canary.steps[0].pause: a step has exactly one of "
        "setWeight, pause, analysis, setHeaderRoute, setMirrorRoute, gate, experiment",
        "vane.yaml:11:13: rollouts[0].strategy.canary.steps[1]: needs one of setWeight, pause, "
        "analysis, setHeaderRoute, setMirrorRoute, gate, experiment",
        "vane.yaml:12:13: rollouts[0].strategy.canary.steps[2].setweight: unknown key (did you "
        "mean \"setWeight\"?)",
        "vane.yaml:13:31: rollouts[0].strategy.canary.steps[3].pause.duration: must be a duration "
        "such as 250ms, 30s, 5m or 1h30m",
        "vane.yaml:14:13: rollouts[0].strategy.canary.steps[4]: must be a map"}},
      {"header and mirror routes", canary(R"(        steps:
          - setHeaderRoute:
              name: h
              match:
                - {}
                - headerName: X-A
                - {headerName: X-B, headerValue: {exact: a, prefix: b}}
                - {headerName: "bad name", headerValue: {regex: x}}
          - setMirrorRoute:
              percentage: 100.5
              match: [{method: {exakt: GET}}, {headers: {X-A: {}}}]
)"),
       {"vane.yaml:13:19: rollouts[0].strategy.canary.steps[0].setHeaderRoute.match[0]: a match "
        "entry needs a condition: headerName and headerValue, method or path",
        "vane.yaml:14:19: rollouts[0].strategy.canary.steps[0].setHeaderRoute.match[1]"
        ".headerValue: is required",
        "vane.yaml:15:69: rollouts[0].strategy.canary.steps[0].setHeaderRoute.match[2]"
        ".headerValue.prefix: needs exactly one of exact, prefix or regex",
        "vane.yaml:16:32: rollouts[0].strategy.canary.steps[0].setHeaderRoute.match[3]"
        ".headerName: must be a valid header name",
        "vane.yaml:18:15: rollouts[0].strategy.canary.steps[1].setMirrorRoute.name: is required",
        "vane.yaml:18:27: rollouts[0].strategy.canary.steps[1].setMirrorRoute.percentage: must "
        "be between 0 and 100",
        "vane.yaml:19:33: rollouts[0].strategy.canary.steps[1].setMirrorRoute.match[0].method"
        ".exakt: unknown key (did you mean \"exact\"?)",
        "vane.yaml:19:63: rollouts[0].strategy.canary.steps[1].setMirrorRoute.match[1].headers"
        ".X-A: needs one of exact, prefix or regex"}},
      {"gate steps", canary(R"(        steps:
          - gate: {name: board}
          - gate: {url: ftp://gates.example.com/shop, intervalSeconds: 0, timeoutSeconds: -1}
          - gate: {url: https://gates.example.com/shop, headers: {}}
          - gate: []
)"),
       {"vane.yaml:10:19: rollouts[0].strategy.canary.steps[0].gate.url: is required",
        "vane.yaml:11:25: rollouts[0].strategy.canary.steps[1].gate.url: must be an http:// or "
        "https:// URL",
        "vane.yaml:11:72: rollouts[0].strategy.canary.steps[1].gate.intervalSeconds: must be "
        "between 1 and 86400",
        "vane.yaml:11:91: rollouts[0].strategy.canary.steps[1].gate.timeoutSeconds: must be "
        "between 1 and 31536000",
        "vane.yaml:12:57: rollouts[0].strategy.canary.steps[2].gate.headers: unknown key",
        "vane.yaml:13:19: rollouts[0].strategy.canary.steps[3].gate: must be a map"}},
      {"stickiness, shield, background startingStep", canary(R"(        stickiness: {cookie: a, header: b}
        shield: {on: []}
        steps: [{setWeight: 5}]
        analysis: {templates: [{templateName: t}], startingStep: 1}
analysisTemplates: [{name: t, metrics: [{name: m, provider: {builtin: {metric: success-rate}}}]}]
)"),
       {"vane.yaml:9:21: rollouts[0].strategy.canary.stickiness: needs exactly one of cookie or "
        "header",
        "vane.yaml:10:22: rollouts[0].strategy.canary.shield.on: must not be empty",
        "vane.yaml:12:66: rollouts[0].strategy.canary.analysis.startingStep: must be less than "
        "the number of steps (1)"}},
  });
}

TEST(Validate, RolloutsAndStrategies) {
  run({
      {"rollout references and strategy shape", std::string(base) + R"(routes:
  - {name: r, rollout: a}
  - {name: p, match: {host: p.example}, upstream: u}
rollouts:
  - name: a
    upstream: nope
    strategy: {canary: {}, blueGreen: {}}
  - name: b
    upstream: u
    strategy: {}
  - name: c
    upstream: u
    progressDeadlineSeconds: 0
    strategy: {blueGreen: {previewRoute: p}}
  - name: d
    upstream: u
    strategy: {blueGreen: {previewRoute: q}}
)",
       {"vane.yaml:8:15: rollouts[0].upstream: unknown upstream \"nope\"",
        "vane.yaml:9:39: rollouts[0].strategy.blueGreen: a strategy is either canary or "
        "blueGreen, not both",
        "vane.yaml:10:11: rollouts[1].name: no route sends traffic to this rollout (a route with "
        "rollout: b)",
        "vane.yaml:12:15: rollouts[1].strategy: needs canary or blueGreen",
        "vane.yaml:13:11: rollouts[2].name: no route sends traffic to this rollout (a route with "
        "rollout: c, besides previewRoute)",
        "vane.yaml:15:30: rollouts[2].progressDeadlineSeconds: must be at least 1",
        "vane.yaml:16:42: rollouts[2].strategy.blueGreen.previewRoute: route \"p\" must have "
        "rollout: c",
        "vane.yaml:17:11: rollouts[3].name: no route sends traffic to this rollout (a route with "
        "rollout: d, besides previewRoute)",
        "vane.yaml:19:42: rollouts[3].strategy.blueGreen.previewRoute: unknown route \"q\""}},
  });
}

TEST(Validate, BlueGreenFields) {
  run({
      {"every blueGreen field is checked", std::string(base) + R"(routes:
  - {name: r, rollout: ro}
  - {name: o, rollout: other, match: {host: o.test}}
rollouts:
  - name: ro
    upstream: v
    strategy:
      blueGreen:
        previewRoute: o
        autoPromotionEnabled: 1
        autoPromotionSeconds: -1
        scaleDownDelaySeconds: 1.5
        abortScaleDownDelaySeconds: -3
        prePromotionAnalysis: {templates: [{templateName: nope}]}
        postPromotionAnalysis: {}
        steps: []
  - name: other
    upstream: u
    strategy: {canary: {}}
)",
       {"vane.yaml:11:23: rollouts[0].strategy.blueGreen.previewRoute: route \"o\" must have "
        "rollout: ro",
        "vane.yaml:12:31: rollouts[0].strategy.blueGreen.autoPromotionEnabled: must be true or "
        "false",
        "vane.yaml:13:31: rollouts[0].strategy.blueGreen.autoPromotionSeconds: must be at least 0",
        "vane.yaml:14:32: rollouts[0].strategy.blueGreen.scaleDownDelaySeconds: must be an "
        "integer",
        "vane.yaml:15:37: rollouts[0].strategy.blueGreen.abortScaleDownDelaySeconds: must be at "
        "least 0",
        "vane.yaml:16:59: rollouts[0].strategy.blueGreen.prePromotionAnalysis.templates[0]"
        ".templateName: unknown analysis template \"nope\"",
        "vane.yaml:17:32: rollouts[0].strategy.blueGreen.postPromotionAnalysis.templates: is "
        "required",
        "vane.yaml:18:9: rollouts[0].strategy.blueGreen.steps: unknown key"}},
      {"a valid blueGreen without previewRoute", std::string(base) + R"(routes: [{name: r, rollout: ro}]
rollouts:
  - name: ro
    upstream: v
    strategy: {blueGreen: {autoPromotionEnabled: false, scaleDownDelaySeconds: 0}}
)",
       {}},
  });
}

TEST(Validate, EveryErrorIsReportedInFileOrder) {
  const auto lines = error_lines(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
routes: [{name: r, upstream: missing}]
upstreams:
  - name: u
    endpoints: ["127.0.0.1:1"]
    timeout: -5s
limits: {maxRequestHeaders: 0}
)");
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "vane.yaml:2:30: routes[0].upstream: unknown upstream \"missing\"",
                       "vane.yaml:6:14: upstreams[0].timeout: must be a duration such as 250ms, "
                       "30s, 5m or 1h30m",
                       "vane.yaml:7:29: limits.maxRequestHeaders: must be at least 1",
                   }));
}

TEST(Validate, GateStepsWithTheirDefaults) {
  const LoadResult loaded = load_string(with_steps(R"(          - setWeight: 10
          - gate: {name: change-board, url: https://gates.example.com/shop, intervalSeconds: 7, timeoutSeconds: 3600}
          - gate: {url: "http://127.0.0.1:9/gate"}
)"), "vane.yaml");
  ASSERT_TRUE(loaded.config) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  const auto& steps = loaded.config->rollouts.at(0).canary->steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1].kind, Step::Kind::Gate);
  EXPECT_EQ(steps[1].gate.name, "change-board");
  EXPECT_EQ(steps[1].gate.url, "https://gates.example.com/shop");
  EXPECT_EQ(steps[1].gate.interval_seconds, 7u);
  EXPECT_EQ(steps[1].gate.timeout_seconds, 3600u);
  EXPECT_EQ(steps[2].gate.name, "gate-2");  // named after its step index
  EXPECT_EQ(steps[2].gate.interval_seconds, 5u);
  EXPECT_FALSE(steps[2].gate.timeout_seconds);  // waits until answered or promoted
}

}  // namespace
}  // namespace vane::config::test
