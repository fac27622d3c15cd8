// The exec provider's fields and analysis args whose value comes from a file (SPEC §5): what
// loads, and each error at its FILE:LINE:COL and field path.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

namespace fs = std::filesystem;

/// A temp dir with a secret `token` (surrounded by whitespace) and a `threshold`.
class ValueFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("vane-args-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "token") << "\n  s3cret \n";
    std::ofstream(dir / "threshold") << "0.95\n";
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const char* name) const { return (dir / name).string(); }

  fs::path dir;
};

TEST(ExecProvider, Loads) {
  const auto result = load_string(std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    args: [{name: host}]
    metrics:
      - name: probe
        successCondition: result.ok
        provider:
          exec: {command: [check.sh, --host, "{{args.host}}"], timeoutSeconds: 3, jsonPath: "{$.data}"}
      - name: defaults
        provider: {exec: {command: [/bin/true]}}
)",
                                  "vane.yaml");
  ASSERT_TRUE(result.config) << result.errors.at(0).to_string();
  const auto& metrics = result.config->analysis_templates.at(0).metrics;
  ASSERT_TRUE(metrics.at(0).exec);
  EXPECT_EQ(metrics[0].exec->command,
            (std::vector<std::string>{"check.sh", "--host", "{{args.host}}"}));
  EXPECT_EQ(metrics[0].exec->timeout_seconds, 3u);
  EXPECT_EQ(metrics[0].exec->json_path, "{$.data}");
  EXPECT_EQ(metrics.at(1).exec->timeout_seconds, 10u);
  EXPECT_EQ(metrics[1].exec->json_path, "$");
}

TEST(ExecProvider, ErrorsAtTheirPlace) {
  run({
      {"command, timeout, jsonPath", std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    args: [{name: a}]
    metrics:
      - name: m1
        provider: {exec: {command: []}}
      - name: m2
        provider: {exec: {command: ["", x], timeoutSeconds: 0}}
      - name: m3
        provider: {exec: {command: [/bin/check, "{{args.b}}"], jsonPath: data}}
      - name: m4
        provider: {exec: {timeout: 3}, web: {url: "http://x"}}
      - name: m5
        provider: {exec: {command: /bin/check}}
)",
       {"vane.yaml:9:36: analysisTemplates[0].metrics[0].provider.exec.command: must not be empty",
        "vane.yaml:11:37: analysisTemplates[0].metrics[1].provider.exec.command[0]: the program "
        "must not be empty",
        "vane.yaml:11:61: analysisTemplates[0].metrics[1].provider.exec.timeoutSeconds: must be at "
        "least 1",
        "vane.yaml:13:49: analysisTemplates[0].metrics[2].provider.exec.command[1]: unknown arg "
        "\"b\" (not in the template's args)",
        "vane.yaml:13:74: analysisTemplates[0].metrics[2].provider.exec.jsonPath: must start with "
        "'$' (or Argo's '{$')",
        "vane.yaml:15:19: analysisTemplates[0].metrics[3].provider: needs exactly one of builtin, "
        "prometheus, web or exec",
        "vane.yaml:17:36: analysisTemplates[0].metrics[4].provider.exec.command: must be a list"}},
  });
}

TEST(ExecProvider, JsonPathSyntaxIsCheckedUnlessItHoldsAnArg) {
  ExternalChecks checks;
  std::vector<std::string> checked;
  checks.json_path = [&](std::string_view path) {
    checked.emplace_back(path);
    return path == "$.a..b" ? std::string("empty member name") : std::string();
  };
  const auto result = load_string(std::string(base) + R"(routes: [{name: r, upstream: u}]
analysisTemplates:
  - name: t
    args: [{name: field}]
    metrics:
      - {name: m1, provider: {exec: {command: [x], jsonPath: $.a..b}}}
      - {name: m2, provider: {exec: {command: [x], jsonPath: "$.{{args.field}}"}}}
      - {name: m3, provider: {web: {url: "http://x", jsonPath: "{$.ok}"}}}
)",
                                  "vane.yaml", checks);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "vane.yaml:8:62: analysisTemplates[0].metrics[0].provider.exec.jsonPath: empty member "
            "name");
  EXPECT_EQ(checked, (std::vector<std::string>{"$.a..b", "{$.ok}"}));
}

TEST_F(ValueFiles, ArgsTakeTheirValueFromAFileTrimmed) {
  const auto result = load_string(with_steps(R"(          - analysis:
              templates: [{templateName: t}]
              args: [{name: token, valueFrom: {file: ")" + path("token") + R"("}}]
)",
                                             R"(analysisTemplates:
  - name: t
    args:
      - name: token
      - name: threshold
        valueFrom: {file: ")" + path("threshold") +
                                                 R"("}
    metrics: [{name: m, successCondition: "result >= {{args.threshold}}", provider: {builtin: {metric: success-rate}}}]
)"),
                                  "vane.yaml");
  ASSERT_TRUE(result.config) << result.errors.at(0).to_string();
  const auto& t = result.config->analysis_templates.at(0);
  EXPECT_EQ(t.args.at(0).value, std::nullopt);
  EXPECT_EQ(t.args.at(1).value, "0.95");
  const auto& step = result.config->rollouts.at(0).canary->steps.at(0);
  EXPECT_EQ(step.analysis.args.at(0).value, "s3cret");
}

TEST_F(ValueFiles, ArgValueErrorsAtTheirPlace) {
  run({
      {"missing file, both, Argo's other sources, neither",
       with_steps(R"(          - analysis:
              templates: [{templateName: t}]
              args:
                - {name: a, valueFrom: {file: /nonexistent/vane-arg}}
                - {name: b, value: x, valueFrom: {file: /x}}
                - {name: c, valueFrom: {podTemplateHashValue: Stable}}
                - {name: d, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: e}
)",
                  R"(analysisTemplates:
  - name: t
    args:
      - {name: a}
      - {name: b}
      - {name: c}
      - {name: d}
      - {name: e}
      - name: f
        valueFrom: {secretKeyRef: {name: s, key: k}}
    metrics: [{name: m, provider: {builtin: {metric: success-rate}}}]
)"),
       {"vane.yaml:13:47: rollouts[0].strategy.canary.steps[0].analysis.args[0].valueFrom.file: "
        "cannot read /nonexistent/vane-arg",
        "vane.yaml:14:50: rollouts[0].strategy.canary.steps[0].analysis.args[1].valueFrom: give "
        "value or valueFrom, not both",
        "vane.yaml:15:63: rollouts[0].strategy.canary.steps[0].analysis.args[2].valueFrom"
        ".podTemplateHashValue: vane runs no pods: give the value, or valueFrom: {file: PATH}",
        "vane.yaml:16:51: rollouts[0].strategy.canary.steps[0].analysis.args[3].valueFrom"
        ".fieldRef: vane runs no pods: give the value, or valueFrom: {file: PATH}",
        "vane.yaml:17:19: rollouts[0].strategy.canary.steps[0].analysis.args[4].value: is "
        "required",
        "vane.yaml:27:35: analysisTemplates[0].args[5].valueFrom.secretKeyRef: a Kubernetes "
        "Secret reaches vane as a mounted file: use valueFrom: {file: PATH}"}},
  });
}

}  // namespace
}  // namespace vane::config::test
