#include "control/analysis_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <cmath>
#include <limits>

#include "analysis/analysis_run.hpp"
#include "config/duration.hpp"
#include "control/analysis_providers.hpp"
#include "control/http_client.hpp"
#include "control/status_json.hpp"
#include "rollout/analysis_request.hpp"

namespace vane::control {
namespace {

using analysis::AnalysisRun;
using analysis::Measurement;
using analysis::RunMetric;
using analysis::RunPhase;
using analysis::Sample;
using analysis::Value;
using analysis::WallTime;
using rollout::AnalysisKind;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::array<RunPhase, 4> kFinishedPhases{RunPhase::Successful, RunPhase::Failed,
                                                  RunPhase::Error, RunPhase::Inconclusive};

rollout::Event::AnalysisPhase event_phase(RunPhase phase) {
  switch (phase) {
    case RunPhase::Successful: return rollout::Event::AnalysisPhase::Successful;
    case RunPhase::Failed: return rollout::Event::AnalysisPhase::Failed;
    case RunPhase::Inconclusive: return rollout::Event::AnalysisPhase::Inconclusive;
    default: return rollout::Event::AnalysisPhase::Error;
  }
}

size_t phase_slot(RunPhase phase) {
  for (size_t i = 0; i < kFinishedPhases.size(); ++i) {
    if (kFinishedPhases[i] == phase) return i;
  }
  return 2;  // Error
}

/// A side a builtin metric measures: the series of `upstream` as `target`.
struct Side {
  analysis::Target target = analysis::Target::Canary;
  std::string upstream;
};

/// What an experiment's analyses measure (SPEC §14): its templates by name, the default target
/// (the template named canary, else the first not named baseline) and the baseline (the
/// template named baseline, else stable).
struct ExperimentSides {
  std::vector<std::pair<std::string, Side>> templates;
  Side measured;
  Side baseline;
};

ExperimentSides experiment_sides(const config::ExperimentStep& e,
                                 const rollout::RolloutState& state) {
  ExperimentSides out;
  out.baseline = {analysis::Target::Stable, state.stable};
  const Side* canary = nullptr;
  const Side* other = nullptr;
  for (const config::ExperimentTemplate& t : e.templates) {
    const std::string& upstream = t.spec_ref == "stable"   ? state.stable
                                  : t.spec_ref == "canary" ? state.canary
                                                           : t.upstream;
    out.templates.emplace_back(t.name, Side{analysis::experiment_target(t.slot), upstream});
  }
  for (const auto& [name, side] : out.templates) {
    if (name == "canary") canary = &side;
    if (name == "baseline") out.baseline = side;
    if (name != "baseline" && other == nullptr) other = &side;
  }
  out.measured = canary ? *canary : other ? *other : Side{analysis::Target::Canary, state.canary};
  return out;
}

bool uses_baseline(const RunMetric& m) {
  return (m.success && m.success->uses_baseline()) || (m.failure && m.failure->uses_baseline());
}

}  // namespace

struct AnalysisRunner::Link {
  AnalysisRunner* runner;  ///< null once the runner is gone
};

/// A run and what drives it: its alarm (the next due time, by the runner's clock), the timer
/// drive() waits on until woken (by the alarm, the end of a batch, or stop()) and the HTTP
/// exchanges and exec programs in flight.
struct AnalysisRunner::Driver {
  Driver(Executor executor, Clock& c, std::shared_ptr<Link> l, std::string r, AnalysisKind k,
         uint32_t i, AnalysisRun a)
      : clock(c), link(std::move(l)), rollout(std::move(r)), run_kind(k), run_index(i),
        run(std::move(a)), timer(executor) {}

  /// No measurement is recorded and no hook called for this run afterwards.
  void stop() {
    stopped = true;
    done_pending = false;
    alarm.reset();
    timer.cancel();
    for (auto& call : inflight) call->cancel();
    inflight.clear();
  }

