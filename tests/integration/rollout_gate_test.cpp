// Gate steps (SPEC §14) from a real vane to a real gate server (gate_server.py) the test answers
// for: 2xx opens the gate with the rollout and step in headers, 403 aborts with the body as the
// reason, past timeoutSeconds Paused and a later 2xx still opens it, `vane promote` opens it, a
// waiting gate is polled again after a restart, and a hanging gate server delays neither traffic
// nor another rollout's timed steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/rollout_support.hpp"
#include "tests/integration/script_server.hpp"

namespace vane::it {
namespace {

/// The gate GETs recorded so far, oldest first.
json::array polls(const ScriptServer& gate) {
  const Response r = admin_call(gate.port(), "GET", "/__records");
  const json::value v = parse_json(r.body);
  return v.is_array() ? v.get_array() : json::array{};
}

/// What the gate server answers from now on: "status=200", "status=403&body=...", "hang=1".
void answer_with(const ScriptServer& gate, std::string_view query) {
  ASSERT_EQ(admin_call(gate.port(), "GET", "/__answer?" + std::string(query)).status, 200);
}

/// setWeight 20, the gate `board` on `gate` (`more`: more keys of it), setWeight 50, pause {}.
RolloutSetup gate_setup(const ScriptServer& gate, std::string_view more = "") {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setWeight: 20
          - gate: {name: board, url: "http://)" + gate.address() + R"(/approve/web", intervalSeconds: 1)" +
                 std::string(more) + R"(}
          - setWeight: 50
          - pause: {}
)";
  return setup;
}

bool waiting_on_gate(const json::value& s) {
  return str(field(s, "phase")) == "Progressing" && num(field(s, "currentStepIndex")) == 1 &&
         str(field(s, "message")).find("waiting on gate board") != std::string::npos;
}

/// Starts canary v2 and waits until it waits on the gate (step 1) at 20%.
void start_at_gate(RolloutRig& rig) {
  const Response reload = rig.set_desired("v2");
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), waiting_on_gate, s)) << summary(s);
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 20);
}

TEST(RolloutGateTest, A2xxOpensTheGateAskedWithTheRolloutAndStep) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  RolloutRig rig(gate_setup(gate, ", timeoutSeconds: 600"));
  start_at_gate(rig);
  json::array seen;
  ASSERT_TRUE(wait_until([&] { return (seen = polls(gate)).size() >= 2; }, 5s)) << "polled every second";
  for (const auto& poll : seen) {
    EXPECT_EQ(str(field(poll, "path")), "/approve/web");
    EXPECT_EQ(str(field(poll, "rollout")), "web");
    EXPECT_EQ(str(field(poll, "step")), "1");
  }
  const json::value s = rig.status();
  const json::value step = field(field(s, "steps").as_array().at(1), "gate");
  EXPECT_EQ(str(field(step, "name")), "board");
  EXPECT_EQ(str(field(step, "url")), "http://" + gate.address() + "/approve/web");
  EXPECT_EQ(num(field(step, "intervalSeconds")), 1);
  EXPECT_EQ(num(field(step, "timeoutSeconds")), 600);
  EXPECT_EQ(str(field(s, "message")), "waiting on gate board (step 1)");

  answer_with(gate, "status=204");
  json::value last;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, last)) << summary(last);
  const json::value trail = parse_json(admin_call(rig.admin(), "GET", "/api/v1/events?rollout=web").body);
  bool completed = false;
  const json::value events = field(trail, "events");
  ASSERT_TRUE(events.is_array()) << json::serialize(trail);
  for (const auto& e : events.get_array()) {
    completed = completed || (str(field(e, "event")) == "on-rollout-step-completed" &&
                              str(field(e, "message")) == "step 1 of 4 completed");
  }
  EXPECT_TRUE(completed) << json::serialize(trail);
  const size_t polled = polls(gate).size();
  rig.set_desired("v2");  // a reload and a few ticks: the opened gate is not asked again
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, last)) << summary(last);
  EXPECT_EQ(polls(gate).size(), polled);
}

