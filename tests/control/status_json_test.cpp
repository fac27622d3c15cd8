// STATUS JSON (SPEC §6) of blue-green rollouts: strategy, active (stable) and preview (canary),
// step fields 0, the weights in force, and the blueGreen details (the gate it waits on).
#include "control/status_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "config/loader.hpp"
#include "rollout/state_machine.hpp"
#include "rollout/traffic_plan.hpp"

namespace vane::control {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using rollout::Event;

constexpr std::string_view kYaml = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:1"]}
  - {name: v2, endpoints: ["127.0.0.1:2"]}
routes:
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
  - {name: shop-preview, rollout: shop, match: {host: preview.test}}
analysisTemplates:
  - name: smoke
    metrics: [{name: smoke, provider: {builtin: {metric: success-rate}}}]
rollouts:
  - name: shop
    upstream: v2
    strategy:
      blueGreen:
        previewRoute: shop-preview
        autoPromotionSeconds: 30
        prePromotionAnalysis: {templates: [{templateName: smoke}]}
        postPromotionAnalysis: {templates: [{templateName: smoke}]}
)";

rollout::WallTime t0() {
  using namespace std::chrono;
  return rollout::WallTime{sys_days{year{2024} / May / 1}} + 12h;
}

class StatusJsonTest : public ::testing::Test {
 protected:
  StatusJsonTest() {
    auto loaded = config::load_string(kYaml, "test.yaml");
    config_ = loaded.config;
    state_.stable = "v1";
  }

  const config::Rollout& spec() const { return config_->rollouts.at(0); }

  void send(const Event& event, std::chrono::seconds at) {
    const auto t = rollout::transition(spec(), state_, event, t0() + at, {});
    ASSERT_EQ(t.verdict, rollout::Verdict::Ok);
    state_ = t.state;
  }
  void send(Event::Kind kind, std::chrono::seconds at) {
    Event e;
    e.kind = kind;
    e.upstream = "v2";
    send(e, at);
  }
  void done(rollout::AnalysisKind kind, Event::AnalysisPhase phase, std::chrono::seconds at) {
    Event e;
    e.kind = Event::Kind::AnalysisDone;
    e.analysis = kind;
    e.analysis_phase = phase;
    send(e, at);
  }

  json::object status() const {
    const auto plan = rollout::plan_traffic(spec(), state_, true);
    return status_json({spec(), state_, plan, std::nullopt, {}, {}, rollout::WallTime{}});
  }

  std::string at(std::string_view key) const { return json::serialize(status().at(key)); }
  std::string blue_green(std::string_view key) const {
    return json::serialize(status().at("blueGreen").at(key));
  }

  std::shared_ptr<const config::Config> config_;
  rollout::RolloutState state_;
};

TEST_F(StatusJsonTest, IdleShowsTheActiveVersion) {
  ASSERT_NE(config_, nullptr);
  EXPECT_EQ(at("strategy"), R"("blueGreen")");
  EXPECT_EQ(at("stable"), R"("v1")");
  EXPECT_EQ(at("canary"), "null");
  EXPECT_EQ(at("currentStepIndex"), "0");
  EXPECT_EQ(at("stepCount"), "0");
  EXPECT_EQ(at("weights"), R"({"stable":100,"canary":0})");
  EXPECT_EQ(json::serialize(status().at("blueGreen")),
            R"({"active":"v1","preview":null,"previewRoute":"shop-preview","waitingFor":null,)"
            R"("autoPromotionEnabled":true,"autoPromotionSeconds":30,"autoPromotionAt":null,)"
            R"("previousActive":null,"scaleDownAt":null})");
}