  Sample builtin(const RunMetric& metric) const;
  /// The side a builtin `target` names for this run; nullopt when it names none.
  std::optional<Side> side(const config::BuiltinProvider& b) const;
  /// A prometheus or web measurement's answer.
  Task<ProviderResult> ask(const config::Metric& spec, std::shared_ptr<HttpCancel> cancel);
  /// An exec measurement's outcome.
  Task<ProviderResult> execute(const config::ExecProvider& x, std::shared_ptr<HttpCancel> cancel);
  /// A measurement of a provider that answers later (all but builtin).
  Task<Sample> fetch(const RunMetric& metric);
  /// Waits until woken: timer.cancel() (a batch ended, the alarm rang, or stop()).
  Task<void> wait_woken();
  /// Waits until the clock reads `at`, or until woken earlier.
  Task<void> sleep_until(WallTime at);

  Clock& clock;  ///< the runner's; not used once stopped (the runner may be gone)
  std::shared_ptr<Link> link;
  std::string rollout;  ///< the rollout's name
  AnalysisKind run_kind;  ///< what the run is for: TerminateAnalysis and `done` name it
  uint32_t run_index;     ///< an Experiment run's index in its step's analyses
  uint32_t step_index = 0;  ///< the step a Step or Experiment run is for
  std::optional<ExperimentSides> experiment;  ///< an Experiment run's templates
  AnalysisRun run;
  Timer timer;
  std::unique_ptr<Alarm> alarm;  ///< while sleep_until() waits; after `timer`, which it cancels
  size_t pending = 0;  ///< measurements of the current batch still running
  std::vector<std::shared_ptr<HttpCancel>> inflight;
  bool stopped = false;
  bool done_pending = false;  ///< ended by itself; `done` posted, not yet delivered
};

Sample AnalysisRunner::Driver::builtin(const RunMetric& metric) const {
  const config::BuiltinProvider& b = *metric.spec.builtin;
  AnalysisRunner& runner = *link->runner;
  const auto index = runner.index_of(rollout);
  const auto kind = analysis::parse_builtin_metric(b.metric);
  const auto target = side(b);
  if (!index || !runner.hooks_.builtin) return Sample::of_error("builtin measurements are unavailable");
  if (!kind) return Sample::of_error("unknown builtin metric \"" + b.metric + "\"");
  if (!target) {
    return Sample::of_error("builtin target \"" + b.target +
                            "\" names no template of this run's experiment");
  }
  const int64_t window = std::max<int64_t>(1, (b.window.count() + 999) / 1000);
  const bool histogram = analysis::needs_histogram(*kind);
  const auto stats = runner.hooks_.builtin(*index, target->upstream, target->target, window, histogram);
  Sample s;
  s.value = Value::number(analysis::builtin_value(*kind, stats));
  s.baseline = Value::number(kNaN);
  if (uses_baseline(metric)) {
    const Side baseline = experiment ? experiment->baseline : Side{analysis::Target::Stable, run.stable};
    const auto base =
        runner.hooks_.builtin(*index, baseline.upstream, baseline.target, window, histogram);
    if (base.counts.requests >= b.min_requests) {
      s.baseline = Value::number(analysis::builtin_value(*kind, base));
    }
  }
  if (stats.counts.requests < b.min_requests) {
    s.inconclusive = std::to_string(stats.counts.requests) + " requests in the last " +
                     config::format_duration(std::chrono::seconds{window}) + " < minRequests " +
                     std::to_string(b.min_requests);
  }
  return s;
}

std::optional<Side> AnalysisRunner::Driver::side(const config::BuiltinProvider& b) const {
  if (experiment && !b.target_given) return experiment->measured;
  if (b.target == "canary") return Side{analysis::Target::Canary, run.measured};
  if (b.target == "stable") return Side{analysis::Target::Stable, run.stable};
  if (b.target == "mirror") return Side{analysis::Target::Mirror, run.measured};
  if (!experiment) return std::nullopt;
  for (const auto& [name, found] : experiment->templates) {
    if (b.target == "experiment:" + name) return found;
  }
  return std::nullopt;
}

Task<ProviderResult> AnalysisRunner::Driver::ask(const config::Metric& spec,
                                                 std::shared_ptr<HttpCancel> cancel) {
  const bool prometheus = spec.prometheus.has_value();
  HttpCall call = prometheus ? prometheus_call(*spec.prometheus) : web_call(*spec.web);
  const HttpReply reply = co_await link->runner->http_.fetch(std::move(call), std::move(cancel));
  co_return prometheus ? prometheus_result(reply) : web_result(reply, spec.web->json_path);
}

Task<ProviderResult> AnalysisRunner::Driver::execute(const config::ExecProvider& x,
                                                     std::shared_ptr<HttpCancel> cancel) {
  const std::chrono::seconds timeout{x.timeout_seconds};
  const ExecResult outcome = co_await run_command(x.command, timeout, std::move(cancel));
  co_return exec_result(outcome, x);
}

Task<Sample> AnalysisRunner::Driver::fetch(const RunMetric& metric) {
  auto cancel = std::make_shared<HttpCancel>();
  inflight.push_back(cancel);
  ProviderResult result;  // GCC 12: no co_await inside a conditional expression
  if (metric.spec.exec) {
    result = co_await execute(*metric.spec.exec, cancel);
  } else {
    result = co_await ask(metric.spec, cancel);
  }
  std::erase(inflight, cancel);
  Sample sample;
  sample.value = std::move(result.value);
  sample.error = std::move(result.error);
  sample.failed = std::move(result.failed);
  sample.successful = std::move(result.successful);
  co_return sample;
}

Task<void> AnalysisRunner::Driver::wait_woken() {
  timer.expires_at(Timer::time_point::max());
  co_await timer.async_wait(use_tuple);
}

Task<void> AnalysisRunner::Driver::sleep_until(WallTime at) {
  alarm = clock.wake_at(at, [this] { timer.cancel(); });  // the alarm dies before `this`
  co_await wait_woken();
  alarm.reset();
}

Task<void> AnalysisRunner::measure(std::shared_ptr<Driver> d, size_t index) {
  if (d->stopped) co_return;  // stopped before this coroutine began
  const RunMetric& metric = d->run.metrics[index];
  const WallTime started = d->clock.now();
  Sample sample;
  if (metric.spec.builtin) {
    sample = d->builtin(metric);
  } else if (metric.spec.prometheus || metric.spec.web || metric.spec.exec) {
    sample = co_await d->fetch(metric);
  } else {
    sample.error = "the metric has no provider";
  }
  if (d->stopped) co_return;
  Measurement m = judge_sample(metric, sample);
  m.started_at = started;
  m.finished_at = d->clock.now();
  if (m.phase != analysis::MeasurementPhase::Error) {
    d->link->runner->note_value(d->rollout, metric.result.name, sample.value);
  }
  record(d->run.metrics[index], std::move(m), d->run.background);
  if (--d->pending == 0) d->timer.cancel();  // wakes drive()
}

Task<void> AnalysisRunner::drive(std::shared_ptr<Driver> d) {
  for (;;) {
    if (d->stopped) co_return;
    const auto due = next_due(d->run);
    if (!due) break;  // every metric decided
    const WallTime now = d->clock.now();
    if (*due > now) {
      co_await d->sleep_until(*due);
      continue;  // stopped, or re-check what is due
    }
    // Everything due now is measured together; the run is judged once all have ended.
    const auto batch = due_metrics(d->run, now);
    d->pending = batch.size();
    for (const size_t metric : batch) {
      net::co_spawn(d->timer.get_executor(), measure(d, metric), net::detached);
    }
    while (d->pending > 0 && !d->stopped) co_await d->wait_woken();
    if (d->stopped) co_return;
    if (judge(d->run, d->clock.now())) break;
  }
  judge(d->run, d->clock.now());  // a run without metrics is Successful
  d->link->runner->finished(d);
}

AnalysisRunner::AnalysisRunner(net::io_context& io, Hooks hooks, HttpClient& http,
                               Clock& clock)
    : io_(io),
      hooks_(std::move(hooks)),
      clock_(clock),
      link_(std::make_shared<Link>(Link{this})),
      http_(http) {}

AnalysisRunner::~AnalysisRunner() {
  link_->runner = nullptr;
  for (auto& [name, history] : rollouts_) {
    for (auto& driver : history.runs) driver->stop();
  }
}

void AnalysisRunner::set_config(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
  const auto gone = [&](const std::string& name) { return !config_->find_rollout(name); };
  for (auto it = rollouts_.begin(); it != rollouts_.end();) {
    if (!gone(it->first)) {
      ++it;
      continue;
    }
    for (auto& driver : it->second.runs) driver->stop();
    it = rollouts_.erase(it);
  }
  std::erase_if(finished_, [&](const auto& entry) { return gone(entry.first); });
  std::erase_if(last_values_, [&](const auto& entry) { return gone(entry.first); });
}

void AnalysisRunner::apply(uint32_t rollout, const rollout::Effect& effect,
                           const rollout::RolloutState& state) {
  if (!config_ || rollout >= config_->rollouts.size()) {
    if (hooks_.warn) hooks_.warn("analysis: no rollout #" + std::to_string(rollout));
    return;
  }
  const std::string& name = config_->rollouts[rollout].name;
  if (effect.kind == rollout::Effect::Kind::StartAnalysis) return start(name, effect, state);
  const auto it = rollouts_.find(name);
  if (it == rollouts_.end()) return;
  stop_kind(it->second, effect.analysis, effect.all);
  if (effect.all) it->second.attempt_open = false;
}

void AnalysisRunner::start(const std::string& name, const rollout::Effect& effect,
                           const rollout::RolloutState& state) {
  History& history = rollouts_[name];
  if (!history.attempt_open || history.canary != state.canary) begin_attempt(history, state);
  const bool experiment = effect.analysis == AnalysisKind::Experiment;
  // A run of this kind (an experiment's: of this index) is replaced.
  stop_kind(history, effect.analysis, false,
            experiment ? std::optional<uint32_t>(effect.run) : std::nullopt);
  const WallTime now = clock_.now();
  const config::Rollout& spec = *config_->find_rollout(name);
  const rollout::AnalysisRequest request =
      rollout::analysis_request(spec, effect.analysis, effect.step_index, effect.run);
  AnalysisRun run;
  if (request.spec) {
    run = analysis::prepare_run(*config_, *request.spec, request.background, now);
  } else {
    run.started_at = now;
    run.finished_at = now;
    run.phase = RunPhase::Error;
    run.message = "rollout " + name + " has no " + request.label + " analysis";
  }
  run.name = name + "-" + std::to_string(history.attempt) + "-" + request.label + "-" +
             std::to_string(++history.started);
  run.measured = state.canary.empty() ? state.stable : state.canary;
  run.stable = state.stable;
  auto driver = std::make_shared<Driver>(io_.get_executor(), clock_, link_, name,
                                         effect.analysis, effect.run, std::move(run));
  driver->step_index = effect.step_index;
  if (experiment && request.spec) {
    driver->experiment = experiment_sides(spec.canary->steps[effect.step_index].experiment, state);
  }
  history.runs.push_back(driver);
  trim(history);
  if (driver->run.finished()) return finished(driver);
  net::co_spawn(io_, drive(std::move(driver)), net::detached);
}

void AnalysisRunner::stop_kind(History& history, AnalysisKind kind, bool all,
                               std::optional<uint32_t> run) {
  const WallTime now = clock_.now();
  for (auto& driver : history.runs) {
    if (!all && driver->run_kind != kind) continue;
    if (!all && run && driver->run_index != *run) continue;
    if (!driver->run.finished()) {
      terminate_by_rollout(driver->run, now);
      count(driver->rollout, driver->run.phase);
    }
    driver->stop();  // also withholds a `done` not yet delivered: the rollout moved on
  }
}

void AnalysisRunner::begin_attempt(History& history, const rollout::RolloutState& state) {
  stop_kind(history, AnalysisKind::Step, true);
  history.runs.clear();
  ++history.attempt;
  history.attempt_open = true;
  history.canary = state.canary;
  history.started = 0;
}

void AnalysisRunner::trim(History& history) {
  while (history.runs.size() > kMaxRuns) {
    const auto oldest = std::find_if(history.runs.begin(), history.runs.end(),
                                     [](const auto& d) { return d->run.finished(); });
    if (oldest == history.runs.end()) return;
    (*oldest)->stop();
    history.runs.erase(oldest);
  }
}

void AnalysisRunner::finished(const std::shared_ptr<Driver>& driver) {
  count(driver->rollout, driver->run.phase);
  driver->done_pending = true;
  net::post(io_, [link = link_, driver] {
    if (link->runner == nullptr || !driver->done_pending) return;
    driver->done_pending = false;
    link->runner->deliver(*driver);
  });
}

void AnalysisRunner::deliver(Driver& driver) {
  const auto index = index_of(driver.rollout);
  if (!index || !hooks_.done) return;
  hooks_.done(*index, driver.run_kind, driver.run_index, event_phase(driver.run.phase),
              driver.run.message);
}

void AnalysisRunner::count(const std::string& rollout, RunPhase phase) {
  auto [it, added] = finished_.try_emplace(rollout);
  ++it->second[phase_slot(phase)];
}

void AnalysisRunner::note_value(const std::string& rollout, const std::string& metric,
                                const Value& value) {
  std::optional<double> number;
  if (value.type() == Value::Type::Number) number = value.as_number();
  if (value.type() == Value::Type::Bool) number = value.as_bool() ? 1.0 : 0.0;
  if (value.type() == Value::Type::List && value.as_list().size() == 1 &&
      value.as_list()[0].type() == Value::Type::Number) {
    number = value.as_list()[0].as_number();
  }
  if (number) last_values_[rollout][metric] = *number;
}

std::optional<uint32_t> AnalysisRunner::index_of(std::string_view rollout) const {
  if (!config_) return std::nullopt;
  for (uint32_t i = 0; i < config_->rollouts.size(); ++i) {
    if (config_->rollouts[i].name == rollout) return i;
  }
  return std::nullopt;
}

boost::json::array AnalysisRunner::experiment_runs(uint32_t rollout, uint32_t step) const {
  boost::json::array out;
  if (!config_ || rollout >= config_->rollouts.size()) return out;
  const auto it = rollouts_.find(config_->rollouts[rollout].name);
  if (it == rollouts_.end()) return out;
  for (auto d = it->second.runs.rbegin(); d != it->second.runs.rend(); ++d) {
    if ((*d)->run_kind == AnalysisKind::Experiment && (*d)->step_index == step) {
      out.push_back(run_json((*d)->run));
    }
  }
  return out;
}

boost::json::array AnalysisRunner::runs(uint32_t rollout) const {
  boost::json::array out;
  if (!config_ || rollout >= config_->rollouts.size()) return out;
  const auto it = rollouts_.find(config_->rollouts[rollout].name);
  if (it == rollouts_.end()) return out;
  for (auto d = it->second.runs.rbegin(); d != it->second.runs.rend(); ++d) {
    out.push_back(run_json((*d)->run));
  }
  return out;
}

void AnalysisRunner::add_metrics(std::vector<prometheus::MetricFamily>& out) const {
  using prometheus::ClientMetric;
  prometheus::MetricFamily runs{"vane_analysis_runs_total", "Analysis runs ended, by phase.",
                                prometheus::MetricType::Counter, {}};
  // Every configured rollout from the start, at 0: an alert's increase() needs the series to
  // exist before its first Failed run.
  auto finished = finished_;
  if (config_) {
    for (const auto& spec : config_->rollouts) finished.try_emplace(spec.name);
  }
  for (const auto& [rollout, counts] : finished) {
    for (size_t i = 0; i < kFinishedPhases.size(); ++i) {
      ClientMetric sample;
      sample.label = {{"phase", std::string(analysis::to_string(kFinishedPhases[i]))},
                      {"rollout", rollout}};
      sample.counter.value = static_cast<double>(counts[i]);
      runs.metric.push_back(std::move(sample));
    }
  }
  prometheus::MetricFamily values{"vane_analysis_measurement_value",
                                  "The last numeric value an analysis metric measured.",
                                  prometheus::MetricType::Gauge, {}};
  for (const auto& [rollout, metrics] : last_values_) {
    for (const auto& [metric, value] : metrics) {
      ClientMetric sample;
      sample.label = {{"metric", metric}, {"rollout", rollout}};
      sample.gauge.value = value;
      values.metric.push_back(std::move(sample));
    }
  }
  if (!runs.metric.empty()) out.push_back(std::move(runs));
  if (!values.metric.empty()) out.push_back(std::move(values));
}

}  // namespace vane::control
