// Experiment steps in the canary state machine and its traffic (SPEC §14): the analyses start on
// entering the step, the step completes once the duration has passed and every analysis is
// Successful, Failed/Error aborts, Inconclusive pauses; the templates' shares apply while the step
// is current and end with it (completion, abort, promote, a new desired); the deadline and the
// runs' statuses survive a restart, where the runs still Running start afresh.
#include <gtest/gtest.h>

#include "rollout/routing_table.hpp"
#include "rollout/state_machine.hpp"
#include "rollout/state_store.hpp"
#include "rollout/traffic_plan.hpp"
#include "tests/rollout/canary_fixture.hpp"

namespace vane::rollout::test {
namespace {

using K = Event::Kind;
using Phase_ = Event::AnalysisPhase;
using config::Trigger;

constexpr std::string_view kExperiment = R"(    strategy:
      canary:
        steps:
          - setWeight: 10
          - experiment:
              duration: 5m
              templates:
                - {name: baseline, upstream: v3, weight: 5}
                - {name: canary, specRef: canary, weight: 5}
              analyses:
                - {name: compare, templateName: success-rate, args: [{name: threshold, value: "0.9"}]}
                - {name: again, templateName: success-rate, args: [{name: threshold, value: "0.8"}]}
          - setWeight: 50
          - experiment:
              name: quick
              templates: [{name: canary, specRef: stable, weight: 20}]
              analyses: [{name: once, templateName: success-rate, args: [{name: threshold, value: "1"}]}]
)";

Effect start_run(uint32_t step, uint32_t run) {
  return Effect{.kind = Effect::Kind::StartAnalysis,
                .analysis = AnalysisKind::Experiment,
                .step_index = step,
                .run = run};
}

Event run_done(uint32_t run, Phase_ phase, std::string message = {}) {
  Event e = done(AnalysisKind::Experiment, phase, std::move(message));
  e.run = run;
  return e;
}

/// A rollout of v2 running the experiment of step 1 since t0.
Machine in_experiment() {
  Machine m(rollout_yaml(kExperiment));
  m.send(desired("v2"), 0s);
  return m;
}

std::vector<ExperimentShare> shares(const Machine& m) {
  return plan_traffic(m.spec(), m.state, true).experiment;
}

TEST(ExperimentStepTest, EnteringStartsEveryAnalysisAndTheTemplatesTakeTheirShares) {
  Machine m(rollout_yaml(kExperiment));
  const auto t = m.send(desired("v2"), 0s);
  EXPECT_EQ(m.state.step_index, 1u);
  EXPECT_EQ(m.state.phase, Phase::Progressing);
  EXPECT_EQ(m.state.message, "experiment experiment-1 (step 1) running");
  EXPECT_EQ(m.state.experiment_deadline, t0() + 5min);
  EXPECT_EQ(m.state.experiment_runs,
            (std::vector{AnalysisStatus::Running, AnalysisStatus::Running}));
  EXPECT_EQ(t.effects, (std::vector{start_run(1, 0), start_run(1, 1)}));
  ASSERT_NE(running_experiment(m.spec(), m.state), nullptr);
  EXPECT_EQ(experiment_phase(m.state, m.now), "Running");

  const TrafficPlan plan = plan_traffic(m.spec(), m.state, true);
  EXPECT_EQ(plan.weight_centi, 1000u);  // the earlier canary weight stays
  EXPECT_EQ(plan.experiment, (std::vector<ExperimentShare>{{0, "v3", 500}, {1, "v2", 500}}));
  // An unhealthy canary loses its weight; the experiment keeps its templates.
  EXPECT_EQ(plan_traffic(m.spec(), m.state, false).experiment.size(), 2u);
}

TEST(ExperimentStepTest, CompletesWhenTheDurationHasPassedAndEveryAnalysisSucceeded) {
  Machine m = in_experiment();
  m.send(run_done(0, Phase_::Successful), 10s);
  EXPECT_EQ(m.state.step_index, 1u);
  m.send(run_done(1, Phase_::Successful), 20s);
  EXPECT_EQ(m.state.step_index, 1u);  // the duration has not passed
  EXPECT_EQ(experiment_phase(m.state, m.now), "Running");
  EXPECT_EQ(m.state.message, "experiment experiment-1 (step 1) running until "
                             "2024-05-01T12:05:00.000Z");
  m.send(tick(), 4min);
  EXPECT_EQ(m.state.step_index, 1u);
  const auto t = m.send(tick(), 5min);
  EXPECT_EQ(m.state.step_index, 3u);  // setWeight 50, then the quick experiment
  EXPECT_EQ(m.state.experiment_runs, std::vector{AnalysisStatus::Running});
  EXPECT_FALSE(m.state.experiment_deadline);  // no duration: until its analyses finish
  EXPECT_EQ(t.effects, std::vector{start_run(3, 0)});
  EXPECT_EQ(shares(m), (std::vector<ExperimentShare>{{1, "v1", 2000}}));  // specRef stable

  m.send(run_done(0, Phase_::Successful), 6min);
  EXPECT_EQ(m.state.phase, Phase::Healthy);
  EXPECT_EQ(m.state.stable, "v2");
  EXPECT_TRUE(shares(m).empty());
}

TEST(ExperimentStepTest, AnalysesFinishingAfterTheDurationCompleteTheStepAtOnce) {
  Machine m = in_experiment();
  m.send(tick(), 6min);
  EXPECT_EQ(m.state.step_index, 1u);
  m.send(run_done(1, Phase_::Successful), 6min);
  m.send(run_done(0, Phase_::Successful), 7min);
  EXPECT_EQ(m.state.step_index, 3u);
}

TEST(ExperimentStepTest, AFailedOrErrorAnalysisAbortsAndTheTrafficReturnsToStable) {
  for (const Phase_ phase : {Phase_::Failed, Phase_::Error}) {
    Machine m = in_experiment();
    const auto t = m.send(run_done(1, phase, "canary slower than baseline"), 30s);
    EXPECT_TRUE(m.state.aborted);
    EXPECT_EQ(m.state.abort_reason, "experiment experiment-1 analysis again " +
                                        std::string(to_string(phase)) +
                                        ": canary slower than baseline");
    EXPECT_TRUE(m.state.experiment_runs.empty());
    EXPECT_FALSE(m.state.experiment_deadline);
    EXPECT_EQ(t.effects, std::vector{terminate_all()});
    EXPECT_EQ(running_experiment(m.spec(), m.state), nullptr);
    EXPECT_TRUE(shares(m).empty());
  }
}

TEST(ExperimentStepTest, InconclusivePausesKeepsTheSharesAndPromoteMovesPast) {
  Machine m = in_experiment();
  auto t = m.send(run_done(0, Phase_::Inconclusive), 30s);
  EXPECT_EQ(m.state.phase, Phase::Paused);
  EXPECT_EQ(m.state.pause_reason, PauseReason::Inconclusive);
  EXPECT_EQ(experiment_phase(m.state, m.now), "Inconclusive");
  EXPECT_EQ(shares(m).size(), 2u);  // the step has not ended
  m.send(tick(), 10min);
  EXPECT_EQ(m.state.step_index, 1u);

  t = m.send(command(K::Promote), 11min);  // past the step; the other run is terminated
  EXPECT_EQ(m.state.step_index, 3u);
  EXPECT_EQ(t.effects[0], (Effect{.kind = Effect::Kind::TerminateAnalysis,
                                  .analysis = AnalysisKind::Experiment,
                                  .step_index = 1}));
  EXPECT_EQ(t.effects[1], start_run(3, 0));
}

TEST(ExperimentStepTest, PromoteAbortAndANewDesiredEndTheExperiment) {
  Machine promoted = in_experiment();
  auto t = promoted.send(command(K::Promote), 10s);
  EXPECT_EQ(promoted.state.step_index, 3u);
  EXPECT_EQ(t.effects[0].kind, Effect::Kind::TerminateAnalysis);
  EXPECT_EQ(t.effects[0].analysis, AnalysisKind::Experiment);
  EXPECT_EQ(shares(promoted), (std::vector<ExperimentShare>{{1, "v1", 2000}}));

  Machine full = in_experiment();
  full.send(command(K::PromoteFull), 10s);
  EXPECT_EQ(full.state.phase, Phase::Healthy);
  EXPECT_TRUE(shares(full).empty());

  Machine aborted = in_experiment();
  aborted.send(command(K::Abort, "no"), 10s);
  EXPECT_TRUE(shares(aborted).empty());
  EXPECT_TRUE(aborted.state.experiment_runs.empty());

  Machine again = in_experiment();
  t = again.send(desired("v3"), 1min);  // starts over: a fresh experiment and deadline
  EXPECT_EQ(again.state.step_index, 1u);
  EXPECT_EQ(again.state.experiment_deadline, t0() + 6min);
  EXPECT_EQ(t.effects, (std::vector{terminate_all(), start_run(1, 0), start_run(1, 1)}));
  again.send(desired("v1"), 2min);  // undo
  EXPECT_TRUE(shares(again).empty());
}

TEST(ExperimentStepTest, StaleResultsChangeNothing) {
  Machine m = in_experiment();
  m.send(run_done(0, Phase_::Successful), 10s);
  const RolloutState before = m.state;
  m.send(run_done(0, Phase_::Failed), 11s);  // already Successful
  EXPECT_EQ(m.state, before);
  m.send(run_done(5, Phase_::Failed), 11s);  // no such analysis
  EXPECT_EQ(m.state, before);
  Event other = run_done(1, Phase_::Failed);
  other.step_index = 3;  // another step's
  m.send(other, 11s);
  EXPECT_EQ(m.state, before);
}

TEST(ExperimentStepTest, ARestartKeepsTheDeadlineAndRestartsTheRunsStillRunning) {
  Machine m = in_experiment();
  m.send(run_done(0, Phase_::Successful), 10s);
  std::string error;
  const auto restored = state_from_json(state_to_json(m.state), &error);
  ASSERT_TRUE(restored) << error;
  EXPECT_EQ(restored->experiment_deadline, t0() + 5min);
  EXPECT_EQ(restored->experiment_runs,
            (std::vector{AnalysisStatus::Successful, AnalysisStatus::Running}));
  EXPECT_EQ(resume_effects(m.spec(), *restored), std::vector{start_run(1, 1)});
  m.state = *restored;
  m.send(desired("v2"), 1min);  // what a restart sends: the same desired keeps progress
  EXPECT_EQ(m.state.experiment_deadline, t0() + 5min);
  m.send(run_done(1, Phase_::Successful), 5min);
  EXPECT_EQ(m.state.step_index, 3u);
}

TEST(ExperimentStepTest, AStateFileWithoutTheExperimentFieldsStillLoads) {
  Machine m(rollout_yaml(kExperiment));
  std::string text = state_to_json(m.state);
  for (const std::string field : {",\"experimentDeadline\":null", ",\"experimentRuns\":[]"}) {
    const auto at = text.find(field);
    ASSERT_NE(at, std::string::npos) << text;
    text.erase(at, field.size());
  }
  std::string error;
  ASSERT_TRUE(state_from_json(text, &error)) << error;
}

TEST(ExperimentStepTest, TheRoutingTablePicksTemplatesAfterTheCanaryThenStable) {
  Machine m = in_experiment();
  const auto config = load_config(rollout_yaml(kExperiment));
  RolloutRouting routing{.stable = 0, .canary = 1, .plan = plan_traffic(m.spec(), m.state, true)};
  const RoutingTable table(*config, {routing});
  RequestView request;
  request.host = "shop";
  request.path = "/";
  // Draws (random % 10000): [0,1000) canary, [1000,1500) baseline (v3), [1500,2000) canary
  // template (v2), the rest stable.
  const auto at = [&](uint64_t draw) { return *table.decide(request, draw); };
  EXPECT_EQ(at(999).target, analysis::Target::Canary);
  EXPECT_EQ(at(1000).target, analysis::Target::Experiment0);
  EXPECT_EQ(at(1000).upstream, 2u);
  EXPECT_EQ(at(1499).target, analysis::Target::Experiment0);
  EXPECT_EQ(at(1500).target, analysis::Target::Experiment1);
  EXPECT_EQ(at(1500).upstream, 1u);
  EXPECT_EQ(at(2000).target, analysis::Target::Stable);
  EXPECT_EQ(at(2000).upstream, 0u);
  EXPECT_TRUE(table.serves(0, 2));  // the baseline's upstream takes traffic
  const RoutingTable before(*config, {RolloutRouting{.stable = 0, .canary = 1, .plan = {}}});
  EXPECT_FALSE(before.serves(0, 2));
}

}  // namespace
}  // namespace vane::rollout::test
