// `vane import argo` end to end (SPEC §13): an Argo Rollout with its Services and Ingress is
// imported by the real binary, its Service addresses are pointed at loopback upstreams, and vane
// runs the imported config: the release splits traffic by the imported weights, the header route
// reaches the canary, and the rollout walks its steps to Healthy. Also the command's exit codes.
#include <gtest/gtest.h>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

constexpr std::string_view kArgoFile = R"(apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec:
  selector: {app: web}
  ports: [{port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec:
  ports: [{name: http, port: 8081}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - host: web.test
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web-stable, port: {number: 8080}}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:2}]
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        managedRoutes: [{name: testers}]
        nginx: {stableIngress: web}
      steps:
        - setHeaderRoute:
            name: testers
            match: [{headerName: X-Tester, headerValue: {exact: "yes"}}]
        - setWeight: 30
        - pause: {}
        - setWeight: 60
        - pause: {duration: 1}
)";

/// `vane import argo ARGS...` to completion.
CommandResult vane_import(std::vector<std::string> args) {
  args.insert(args.begin(), {vane_binary(), "import", "argo"});
  return run_command(std::move(args));
}

TEST(ImportArgoTest, TheImportedCanaryRunsItsStepsToHealthy) {
  TestUpstream stable("web-stable"), canary("web-canary");
  TempDir dir;
  write_file(dir.path() / "web.yaml", std::string(kArgoFile));
  const auto out = dir.path() / "vane.yaml";
  const CommandResult imported = vane_import({"-f", (dir.path() / "web.yaml").string(), "-o", out.string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("web.yaml:31: Rollout/web.spec.replicas: not imported: "), std::string::npos)
      << imported.err;

  // The Services' cluster addresses become the loopback upstreams; vane listens on port 0.
  std::string yaml = read_file(out);
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in:\n" << yaml;
    yaml.replace(at, from.size(), to);
  };
  replace("web-stable.default.svc:8080", stable.address());
  replace("web-canary.default.svc:8081", canary.address());
  replace("0.0.0.0:8080", "127.0.0.1:0");
  yaml += "admin: {address: \"127.0.0.1:0\"}\nstate: {dir: \"" + (dir.path() / "state").string() + "\"}\n";
  VaneRun vane(yaml, {"--no-watch-config"});
  const uint16_t admin = vane.admin_port();
  json::value s;
  ASSERT_TRUE(wait_stable(admin, "web-stable", s)) << summary(s);
  SideCounts before = send_requests(vane.port(), 200);
  EXPECT_EQ(before.count("web-stable"), 200) << before.describe();

  // The release, as the import's comment says: the rollout's upstream becomes the canary Service's.
  replace("upstream: web-stable  #", "upstream: web-canary  #");
  write_file(vane.config_path(), yaml);
  const Response reload = admin_call(admin, "POST", "/api/v1/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  ASSERT_TRUE(wait_phase(admin, "Paused", 2, 30, s)) << summary(s);  // header route, 30%, pause

  const Response tester = get_with(vane.port(), "/", "X-Tester: yes\r\n");
  EXPECT_EQ(side_of(tester), "web-canary");
  constexpr int n = 3000;
  const SideCounts split = send_requests(vane.port(), n);
  EXPECT_EQ(split.count("web-stable") + split.count("web-canary"), n) << split.describe();
  EXPECT_NEAR(split.count("web-canary"), 0.3 * n, binomial_band(0.3, n)) << split.describe();

  // promote: 60%, the timed pause of 1 s, then the canary is the stable version.
  const Response promoted = admin_call(admin, "POST", "/api/v1/rollouts/web/promote");
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  ASSERT_TRUE(wait_stable(admin, "web-canary", s, 10s)) << summary(s);
  const SideCounts after = send_requests(vane.port(), 200);
  EXPECT_EQ(after.count("web-canary"), 200) << after.describe();
}

TEST(ImportArgoTest, ExitCodes) {
  TempDir dir;
  const std::string argo = (dir.path() / "web.yaml").string();
  write_file(argo, std::string(kArgoFile));
  const CommandResult to_stdout = vane_import({"-f", argo});
  EXPECT_EQ(to_stdout.exit_code, 0) << to_stdout.err;
  EXPECT_NE(to_stdout.out.find("rollouts:\n"), std::string::npos) << to_stdout.out;

  const std::string config_map = (dir.path() / "cm.yaml").string();
  write_file(config_map, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
  const CommandResult nothing = vane_import({"-f", config_map});
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_NE(nothing.err.find("cm.yaml:1: ConfigMap/x: not imported: kind ConfigMap has no counterpart in vane"),
            std::string::npos) << nothing.err;
  EXPECT_EQ(vane_import({"-f", (dir.path() / "missing.yaml").string()}).exit_code, 1);

  const CommandResult no_file = vane_import({});
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_NE(no_file.err.find("usage: vane import argo"), std::string::npos) << no_file.err;
  const CommandResult helm = run_command({vane_binary(), "import", "helm", "-f", argo});
  EXPECT_EQ(helm.exit_code, 2);
  EXPECT_NE(helm.err.find("'helm'"), std::string::npos) << helm.err;
  EXPECT_EQ(vane_import({"-f", argo, "--force"}).exit_code, 2);
}

}  // namespace
}  // namespace vane::it
