// The analysis run engine (SPEC §5): starts and stops the runs the rollout state machine asks
// for, takes their measurements on schedule (builtin, prometheus, web, exec), judges them, reports
// each run's end, and shows the runs of the current attempt (RUN JSON) and their metrics.
// One per process, on the control thread's io_context; nothing here blocks it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/array.hpp>
#include <prometheus/metric_family.h>

#include "analysis/expression_value.hpp"
#include "analysis/judge.hpp"
#include "analysis/target.hpp"
#include "analysis/window.hpp"
#include "config/config.hpp"
#include "control/asio.hpp"
#include "control/clock.hpp"
#include "rollout/rollout_state.hpp"
#include "rollout/state_machine.hpp"

namespace vane::control {

class HttpClient;

class AnalysisRunner {
 public:
  /// Run and measurement times are shown to operators: the system clock.
  using Clock = control::Clock<std::chrono::system_clock>;

  struct Hooks {
    /// A run ended by itself (not terminated by the rollout). Posted, never called from apply();
    /// withheld when a TerminateAnalysis of its kind (or all), a new run of its kind or a reload
    /// dropping its rollout comes first. `rollout` is the index in the config current then.
    /// `run`: an Experiment run's index in its step's analyses (0 otherwise).
    std::function<void(uint32_t rollout, rollout::AnalysisKind kind, uint32_t run,
                       rollout::Event::AnalysisPhase phase, std::string message)>
        done;
    /// The builtin provider's window of `rollout`'s traffic answered by `upstream` as `target`.
    std::function<analysis::WindowStats(uint32_t rollout, const std::string& upstream,
                                        analysis::Target target, int64_t window_seconds,
                                        bool histogram)>
        builtin;
    /// What an operator should know (an effect for a rollout the config does not have).
    std::function<void(std::string_view)> warn;
  };

  /// `io` (the control thread's) must outlive the runner. Nothing runs before set_config().
  /// `http` (the process's client, on `io`) must outlive the runner. `clock` gives run,
  /// measurement and due times and wakes the runner when measurements fall due (TimerClock over
  /// `io` in the process, a manual clock in tests).
  AnalysisRunner(boost::asio::io_context& io, Hooks hooks, HttpClient& http,
                 Clock& clock);
  AnalysisRunner(const AnalysisRunner&) = delete;
  AnalysisRunner& operator=(const AnalysisRunner&) = delete;
  /// Stops every run silently: no hook is called afterwards.
  ~AnalysisRunner();

  /// The config rollout indices refer to from now on (call it BEFORE the controller reconfigures,
  /// whose effects use the new indices). Runs of rollouts no longer in it are dropped; running
  /// runs keep the templates they started with.
  void set_config(std::shared_ptr<const config::Config> config);

  /// Carries out an Effect of the state machine for `rollout` (index into the config), `state`
  /// being its state after the transition: `canary` is the measured upstream (builtin target
  /// canary/mirror; `stable` when there is no canary) and `stable` the baseline.
  /// StartAnalysis starts a run (replacing a running one of the same kind, as terminated);
  /// TerminateAnalysis stops the running run(s) of that kind, or all, without calling `done`.
  /// The first StartAnalysis after a TerminateAnalysis of all kinds, or for another canary,
  /// begins a new attempt: the previous attempt's runs are forgotten.
  void apply(uint32_t rollout, const rollout::Effect& effect, const rollout::RolloutState& state);

  /// The runs of the current attempt, newest first (SPEC §6 RUN objects).
  boost::json::array runs(uint32_t rollout) const;
  /// Those of them that are the experiment step `step`'s analyses.
  boost::json::array experiment_runs(uint32_t rollout, uint32_t step) const;

  /// vane_analysis_runs_total{rollout,phase} and vane_analysis_measurement_value{rollout,metric},
  /// each only when it has samples.
  void add_metrics(std::vector<prometheus::MetricFamily>& out) const;

  /// At most this many runs are kept per rollout (oldest finished ones go first).
  static constexpr size_t kMaxRuns = 32;

 private:
  struct Link;
  struct Driver;
  /// A rollout's runs (by name, so that a reload that moves indices keeps them).
  struct History {
    uint64_t attempt = 0;       ///< attempts begun since the rollout appeared
    bool attempt_open = false;  ///< false after a TerminateAnalysis of all kinds
    std::string canary;         ///< the canary of the current attempt
    uint32_t started = 0;       ///< runs started in the attempt (for names)
    std::vector<std::shared_ptr<Driver>> runs;  ///< oldest first
  };

  void start(const std::string& name, const rollout::Effect& effect,
             const rollout::RolloutState& state);
  /// `run`: only the Experiment run of that index (a new one replaces it); nullopt: every run
  /// of `kind`.
  void stop_kind(History& history, rollout::AnalysisKind kind, bool all,
                 std::optional<uint32_t> run = std::nullopt);
  void begin_attempt(History& history, const rollout::RolloutState& state);
  void trim(History& history);
  /// A run ended by itself: counted, and `done` posted.
  void finished(const std::shared_ptr<Driver>& driver);
  void deliver(Driver& driver);
  void count(const std::string& rollout, analysis::RunPhase phase);
  void note_value(const std::string& rollout, const std::string& metric,
                  const analysis::Value& value);
  std::optional<uint32_t> index_of(std::string_view rollout) const;

  /// Takes the run's measurements when due until it is decided or stopped.
  static Task<void> drive(std::shared_ptr<Driver> driver);
  /// One measurement of `metric`, recorded when it ends (unless the run was stopped).
  static Task<void> measure(std::shared_ptr<Driver> driver, size_t metric);

  boost::asio::io_context& io_;
  Hooks hooks_;
  Clock& clock_;  ///< outlives the runs' alarms
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<Link> link_;
  HttpClient& http_;  ///< what the prometheus and web providers ask through
  std::map<std::string, History> rollouts_;
  /// Finished runs by rollout, indexed Successful, Failed, Error, Inconclusive.
  std::map<std::string, std::array<uint64_t, 4>> finished_;
  /// The last numeric measurement value by rollout and metric.
  std::map<std::string, std::map<std::string, double>> last_values_;
};

}  // namespace vane::control