TEST_F(StatusJsonTest, EachGateIsNamed) {
  ASSERT_NE(config_, nullptr);
  send(Event::Kind::DesiredChanged, 0s);
  EXPECT_EQ(at("canary"), R"("v2")");
  EXPECT_EQ(at("phase"), R"("Progressing")");
  EXPECT_EQ(blue_green("waitingFor"), R"("prePromotionAnalysis")");
  EXPECT_EQ(blue_green("preview"), R"("v2")");

  done(rollout::AnalysisKind::PrePromotion, Event::AnalysisPhase::Successful, 10s);
  EXPECT_EQ(at("phase"), R"("Paused")");
  EXPECT_EQ(blue_green("waitingFor"), R"("autoPromotion")");
  EXPECT_EQ(blue_green("autoPromotionAt"), R"("2024-05-01T12:00:40.000Z")");
  EXPECT_EQ(at("pauseUntil"), R"("2024-05-01T12:00:40.000Z")");
  EXPECT_EQ(at("weights"), R"({"stable":100,"canary":0})");

  send(Event::Kind::Promote, 11s);  // switched: stable already names the new active version
  EXPECT_EQ(at("phase"), R"("Progressing")");
  EXPECT_EQ(at("stable"), R"("v2")");
  EXPECT_EQ(at("canary"), R"("v2")");
  EXPECT_EQ(at("currentStepIndex"), "0");
  EXPECT_EQ(at("weights"), R"({"stable":0,"canary":100})");
  EXPECT_EQ(blue_green("waitingFor"), R"("postPromotionAnalysis")");
  EXPECT_EQ(blue_green("previousActive"), R"("v1")");
  EXPECT_EQ(blue_green("autoPromotionAt"), "null");

  done(rollout::AnalysisKind::PostPromotion, Event::AnalysisPhase::Failed, 20s);
  EXPECT_EQ(at("phase"), R"("Degraded")");
  EXPECT_EQ(at("aborted"), "true");
  EXPECT_EQ(at("stable"), R"("v1")");
  EXPECT_EQ(at("canary"), R"("v2")");
  EXPECT_EQ(at("weights"), R"({"stable":100,"canary":0})");
  EXPECT_EQ(blue_green("waitingFor"), R"("retry")");
  EXPECT_EQ(blue_green("previousActive"), "null");
}

TEST_F(StatusJsonTest, CompletionKeepsTheOldVersionWarm) {
  ASSERT_NE(config_, nullptr);
  send(Event::Kind::DesiredChanged, 0s);
  send(Event::Kind::PromoteFull, 1s);
  EXPECT_EQ(at("phase"), R"("Healthy")");
  EXPECT_EQ(at("stable"), R"("v2")");
  EXPECT_EQ(at("canary"), "null");
  EXPECT_EQ(blue_green("waitingFor"), "null");
  EXPECT_EQ(blue_green("previousActive"), R"("v1")");
  EXPECT_EQ(blue_green("scaleDownAt"), R"("2024-05-01T12:00:31.000Z")");
}

TEST(StepJson, EachStepIsItsConfigObjectWithoutArgValues) {
  auto loaded = config::load_string(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams: [{name: v1, endpoints: ["127.0.0.1:1"]}]
routes: [{name: shop, rollout: shop, match: {pathPrefix: /}}]
analysisTemplates:
  - name: smoke
    args: [{name: secret}]
    metrics: [{name: smoke, provider: {builtin: {metric: success-rate}}}]
rollouts:
  - name: shop
    upstream: v1
    strategy:
      canary:
        steps:
          - setWeight: 12.5
          - pause: {duration: 90s}
          - pause: {}
          - analysis: {templates: [{templateName: smoke}], args: [{name: secret, value: hunter2}]}
)", "test.yaml");
  ASSERT_NE(loaded.config, nullptr);
  const auto& steps = loaded.config->rollouts.at(0).canary->steps;
  std::vector<std::string> got;
  for (const auto& step : steps) got.push_back(json::serialize(step_json(step)));
  EXPECT_EQ(got, (std::vector<std::string>{
                     R"({"setWeight":1.25E1})", R"({"pause":{"duration":"1m30s"}})", R"({"pause":{}})",
                     R"({"analysis":{"templates":[{"templateName":"smoke"}],"args":[{"name":"secret"}]}})"}));
}

TEST(Rfc3339, MillisecondsInUtcOnTheCalendar) {
  using namespace std::chrono;
  EXPECT_EQ(rfc3339(rollout::WallTime{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(sys_days{2024y / 2 / 29} + 23h + 59min + 59s + 999ms),
            "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(rfc3339(sys_days{2026y / 12 / 31} + 1ms), "2026-12-31T00:00:00.001Z");
  EXPECT_EQ(rfc3339(rollout::WallTime{} - 500ms), "1969-12-31T23:59:59.500Z");
}

}  // namespace
}  // namespace vane::control
