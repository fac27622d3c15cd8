// Test support for the pure canary units (state machine, traffic plan, state store): a rollout
// loaded from inline YAML, a fake clock, and a driver that keeps the state between events.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"

namespace vane::rollout::test {

using namespace std::chrono_literals;

/// 2024-05-01T12:00:00Z: the fake clock's origin.
inline WallTime t0() {
  using namespace std::chrono;
  return WallTime{sys_days{year{2024} / May / 1}} + 12h;
}

/// The steps of the SPEC §2 example (background analysis from step 1), indented for a rollout.
inline constexpr std::string_view kSpecStrategy = R"(    strategy:
      canary:
        steps:
          - setWeight: 10
          - pause: {duration: 1m}
          - analysis:
              templates: [{templateName: success-rate}]
              args: [{name: threshold, value: "0.99"}]
          - setHeaderRoute:
              name: beta-testers
              match:
                - headerName: X-Beta
                  headerValue: {exact: "yes"}
          - setMirrorRoute:
              name: shadow-get
              percentage: 50
              match:
                - method: {exact: GET}
                  path: {prefix: /api}
                  headers: {X-Foo: {exact: bar}}
          - setWeight: 50
          - pause: {}
        analysis:
          templates: [{templateName: latency}]
          startingStep: 1
)";

/// A whole config whose rollout `shop` wants v1 (so a first start makes v1 stable and events
/// name v2 or v3 as the new desired), with `fields` added to the rollout and its `strategy`.
inline std::string rollout_yaml(std::string_view strategy, std::string_view fields = "") {
  std::string yaml = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:1"]}
  - {name: v2, endpoints: ["127.0.0.1:2"]}
  - {name: v3, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
analysisTemplates:
  - name: success-rate
    args: [{name: threshold}]
    metrics:
      - name: success-rate
        successCondition: result >= {{args.threshold}}
        provider: {builtin: {metric: success-rate}}
  - name: latency
    metrics:
      - name: p95
        interval: 10s
        successCondition: result < 0.5
        provider: {builtin: {metric: latency-p95}}
rollouts:
  - name: shop
    upstream: v1
)";
  yaml += fields;
  yaml += strategy;
  return yaml;
}

inline std::shared_ptr<const config::Config> load_config(const std::string& yaml) {
  config::LoadResult result = config::load_string(yaml, "test.yaml");
  if (result.config) return result.config;
  std::string errors = "config does not load:\n";
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  throw std::runtime_error(errors);
}

inline Event tick() { return Event{}; }
inline Event desired(std::string upstream) {
  Event e;
  e.kind = Event::Kind::DesiredChanged;
  e.upstream = std::move(upstream);
  return e;
}
inline Event command(Event::Kind kind, std::string message = {}) {
  Event e;
  e.kind = kind;
  e.message = std::move(message);
  return e;
}
inline Event done(AnalysisKind kind, Event::AnalysisPhase phase, std::string message = {},
                  std::optional<uint32_t> step = std::nullopt) {
  Event e;
  e.kind = Event::Kind::AnalysisDone;
  e.analysis = kind;
  e.analysis_phase = phase;
  e.message = std::move(message);
  e.step_index = step;
  return e;
}

inline Effect start(AnalysisKind kind, uint32_t step = 0) {
  return Effect{Effect::Kind::StartAnalysis, kind, step, false};
}
inline Effect terminate_all() {
  return Effect{Effect::Kind::TerminateAnalysis, AnalysisKind::Step, 0, true};
}
inline Effect terminate_step(uint32_t step) {
  return Effect{Effect::Kind::TerminateAnalysis, AnalysisKind::Step, step, false};
}

/// Feeds events to `transition` with a fake clock and keeps the state an Ok verdict returns.
class Machine {
 public:
  explicit Machine(const std::string& yaml)
      : config_(load_config(yaml)), state(initial_state(spec())) {}

  const config::Rollout& spec() const { return config_->rollouts.at(0); }

  /// Applies `event` at t0 + `at`.
  Transition send(const Event& event, std::chrono::milliseconds at) {
    now = t0() + at;
    return send(event);
  }
  /// Applies `event` at the current fake time.
  Transition send(const Event& event) {
    Transition t = transition(spec(), state, event, now, Environment{healthy});
    if (t.verdict == Verdict::Ok) state = t.state;
    return t;
  }

 private:
  std::shared_ptr<const config::Config> config_;

 public:
  RolloutState state;
  WallTime now = t0();
  bool healthy = true;  ///< Environment::canary_healthy for the next events
};

}  // namespace vane::rollout::test
