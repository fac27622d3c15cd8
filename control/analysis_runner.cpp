#include "control/analysis_runner.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <cmath>
#include <limits>

#include "config/duration.hpp"
#include "control/analysis_providers.hpp"
#include "control/analysis_run.hpp"
#include "control/http_client.hpp"

namespace vane::control {
namespace {

using analysis::RunPhase;
using analysis::Value;
using analysis::WallTime;
using rollout::AnalysisKind;
using SystemClock = std::chrono::system_clock;

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

std::optional<analysis::Target> parse_target(std::string_view text) {
  if (text == "canary") return analysis::Target::Canary;
  if (text == "stable") return analysis::Target::Stable;
  if (text == "mirror") return analysis::Target::Mirror;
  return std::nullopt;
}

bool uses_baseline(const RunMetric& m) {
  return (m.success && m.success->uses_baseline()) || (m.failure && m.failure->uses_baseline());
}

/// What a provider gave for one measurement.
struct Sample {
  Value value;
  Value baseline;
  std::string error;         ///< an Error measurement
  std::string inconclusive;  ///< an Inconclusive measurement (fewer than minRequests)
};

Measurement judge_sample(const RunMetric& metric, const Sample& sample) {
  Measurement m;
  if (!sample.error.empty()) {
    m.phase = analysis::MeasurementPhase::Error;
    m.message = sample.error;
    return m;
  }
  m.value = analysis::to_text(sample.value);
  if (!sample.inconclusive.empty()) {
    m.phase = analysis::MeasurementPhase::Inconclusive;
    m.message = "result " + analysis::to_short_text(sample.value) + ": " + sample.inconclusive;
    return m;
  }
  auto verdict = analysis::judge_value(metric.success ? &*metric.success : nullptr,
                                       metric.failure ? &*metric.failure : nullptr, sample.value,
                                       sample.baseline);
  m.phase = verdict.phase;
  m.message = std::move(verdict.message);
  return m;
}

}  // namespace

struct AnalysisRunner::Link {
  AnalysisRunner* runner;  ///< null once the runner is gone
};

/// A run and what drives it: its timer (next due time, and the wake-up once the measurements
/// taken together have all ended) and the HTTP exchanges in flight.
struct AnalysisRunner::Driver {
  Driver(Executor executor, std::shared_ptr<Link> l, std::string r, AnalysisRun a)
      : link(std::move(l)), rollout(std::move(r)), run(std::move(a)), timer(executor) {}

  /// No measurement is recorded and no hook called for this run afterwards.
  void stop() {
    stopped = true;
    done_pending = false;
    timer.cancel();
    for (auto& call : inflight) call->cancel();
    inflight.clear();
  }

  Sample builtin(const RunMetric& metric) const;
  Task<Sample> fetch(const RunMetric& metric);

