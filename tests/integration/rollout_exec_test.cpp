// The exec provider and args read from files, through the real binary (SPEC §5): a canary's
// analysis step runs a script whose answer and exit code the test writes to files, and a web
// check's URL carries a token that vane read from a file at load and reads again at reload.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// The first measurement of the run's first metric.
json::value first_measurement(const json::value& run) {
  const json::value metrics = field(run, "metrics");
  if (!metrics.is_array() || metrics.get_array().empty()) return nullptr;
  const json::value m = field(metrics.get_array()[0], "measurements");
  return m.is_array() && !m.get_array().empty() ? m.get_array()[0] : json::value(nullptr);
}

/// A check script in `dir` printing `dir`/answer and exiting with the code in `dir`/code.
class ExecCheck {
 public:
  ExecCheck() {
    script_ = dir_.path() / "check.sh";
    write_file(script_, "#!/bin/sh\ncat \"$1/answer\"\necho \"check of $2\" >&2\n"
                        "exit \"$(cat \"$1/code\")\"\n");
    std::filesystem::permissions(script_, std::filesystem::perms::owner_all);
  }
  void answer(const std::string& stdout_text, int code) const {
    write_file(dir_.path() / "answer", stdout_text);
    write_file(dir_.path() / "code", std::to_string(code) + "\n");
  }
  RolloutSetup setup() const {
    RolloutSetup setup;
    setup.top_extra = render(R"(analysisTemplates:
  - name: exec-check
    args: [{name: dir}, {name: rev}]
    metrics:
      - name: probe
        successCondition: result.ok == true
        provider:
          exec: {command: ["{{script}}", "{{args.dir}}", "{{args.rev}}"], timeoutSeconds: 5, jsonPath: "{$.data}"}
)",
                             {{"script", script_.string()}});
    setup.canary = render(R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: exec-check}]
              args: [{name: dir, value: "{{dir}}"}, {name: rev, value: v2}]
          - setWeight: 80
)",
                          {{"dir", dir_.path().string()}});
    return setup;
  }

 private:
  TempDir dir_;
  std::filesystem::path script_;
};

TEST(RolloutExecTest, ACanaryAdvancesWhenTheCheckSucceedsAndAbortsOnAFailingExitCode) {
  ExecCheck check;
  {
    check.answer(R"({"data": {"ok": true, "latency": 0.12}})", 0);
    RolloutRig rig(check.setup());
    ASSERT_EQ(rig.set_desired("v2").status, 200);
    json::value s;
    ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 30s)) << summary(s);
    EXPECT_EQ(field(s, "aborted"), json::value(false)) << summary(s);
    const json::array runs = runs_of(rig);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(str(field(runs[0], "phase")), "Successful") << json::serialize(runs[0]);
    const json::value m = first_measurement(runs[0]);
    EXPECT_EQ(str(field(m, "phase")), "Successful") << json::serialize(m);
    EXPECT_EQ(str(field(m, "value")), R"({"ok":true,"latency":0.12})") << json::serialize(m);
  }
  check.answer(R"({"data": {"ok": true}})", 3);  // the answer says ok; the exit code decides
  RolloutRig rig(check.setup());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 30s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  const json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Failed") << json::serialize(runs[0]);
  const json::value m = first_measurement(runs[0]);
  EXPECT_EQ(str(field(m, "phase")), "Failed") << json::serialize(m);
  EXPECT_NE(str(field(m, "message")).find("exited with code 3: check of v2"), std::string::npos)
      << json::serialize(m);
}

TEST(RolloutExecTest, AnArgFromAFileReachesAWebCheckAndIsReadAgainAtReload) {
  TestUpstream checks("checks");
  TempDir secrets;
  const auto token = secrets.path() / "token";
  write_file(token, "\n  s3cret  \n");
  RolloutSetup setup;
  setup.top_extra = render(R"(analysisTemplates:
  - name: web-check
    args:
      - name: token
        valueFrom: {file: "{{token}}"}
    metrics:
      - name: check
        successCondition: result.method == "GET"
        provider:
          web: {url: "http://{{checks}}/check?echo&token={{args.token}}", timeoutSeconds: 2}
)",
                           {{"token", token.string()}, {"checks", checks.address()}});
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: web-check}]
          - pause: {}
)";
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 50, s, 15s)) << summary(s);
  json::array runs = runs_of(rig);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(field(runs[0], "phase")), "Successful") << json::serialize(runs[0]);
  EXPECT_NE(json::serialize(first_measurement(runs[0])).find("token=s3cret\\\""), std::string::npos)
      << json::serialize(runs[0]);

  // A rotated secret: the reload that starts the next canary reads the file again.
  write_file(token, "rotated\n");
  ASSERT_EQ(rig.set_desired("v3").status, 200);
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 50, s, 15s)) << summary(s);
  runs = runs_of(rig);
  ASSERT_FALSE(runs.empty());
  EXPECT_NE(json::serialize(first_measurement(runs[0])).find("token=rotated\\\""),
            std::string::npos)
      << json::serialize(runs[0]);
}

}  // namespace
}  // namespace vane::it