TEST(RolloutGateTest, A403AbortsWithTheBodyAsTheReason) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  RolloutRig rig(gate_setup(gate));
  start_at_gate(rig);
  answer_with(gate, "status=403&body=change%20freeze%0Auntil%20monday%C3%A9");
  json::value s;
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s)) << summary(s);
  EXPECT_TRUE(field(s, "aborted").as_bool());
  EXPECT_EQ(str(field(s, "abortReason")), "gate board rejected: change freeze until monday??");
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0);
  const size_t polled = polls(gate).size();
  // Aborted: no more polls. Two intervals pass while the test waits for the canary's traffic to
  // be back on stable.
  const SideCounts counts = send_requests(rig.port(), 50);
  EXPECT_EQ(counts.count("v1"), 50) << counts.describe();
  ASSERT_FALSE(wait_until([&] { return polls(gate).size() > polled; }, 2500ms))
      << "an aborted rollout's gate was polled again";
}

TEST(RolloutGateTest, PastItsTimeoutPausedThenALater2xxStillOpens) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  RolloutRig rig(gate_setup(gate, ", timeoutSeconds: 2"));
  start_at_gate(rig);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s, 6s)) << summary(s);
  EXPECT_NE(str(field(s, "message")).find("gate board (step 1) timed out after 2s"), std::string::npos)
      << summary(s);
  const size_t polled = polls(gate).size();
  ASSERT_TRUE(wait_until([&] { return polls(gate).size() > polled; }, 5s)) << "polling goes on when Paused";
  answer_with(gate, "status=200");
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
}

TEST(RolloutGateTest, PromoteOpensAWaitingGate) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  RolloutRig rig(gate_setup(gate));
  start_at_gate(rig);
  const CommandResult promoted = vane_cli(rig.admin(), {"promote", "web"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.out << promoted.err;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
}

TEST(RolloutGateTest, AWaitingGateIsPolledAgainAfterARestart) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  RolloutRig rig(gate_setup(gate, ", timeoutSeconds: 600"));
  start_at_gate(rig);
  rig.restart_after_kill();
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), waiting_on_gate, s)) << summary(s);
  const size_t polled = polls(gate).size();
  ASSERT_TRUE(wait_until([&] { return polls(gate).size() > polled; }, 5s));
  answer_with(gate, "status=200");
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
}

TEST(RolloutGateTest, AHangingGateServerDelaysNeitherTrafficNorAnotherRollout) {
  ScriptServer gate(VANE_GATE_SERVER, {});
  answer_with(gate, "hang=1");
  RolloutSetup setup = gate_setup(gate);
  setup.routes_extra = "  - {name: shop, match: {host: shop.test}, rollout: shop}\n";
  setup.more = R"(  - name: shop
    upstream: v1
    strategy:
      canary:
        steps:
          - setWeight: 30
          - pause: {duration: 2s}
          - setWeight: 60
          - pause: {duration: 1s}
)";
  RolloutRig rig(setup);
  start_at_gate(rig);
  ASSERT_TRUE(wait_until([&] { return !polls(gate).empty(); }, 5s)) << "the gate was not asked";
  const auto first_poll = Clock::now();

  // shop goes from v1 to v3 through both timed pauses while web's gate call hangs.
  std::string yaml = rig.yaml("v2");
  const std::string shop_v1 = "  - name: shop\n    upstream: v1";
  yaml.replace(yaml.find(shop_v1), shop_v1.size(), "  - name: shop\n    upstream: v3");
  write_file(rig.config_path(), yaml);
  const auto started = Clock::now();
  ASSERT_EQ(admin_call(rig.admin(), "POST", "/api/v1/reload").status, 200);
  SideCounts counts;
  json::value shop;
  const bool done = wait_until(
      [&] {
        const SideCounts batch = send_requests(rig.port(), 20, "/split", "", 20, 5s);
        for (const auto& [side, n] : batch.by_side) counts.by_side[side] += n;
        counts.total += batch.total;
        shop = rollout_status(rig.admin(), "shop");
        return str(field(shop, "phase")) == "Healthy" && str(field(shop, "stable")) == "v3";
      },
      15s);
  ASSERT_TRUE(done) << summary(shop);
  EXPECT_LT(Clock::now() - started, 10s) << "shop's 3 s of pauses took too long";
  EXPECT_EQ(counts.count("v1") + counts.count("v2"), counts.total) << counts.describe();
  EXPECT_GT(counts.count("v2"), 0) << counts.describe();
  json::value web = rig.status();
  EXPECT_TRUE(waiting_on_gate(web)) << summary(web);
  // One call at a time to a hanging gate: the next only once the 10 s bound ended the last.
  EXPECT_LE(polls(gate).size(), 1 + static_cast<size_t>((Clock::now() - first_poll) / 10s));
}

}  // namespace
}  // namespace vane::it