  std::shared_ptr<Link> link;
  std::string rollout;  ///< the rollout's name
  AnalysisRun run;
  Timer timer;
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
  const auto target = parse_target(b.target);
  if (!index || !runner.hooks_.builtin) return {{}, {}, "builtin measurements are unavailable", {}};
  if (!kind) return {{}, {}, "unknown builtin metric \"" + b.metric + "\"", {}};
  if (!target) return {{}, {}, "unknown builtin target \"" + b.target + "\"", {}};
  const int64_t window = std::max<int64_t>(1, (b.window.count() + 999) / 1000);
  const bool histogram = analysis::needs_histogram(*kind);
  const std::string& upstream = *target == analysis::Target::Stable ? run.stable : run.measured;
  const auto stats = runner.hooks_.builtin(*index, upstream, *target, window, histogram);
  Sample s;
  s.value = Value::number(analysis::builtin_value(*kind, stats));
  s.baseline = Value::number(kNaN);
  if (uses_baseline(metric)) {
    const auto base =
        runner.hooks_.builtin(*index, run.stable, analysis::Target::Stable, window, histogram);
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

Task<Sample> AnalysisRunner::Driver::fetch(const RunMetric& metric) {
  const bool prometheus = metric.spec.prometheus.has_value();
  HttpCall call =
      prometheus ? prometheus_call(*metric.spec.prometheus) : web_call(*metric.spec.web);
  auto cancel = std::make_shared<HttpCancel>();
  inflight.push_back(cancel);
  const HttpReply reply = co_await link->runner->http_->fetch(std::move(call), cancel);
  std::erase(inflight, cancel);
  const ProviderResult result =
      prometheus ? prometheus_result(reply) : web_result(reply, metric.spec.web->json_path);
  co_return Sample{result.value, Value::nil(), result.error, {}};
}

Task<void> AnalysisRunner::measure(std::shared_ptr<Driver> d, size_t index) {
  if (d->stopped) co_return;  // stopped before this coroutine began
  const RunMetric& metric = d->run.metrics[index];
  const WallTime started = SystemClock::now();
  Sample sample;
  if (metric.spec.builtin) {
    sample = d->builtin(metric);
  } else if (metric.spec.prometheus || metric.spec.web) {
    sample = co_await d->fetch(metric);
  } else {
    sample.error = "the metric has no provider";
  }
  if (d->stopped) co_return;
  Measurement m = judge_sample(metric, sample);
  m.started_at = started;
  m.finished_at = SystemClock::now();
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
    const auto wait = *due - SystemClock::now();
    if (wait > SystemClock::duration::zero()) {
      d->timer.expires_after(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
      co_await d->timer.async_wait(use_tuple);
      continue;  // stopped, or re-check what is due
    }
    // Everything due now is measured together; the run is judged once all have ended.
    const auto batch = due_metrics(d->run, SystemClock::now());
    d->pending = batch.size();
    for (const size_t metric : batch) {
      net::co_spawn(d->timer.get_executor(), measure(d, metric), net::detached);
    }
    while (d->pending > 0 && !d->stopped) {
      d->timer.expires_at(Timer::time_point::max());
      co_await d->timer.async_wait(use_tuple);
    }
    if (d->stopped) co_return;
    if (judge(d->run, SystemClock::now())) break;
  }
  judge(d->run, SystemClock::now());  // a run without metrics is Successful
  d->link->runner->finished(d);
}

AnalysisRunner::AnalysisRunner(net::io_context& io, Hooks hooks, HttpClient* http)
    : io_(io),
      hooks_(std::move(hooks)),
      link_(std::make_shared<Link>(Link{this})),
      own_http_(http ? nullptr : std::make_unique<HttpClient>(io)),
      http_(http ? http : own_http_.get()) {}

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
  stop_kind(history, effect.analysis, false);  // a run of this kind is replaced
  const WallTime now = SystemClock::now();
  const config::AnalysisSpec* spec =
      analysis_spec(*config_->find_rollout(name), effect.analysis, effect.step_index);
  AnalysisRun run;
  if (spec) {
    run = prepare_run(*config_, *spec, effect.analysis == AnalysisKind::Background, now);
  } else {
    run.started_at = now;
    run.finished_at = now;
    run.phase = RunPhase::Error;
    run.message = "rollout " + name + " has no " + kind_label(effect.analysis, effect.step_index) +
                  " analysis";
  }
  run.name = name + "-" + std::to_string(history.attempt) + "-" +
             kind_label(effect.analysis, effect.step_index) + "-" +
             std::to_string(++history.started);
  run.kind = effect.analysis;
  run.step_index = effect.step_index;
  run.measured = state.canary.empty() ? state.stable : state.canary;
  run.stable = state.stable;
  auto driver = std::make_shared<Driver>(io_.get_executor(), link_, name, std::move(run));
  history.runs.push_back(driver);
  trim(history);
  if (driver->run.finished()) return finished(driver);
  net::co_spawn(io_, drive(std::move(driver)), net::detached);
}

void AnalysisRunner::stop_kind(History& history, AnalysisKind kind, bool all) {
  const WallTime now = SystemClock::now();
  for (auto& driver : history.runs) {
    if (!all && driver->run.kind != kind) continue;
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
  hooks_.done(*index, driver.run.kind, event_phase(driver.run.phase), driver.run.message);
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

boost::json::array AnalysisRunner::runs(uint32_t rollout) const {
  boost::json::array out;
  if (!config_ || rollout >= config_->rollouts.size()) return out;
  const auto it = rollouts_.find(config_->rollouts[rollout].name);
  if (it == rollouts_.end()) return out;
  for (auto d = it->second.runs.rbegin(); d != it->second.runs.rend(); ++d) {
    out.push_back(to_json((*d)->run));
  }
  return out;
}

void AnalysisRunner::add_metrics(std::vector<prometheus::MetricFamily>& out) const {
  using prometheus::ClientMetric;
  prometheus::MetricFamily runs{"vane_analysis_runs_total", "Analysis runs ended, by phase.",
                                prometheus::MetricType::Counter, {}};
  for (const auto& [rollout, counts] : finished_) {
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
