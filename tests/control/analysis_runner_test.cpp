// AnalysisRunner on a manual clock: builtin metrics over a fake window (count, failureLimit,
// minRequests, baseline, dryRun, args, error retry), terminate, attempts, RUN JSON, metrics,
// reload, each moved through time explicitly (no real-time wait); the web and prometheus
// providers against tiny loopback servers, awaiting their socket I/O (bounded); exec with
// /bin/sh. The HTTP client's own tests are in http_client_test.cpp.
#include "control/analysis_runner.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <set>

#include "config/loader.hpp"
#include "control/http_client.hpp"
#include "tests/control/manual_clock.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control {
namespace {

using test::run_until;

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace std::chrono_literals;
using rollout::AnalysisKind;
using rollout::Effect;
using Phase = rollout::Event::AnalysisPhase;
using SteadyClock = std::chrono::steady_clock;
constexpr auto await_tuple = net::as_tuple(net::use_awaitable);

// ---- a tiny HTTP server whose answers the test chooses ------------------------------------------

struct Answer {
  unsigned status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};
};

class FakeServer {
 public:
  using Request = http::request<http::string_body>;
  using Handler = std::function<Answer(const Request&)>;

  FakeServer(net::io_context& io, Handler handler)
      : state_(std::make_shared<State>(io, std::move(handler))) {
    net::co_spawn(io, accept(state_), net::detached);
  }
  ~FakeServer() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
  }
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(state_->acceptor.local_endpoint().port());
  }
  const std::vector<Request>& requests() const { return state_->requests; }

 private:
  struct State {
    State(net::io_context& io, Handler h)
        : acceptor(io, tcp::endpoint(net::ip::address_v4::loopback(), 0)), handler(std::move(h)) {}
    tcp::acceptor acceptor;
    Handler handler;
    std::vector<Request> requests;
  };

  static net::awaitable<void> accept(std::shared_ptr<State> s) {
    for (;;) {
      auto [ec, socket] = co_await s->acceptor.async_accept(await_tuple);
      if (!s->acceptor.is_open()) co_return;
      if (ec) continue;
      net::co_spawn(s->acceptor.get_executor(), serve(s, std::move(socket)), net::detached);
    }
  }

  static net::awaitable<void> serve(std::shared_ptr<State> s, tcp::socket socket) {
    beast::flat_buffer buffer;
    Request request;
    auto [rec, read] = co_await http::async_read(socket, buffer, request, await_tuple);
    if (rec) co_return;
    s->requests.push_back(request);
    const Answer answer = s->handler(request);
    if (answer.delay > 0ms) {
      net::steady_timer timer(socket.get_executor(), answer.delay);
      co_await timer.async_wait(await_tuple);
    }
    http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
    response.set(http::field::content_type, "application/json");
    response.body() = answer.body;
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(socket, response, await_tuple);
  }

  std::shared_ptr<State> state_;
};

// ---- the config ---------------------------------------------------------------------------------

/// A rollout "shop" (stable shop-v1, canary shop-v2) whose step 1 is `step_analysis` (a YAML flow
/// map), with `background` as its background analysis when set, and `templates` (YAML list items
/// under analysisTemplates).
std::string config_text(std::string_view step_analysis, std::string_view templates,
                        std::string_view background = {}) {
  std::string text = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: shop-v1, endpoints: ["127.0.0.1:1"]}
  - {name: shop-v2, endpoints: ["127.0.0.1:2"]}
routes:
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
rollouts:
  - name: shop
    upstream: shop-v2
    strategy:
      canary:
        steps:
          - setWeight: 10
          - analysis: )";
  text += std::string(step_analysis) + "\n";
  if (!background.empty()) text += "        analysis: " + std::string(background) + "\n";
  text += "analysisTemplates:\n" + std::string(templates);
  return text;
}

std::shared_ptr<const config::Config> load(const std::string& yaml) {
  config::LoadResult result = config::load_string(yaml, "test.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.errors.empty()) << errors << yaml;
  return result.config;
}

/// success-rate of the canary with a condition, count 3 every 50 ms.
constexpr std::string_view kStepT = "{templates: [{templateName: t}]}";

std::string success_rate_template(std::string_view extra_metric_fields,
                                  std::string_view template_fields = {}) {
  return R"(  - name: t
)" + std::string(template_fields) +
         R"(    metrics:
      - name: success-rate
        provider: {builtin: {metric: success-rate, window: 30s, minRequests: 10}}
)" + std::string(extra_metric_fields);
}

// ---- the fixture --------------------------------------------------------------------------------

struct DoneCall {
  uint32_t rollout;
  AnalysisKind kind;
  Phase phase;
  std::string message;
};

struct BuiltinCall {
  uint32_t rollout;
  std::string upstream;
  analysis::Target target;
  int64_t window;
  bool histogram;
};

analysis::WindowStats window(uint64_t requests, uint64_t failures) {
  analysis::WindowStats stats;
  stats.seconds = 30;
  stats.counts.requests = requests;
  stats.counts.failures = failures;
  return stats;
}

/// The manual clock's reading when a test begins.
constexpr analysis::WallTime kT0{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}};

class AnalysisRunnerTest : public ::testing::Test {
 protected:
  AnalysisRunnerTest() {
    AnalysisRunner::Hooks hooks;
    hooks.done = [this](uint32_t rollout, AnalysisKind kind, uint32_t run, Phase phase,
                        std::string message) {
      done.push_back({rollout, kind, phase, std::move(message)});
      done_runs.push_back(run);
    };
    hooks.builtin = [this](uint32_t rollout, const std::string& upstream, analysis::Target target,
                           int64_t seconds, bool histogram) {
      builtin_calls.push_back({rollout, upstream, target, seconds, histogram});
      clock.advance(builtin_takes);
      return target == analysis::Target::Stable ? stable_stats : canary_stats;
    };
    hooks.warn = [this](std::string_view m) { warnings.emplace_back(m); };
    runner = std::make_unique<AnalysisRunner>(io, std::move(hooks), http, clock);
  }

  void use(const std::string& yaml) {
    config = load(yaml);
    ASSERT_NE(config, nullptr);
    runner->set_config(config);
  }

  static rollout::RolloutState state() {
    rollout::RolloutState s;
    s.stable = "shop-v1";
    s.canary = "shop-v2";
    s.step_index = 1;
    s.phase = rollout::Phase::Progressing;
    return s;
  }

  void start(AnalysisKind kind = AnalysisKind::Step, uint32_t step = 1) {
    runner->apply(0, Effect{Effect::Kind::StartAnalysis, kind, step, false}, state());
  }
  void terminate(AnalysisKind kind, bool all = false) {
    runner->apply(0, Effect{Effect::Kind::TerminateAnalysis, kind, 0, all}, state());
  }

  /// Runs every handler that is ready, waiting for nothing: all the runner does at this instant
  /// of the manual clock (builtin measurements, judging, `done`). A runner that keeps itself
  /// busy at one instant fails the test rather than hanging it.
  void settle() {
    for (int ran = 0; ran < 100'000; ++ran) {
      if (io.stopped()) io.restart();
      if (io.poll_one() == 0) return;
    }
    ADD_FAILURE() << "the runner is still busy at " << rollout::format_time(clock.now());
  }
  /// Moves the manual clock `by` and lets the runner act on what fell due.
  void advance(std::chrono::milliseconds by) {
    clock.advance(by);
    settle();
  }

  bool run_until_done(size_t n = 1) {
    return run_until(io, [&] { return done.size() >= n; });
  }

  json::object run(size_t i = 0) const {
    const json::array runs = runner->runs(0);
    if (i >= runs.size()) return {};
    return runs[i].as_object();
  }
  static const json::object& metric(const json::object& run, size_t i = 0) {
    return run.at("metrics").as_array().at(i).as_object();
  }
  static const json::array& measurements(const json::object& run, size_t i = 0) {
    return metric(run, i).at("measurements").as_array();
  }
  static std::string text(const json::value& v) { return std::string(v.as_string()); }
  static analysis::WallTime time(const json::value& v) {
    const auto parsed = rollout::parse_time(text(v));
    EXPECT_TRUE(parsed) << v;
    return parsed.value_or(analysis::WallTime{});
  }

  net::io_context io;
  HttpClient http{io};  // the prometheus and web providers' client
  std::shared_ptr<const config::Config> config;
  analysis::WindowStats canary_stats = window(100, 3);  // success-rate 0.97
  analysis::WindowStats stable_stats = window(100, 1);  // success-rate 0.99
  std::chrono::milliseconds builtin_takes{0};           // manual time a builtin reading takes
  std::vector<DoneCall> done;
  std::vector<uint32_t> done_runs;  ///< the `run` of each done call
  std::vector<BuiltinCall> builtin_calls;
  std::vector<std::string> warnings;
  ManualClock<std::chrono::system_clock> clock{kT0};
  std::unique_ptr<AnalysisRunner> runner;  // last: goes first
};

// ---- builtin ------------------------------------------------------------------------------------

TEST_F(AnalysisRunnerTest, BuiltinSucceedsAfterCount) {
  use(config_text(kStepT, success_rate_template(R"(        interval: 50ms
        initialDelay: 50ms
        count: 3
        successCondition: result >= 0.95
)")));
  builtin_takes = 5ms;
  start();
  settle();
  // initialDelay, then an interval after the end of each measurement (each takes 5 ms).
  for (const auto due : {kT0 + 50ms, kT0 + 105ms, kT0 + 160ms}) {
    const size_t taken = builtin_calls.size();
    advance(std::chrono::duration_cast<std::chrono::milliseconds>(due - clock.now()) - 1ms);
    EXPECT_EQ(builtin_calls.size(), taken) << "measured before it fell due";
    EXPECT_TRUE(done.empty());
    advance(1ms);
    EXPECT_EQ(builtin_calls.size(), taken + 1);
  }
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].rollout, 0u);
  EXPECT_EQ(done[0].kind, AnalysisKind::Step);
  EXPECT_EQ(done[0].phase, Phase::Successful);
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Successful");
  EXPECT_FALSE(r.at("terminated").as_bool());
  EXPECT_EQ(time(r.at("finishedAt")), kT0 + 165ms);
  EXPECT_EQ(text(metric(r).at("phase")), "Successful");
  EXPECT_EQ(metric(r).at("successful").as_int64(), 3);
  ASSERT_EQ(measurements(r).size(), 3u);
  for (const auto& m : measurements(r)) {
    EXPECT_EQ(text(m.at("value")), "0.97");
    EXPECT_EQ(text(m.at("phase")), "Successful");
  }
  EXPECT_NE(text(metric(r).at("message")).find("count 3 reached"), std::string::npos)
      << metric(r);
  ASSERT_EQ(builtin_calls.size(), 3u);  // no condition reads `baseline`: stable not read
  EXPECT_EQ(builtin_calls[0].upstream, "shop-v2");
  EXPECT_EQ(builtin_calls[0].target, analysis::Target::Canary);
  EXPECT_EQ(builtin_calls[0].window, 30);
  EXPECT_FALSE(builtin_calls[0].histogram);
  // The interval is counted from the end of the previous measurement.
  EXPECT_EQ(time(measurements(r)[0].at("startedAt")), kT0 + 50ms);
  EXPECT_EQ(time(measurements(r)[0].at("finishedAt")), kT0 + 55ms);
  EXPECT_EQ(time(measurements(r)[1].at("startedAt")), kT0 + 105ms);
  EXPECT_EQ(clock.pending(), 0u);  // a finished run sets no alarm
}

TEST_F(AnalysisRunnerTest, BuiltinFailsPastFailureLimit) {
  use(config_text(kStepT, success_rate_template(R"(        interval: 50ms
        count: 5
        failureLimit: 1
        successCondition: result >= 0.99
)")));
  start();
  settle();
  EXPECT_EQ(measurements(run()).size(), 1u);
  EXPECT_TRUE(done.empty());
  advance(50ms);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Failed);
  EXPECT_NE(done[0].message.find("result 0.97 did not meet \"result >= 0.99\""), std::string::npos)
      << done[0].message;
  EXPECT_NE(done[0].message.find("failed 2 > failureLimit 1"), std::string::npos)
      << done[0].message;
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Failed");
  EXPECT_EQ(text(r.at("message")), done[0].message);
  EXPECT_EQ(metric(r).at("failed").as_int64(), 2);
  EXPECT_EQ(measurements(r).size(), 2u);  // stopped measuring once decided
  EXPECT_EQ(clock.pending(), 0u);
  for (int i = 0; i < 3; ++i) advance(50ms);  // past where measurements 3 to 5 would fall due
  EXPECT_EQ(run().at("metrics").as_array()[0].at("measurements").as_array().size(), 2u);
  EXPECT_EQ(done.size(), 1u);
}

TEST_F(AnalysisRunnerTest, ErrorMeasurementIsRetriedAfterTenSeconds) {
  use(config_text(kStepT, success_rate_template(R"(        interval: 1m
        count: 2
        successCondition: result >= 0.95
)")));
  // Validation refuses an unknown target; a measurement must still cope (an Error).
  auto broken = std::make_shared<config::Config>(*config);
  broken->analysis_templates[0].metrics[0].builtin->target = "elsewhere";
  runner->set_config(broken);
  start();
  settle();
  ASSERT_EQ(measurements(run()).size(), 1u);
  EXPECT_EQ(text(measurements(run())[0].at("phase")), "Error");
  // Retried 10 s after the error, not after the 1 m interval.
  advance(analysis::kErrorRetry - 1ms);
  EXPECT_EQ(measurements(run()).size(), 1u);
  advance(1ms);
  ASSERT_EQ(measurements(run()).size(), 2u);
  EXPECT_EQ(time(measurements(run())[1].at("startedAt")), kT0 + analysis::kErrorRetry);
  EXPECT_EQ(metric(run()).at("error").as_int64(), 2);
  EXPECT_TRUE(done.empty());  // consecutiveErrorLimit 4 not passed
}

TEST_F(AnalysisRunnerTest, FewerThanMinRequestsIsInconclusive) {
  canary_stats = window(5, 1);  // 0.8 over 5 requests; minRequests is 10
  use(config_text(kStepT, success_rate_template(R"(        successCondition: result >= 0.95
)")));
  start();
  settle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Inconclusive);
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Inconclusive");
  EXPECT_EQ(metric(r).at("inconclusive").as_int64(), 1);
  const auto& m = measurements(r).at(0).as_object();
  EXPECT_EQ(text(m.at("phase")), "Inconclusive");
  EXPECT_EQ(text(m.at("value")), "0.8");
  EXPECT_NE(text(m.at("message")).find("5 requests in the last 30s < minRequests 10"),
            std::string::npos)
      << m;
}

TEST_F(AnalysisRunnerTest, BaselineIsStableOverTheSameWindow) {
  use(config_text(kStepT, success_rate_template(
                              R"(        successCondition: result >= baseline - 0.01
)")));
  start();
  settle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Failed) << done[0].message;  // 0.97 < 0.99 - 0.01
  EXPECT_NE(done[0].message.find("(baseline 0.99)"), std::string::npos) << done[0].message;
  ASSERT_EQ(builtin_calls.size(), 2u);
  EXPECT_EQ(builtin_calls[1].upstream, "shop-v1");
  EXPECT_EQ(builtin_calls[1].target, analysis::Target::Stable);
  EXPECT_EQ(builtin_calls[1].window, 30);
}

/// An experiment step (SPEC §14): no target means the `canary` template, `baseline` is the
/// `baseline` template over the same window; `experiment:NAME` names a template; each analysis
/// is its own run, reported with its index, listed among the experiment's runs.
TEST_F(AnalysisRunnerTest, ExperimentAnalysesMeasureTheirTemplates) {
  use(R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: shop-v1, endpoints: ["127.0.0.1:1"]}
  - {name: shop-v2, endpoints: ["127.0.0.1:2"]}
  - {name: shop-v1-fresh, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
rollouts:
  - name: shop
    upstream: shop-v2
    strategy:
      canary:
        steps:
          - setWeight: 10
          - experiment:
              name: cmp
              templates:
                - {name: baseline, upstream: shop-v1-fresh, weight: 5}
                - {name: canary, specRef: canary, weight: 5}
              analyses:
                - {name: vs-baseline, templateName: t}
                - {name: explicit, templateName: u}
analysisTemplates:
  - name: t
    metrics:
      - name: success-rate
        successCondition: result >= baseline - 0.01
        provider: {builtin: {metric: success-rate, window: 30s, minRequests: 10}}
  - name: u
    metrics:
      - name: success-rate
        provider: {builtin: {metric: success-rate, window: 30s, minRequests: 10, target: "experiment:baseline"}}
)");
  for (uint32_t run : {0u, 1u}) {
    runner->apply(0, Effect{.kind = Effect::Kind::StartAnalysis, .analysis = AnalysisKind::Experiment,
                            .step_index = 1, .run = run},
                  state());
  }
  settle();
  ASSERT_EQ(builtin_calls.size(), 3u);
  EXPECT_EQ(builtin_calls[0].upstream, "shop-v2");  // the canary template
  EXPECT_EQ(builtin_calls[0].target, analysis::Target::Experiment1);
  EXPECT_EQ(builtin_calls[1].upstream, "shop-v1-fresh");  // its baseline
  EXPECT_EQ(builtin_calls[1].target, analysis::Target::Experiment0);
  EXPECT_EQ(builtin_calls[2].upstream, "shop-v1-fresh");  // target: experiment:baseline
  EXPECT_EQ(builtin_calls[2].target, analysis::Target::Experiment0);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].kind, AnalysisKind::Experiment);
  EXPECT_EQ(done_runs, (std::vector<uint32_t>{0, 1}));
  const json::array listed = runner->experiment_runs(0, 1);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(text(listed[1].at("name")), "shop-1-cmp-vs-baseline-1");
  EXPECT_TRUE(runner->experiment_runs(0, 3).empty());
}

TEST_F(AnalysisRunnerTest, DryRunMetricNeverDecides) {
  use(config_text(kStepT, success_rate_template(R"(        interval: 50ms
        count: 2
        successCondition: result >= 0.95
      - name: strict
        successCondition: result >= 0.99
        provider: {builtin: {metric: success-rate, window: 10s}}
    dryRun: [{metricName: strict}]
)")));
  start();
  settle();
  EXPECT_TRUE(done.empty());  // "strict" Failed at once, yet the run waits for success-rate
  advance(50ms);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Successful) << done[0].message;
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Successful");
  EXPECT_NE(text(r.at("message")).find("dry-run metric \"strict\" Failed"), std::string::npos)
      << r;
  EXPECT_FALSE(metric(r, 0).at("dryRun").as_bool());
  EXPECT_TRUE(metric(r, 1).at("dryRun").as_bool());
  EXPECT_EQ(text(metric(r, 1).at("phase")), "Failed");
  EXPECT_EQ(metric(r, 0).at("successful").as_int64(), 2);
}

TEST_F(AnalysisRunnerTest, TerminateEndsTheRunWithoutDone) {
  use(config_text(kStepT, success_rate_template("") + R"(  - name: bg
    metrics:
      - name: error-rate
        interval: 50ms
        successCondition: result <= 0.05
        provider: {builtin: {metric: error-rate, window: 10s}}
)",
                  "{templates: [{templateName: bg}]}"));
  start(AnalysisKind::Background, 0);
  settle();
  advance(50ms);
  ASSERT_EQ(measurements(run()).size(), 2u);
  EXPECT_EQ(clock.pending(), 1u);  // the next measurement's alarm
  terminate(AnalysisKind::Background);
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Successful");
  EXPECT_TRUE(r.at("terminated").as_bool());
  EXPECT_FALSE(r.at("finishedAt").is_null());
  EXPECT_EQ(text(metric(r).at("phase")), "Successful");
  EXPECT_EQ(clock.pending(), 0u);  // its alarm cancelled
  for (int i = 0; i < 4; ++i) advance(50ms);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(measurements(run()).size(), 2u);
  EXPECT_EQ(text(run().at("name")), "shop-1-background-1");
}

TEST_F(AnalysisRunnerTest, ArgsAreSubstituted) {
  use(config_text(R"({templates: [{templateName: t}], args: [{name: threshold, value: "0.96"}]})",
                  success_rate_template(R"(        successCondition: result >= {{args.threshold}}
)",
                                        "    args: [{name: threshold}]\n")));
  start();
  settle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Successful) << done[0].message;
  const json::object r = run();
  const auto& m = measurements(r).at(0).as_object();
  EXPECT_NE(text(m.at("message")).find("met \"result >= 0.96\""), std::string::npos) << m;
}

TEST_F(AnalysisRunnerTest, MissingArgIsAnErrorRun) {
  use(config_text(R"({templates: [{templateName: t}], args: [{name: threshold, value: "0.96"}]})",
                  success_rate_template(R"(        successCondition: result >= {{args.threshold}}
)",
                                        "    args: [{name: threshold}]\n")));
  // Validation refuses this file; a run must still cope (e.g. a template changed under it).
  auto broken = std::make_shared<config::Config>(*config);
  broken->rollouts[0].canary->steps[1].analysis.args.clear();
  runner->set_config(broken);
  start();
  EXPECT_TRUE(done.empty());  // posted, not called from apply()
  settle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Error);
  EXPECT_NE(done[0].message.find("template \"t\" needs arg \"threshold\""), std::string::npos)
      << done[0].message;
  const json::object r = run();
  EXPECT_EQ(text(r.at("phase")), "Error");
  EXPECT_TRUE(r.at("metrics").as_array().empty());
  EXPECT_TRUE(builtin_calls.empty());
}

TEST_F(AnalysisRunnerTest, NoAnalysisOfThatKindIsAnErrorRun) {
  use(config_text(kStepT, success_rate_template(R"(        successCondition: result >= 0.95
)")));
  start(AnalysisKind::Step, 0);  // step 0 is a setWeight
  settle();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].phase, Phase::Error);
  EXPECT_EQ(done[0].message, "rollout shop has no step0 analysis");
  EXPECT_EQ(text(run().at("name")), "shop-1-step0-1");
}

// ---- RUN JSON, attempts, metrics ----------------------------------------------------------------

TEST_F(AnalysisRunnerTest, RunJsonShape) {
  use(config_text(kStepT, success_rate_template(R"(        successCondition: result >= 0.95
)")));
  start();
  settle();
  ASSERT_EQ(done.size(), 1u);
  const json::object r = run();
  const auto keys = [](const json::object& o) {
    std::set<std::string> k;
    for (const auto& member : o) k.emplace(member.key());
    return k;
  };
  EXPECT_EQ(keys(r), (std::set<std::string>{"name", "phase", "message", "terminated", "startedAt",
                                            "finishedAt", "metrics"}));
  EXPECT_EQ(keys(metric(r)),
            (std::set<std::string>{"name", "phase", "message", "dryRun", "successful", "failed",
                                   "inconclusive", "error", "measurements"}));
  EXPECT_EQ(keys(measurements(r).at(0).as_object()),
            (std::set<std::string>{"phase", "value", "startedAt", "finishedAt", "message"}));
  EXPECT_EQ(text(r.at("name")), "shop-1-step1-1");
  EXPECT_EQ(text(r.at("startedAt")), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(text(r.at("finishedAt")), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(text(metric(r).at("name")), "success-rate");
  EXPECT_EQ(text(metric(r).at("message")),
            "metric \"success-rate\" Successful: result 0.97 met \"result >= 0.95\" "
            "(count 1 reached)");
}

TEST_F(AnalysisRunnerTest, RunsOfTheCurrentAttemptNewestFirst) {
  use(config_text(kStepT, success_rate_template(R"(        successCondition: result >= 0.95
)"),
                  kStepT));
  start(AnalysisKind::Background, 0);
  start(AnalysisKind::Step, 1);
  settle();
  ASSERT_EQ(done.size(), 2u);
  json::array runs = runner->runs(0);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(text(runs[0].at("name")), "shop-1-step1-2");
  EXPECT_EQ(text(runs[1].at("name")), "shop-1-background-1");
  // The rollout ends (terminate all); its next start is a new attempt.
  terminate(AnalysisKind::Step, true);
  EXPECT_EQ(runner->runs(0).size(), 2u);  // still shown until then
  start();
  runs = runner->runs(0);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(text(runs[0].at("name")), "shop-2-step1-1");
  settle();
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(runner->runs(7).empty());  // no such rollout
}

TEST_F(AnalysisRunnerTest, CountsRunsFromZeroAndAddsValuesOnceMeasured) {
  use(config_text(kStepT, success_rate_template(R"(        successCondition: result >= 0.95
)")));
  std::vector<prometheus::MetricFamily> families;
  runner->add_metrics(families);
  // Each configured rollout's four phases at 0 before any run ends (alerts take increase()).
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "vane_analysis_runs_total");
  ASSERT_EQ(families[0].metric.size(), 4u);
  for (const auto& sample : families[0].metric) EXPECT_EQ(sample.counter.value, 0);
  families.clear();
  start();
  settle();
  ASSERT_EQ(done.size(), 1u);
  runner->add_metrics(families);
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "vane_analysis_runs_total");
  double successful = -1;
  for (const auto& sample : families[0].metric) {
    ASSERT_EQ(sample.label.size(), 2u);
    EXPECT_EQ(sample.label[1].value, "shop");
    if (sample.label[0].value == "Successful") successful = sample.counter.value;
  }
  EXPECT_EQ(successful, 1);
  EXPECT_EQ(families[1].name, "vane_analysis_measurement_value");
  ASSERT_EQ(families[1].metric.size(), 1u);
  EXPECT_EQ(families[1].metric[0].label[0].value, "success-rate");
  EXPECT_DOUBLE_EQ(families[1].metric[0].gauge.value, 0.97);
}

TEST_F(AnalysisRunnerTest, ReloadDropsRunsOfRemovedRollouts) {
  use(config_text(kStepT, success_rate_template(R"(        interval: 50ms
        count: 3
        successCondition: result >= 0.95
)")));
  start();
  auto other = std::make_shared<config::Config>(*config);
  other->rollouts[0].name = "cart";
  runner->set_config(other);
  EXPECT_TRUE(runner->runs(0).empty());
  settle();
  for (int i = 0; i < 4; ++i) advance(50ms);  // past where all three would have been taken
  EXPECT_TRUE(builtin_calls.empty());
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(clock.pending(), 0u);
  std::vector<prometheus::MetricFamily> families;
  runner->add_metrics(families);
  ASSERT_EQ(families.size(), 1u);  // the runs counters of "cart", at 0; nothing of "shop"
  for (const auto& sample : families[0].metric) {
    EXPECT_EQ(sample.label[1].value, "cart");
    EXPECT_EQ(sample.counter.value, 0);
  }
}

// ---- web and prometheus -------------------------------------------------------------------------

std::string web_template(const std::string& url, std::string_view extra = {}) {
  return R"(  - name: t
    args: [{name: rev}]
    metrics:
      - name: smoke
        consecutiveErrorLimit: 0
        successCondition: result == true
        provider:
          web:
            url: )" +
         url + R"(
            headers: [{key: X-Rev, value: "{{args.rev}}"}]
            jsonPath: $.data.ok
)" + std::string(extra);
}

constexpr std::string_view kStepRev =
    R"({templates: [{templateName: t}], args: [{name: rev, value: shop-v2}]})";

TEST_F(AnalysisRunnerTest, WebSelectsByJsonPath) {
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{200, R"({"data": {"ok": true, "n": 3}})"};
  });
  use(config_text(kStepRev, web_template(server.url() + "/check?rev={{args.rev}}",
                                         "            method: POST\n"
                                         "            body: '{\"rev\": \"{{args.rev}}\"}'\n")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Successful) << done[0].message;
  EXPECT_EQ(text(measurements(run()).at(0).at("value")), "true");
  ASSERT_EQ(server.requests().size(), 1u);
  const auto& request = server.requests()[0];
  EXPECT_EQ(request.method(), http::verb::post);
  EXPECT_EQ(request.target(), "/check?rev=shop-v2");
  EXPECT_EQ(request["X-Rev"], "shop-v2");
  EXPECT_EQ(request.body(), R"({"rev": "shop-v2"})");
}

TEST_F(AnalysisRunnerTest, WebNon2xxIsAnError) {
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{503, R"({"error": "down"})"};
  });
  use(config_text(kStepRev, web_template(server.url() + "/check")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Error);
  EXPECT_NE(done[0].message.find("HTTP 503"), std::string::npos) << done[0].message;
  EXPECT_NE(done[0].message.find("consecutive errors 1 > consecutiveErrorLimit 0"),
            std::string::npos)
      << done[0].message;
  const json::object r = run();
  const auto& m = measurements(r).at(0).as_object();
  EXPECT_EQ(text(m.at("phase")), "Error");
  EXPECT_EQ(text(m.at("value")), "");
}

TEST_F(AnalysisRunnerTest, WebConnectionRefusedIsAnError) {
  uint16_t port = 0;
  {
    tcp::acceptor closed(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    port = closed.local_endpoint().port();
  }
  use(config_text(kStepRev, web_template("http://127.0.0.1:" + std::to_string(port) + "/")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Error);
  EXPECT_NE(done[0].message.find("cannot connect"), std::string::npos) << done[0].message;
}

constexpr std::string_view kQuery = R"(sum(rate(vane_requests_total{rollout="shop"}[1m])) + 1)";

std::string prometheus_template(const std::string& address, std::string_view condition) {
  return R"(  - name: t
    metrics:
      - name: prom
        consecutiveErrorLimit: 0
        successCondition: )" +
         std::string(condition) + R"(
        provider:
          prometheus:
            address: )" +
         address + R"(
            query: ')" +
         std::string(kQuery) + R"('
            headers: [{key: Authorization, value: Bearer t0k}]
)";
}

TEST_F(AnalysisRunnerTest, PrometheusVectorIsAList) {
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"rollout":"shop"},"value":[1700000000.5,"0.97"]}]}})"};
  });
  use(config_text(kStepT, prometheus_template(server.url(), "result[0] >= 0.95")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Successful) << done[0].message;
  EXPECT_EQ(text(measurements(run()).at(0).at("value")), "[0.97]");
  ASSERT_EQ(server.requests().size(), 1u);
  const auto& request = server.requests()[0];
  EXPECT_EQ(request["Authorization"], "Bearer t0k");
  const auto target = boost::urls::parse_origin_form(request.target());
  ASSERT_TRUE(target);
  EXPECT_EQ(target->path(), "/api/v1/query");
  const auto query = target->params().find("query");
  ASSERT_NE(query, target->params().end());
  EXPECT_EQ((*query).value, kQuery);
}

TEST_F(AnalysisRunnerTest, PrometheusErrorIsAnErrorMeasurement) {
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{400, R"({"status":"error","errorType":"bad_data","error":"parse error"})"};
  });
  use(config_text(kStepT, prometheus_template(server.url() + "/", "result[0] >= 0.95")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Error);
  EXPECT_NE(done[0].message.find("prometheus: bad_data: parse error"), std::string::npos)
      << done[0].message;
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target().substr(0, 20), "/api/v1/query?query=");
}

TEST_F(AnalysisRunnerTest, MeasurementsDueTogetherAreJudgedTogether) {
  // A failing builtin metric and a web one fall due at once: the run ends Failed only after the
  // web measurement is in.
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{200, R"({"data": {"ok": true}})"};
  });
  use(config_text(kStepRev, web_template(server.url() + "/slow") + R"(      - name: success-rate
        successCondition: result >= 0.99
        provider: {builtin: {metric: success-rate, window: 30s}}
)"));
  start();
  // The builtin measurement ends at once; the web one is in flight while the server reads its
  // request (its answer needs more handlers), and the runner has had every chance to judge.
  ASSERT_TRUE(run_until(io, [&] { return server.requests().size() == 1; }));
  json::object r = run();
  ASSERT_EQ(measurements(r, 1).size(), 1u);
  EXPECT_EQ(text(metric(r, 1).at("phase")), "Failed");
  EXPECT_TRUE(measurements(r, 0).empty());
  EXPECT_TRUE(r.at("finishedAt").is_null());
  EXPECT_TRUE(done.empty());
  clock.advance(5s);  // the web measurement ends later by the runner's clock
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Failed);
  r = run();
  ASSERT_EQ(measurements(r, 0).size(), 1u);
  EXPECT_EQ(text(metric(r, 0).at("phase")), "Successful");
  EXPECT_EQ(time(measurements(r, 1).at(0).at("finishedAt")), kT0);
  EXPECT_EQ(time(measurements(r, 0).at(0).at("finishedAt")), kT0 + 5s);
  EXPECT_EQ(time(r.at("finishedAt")), kT0 + 5s);
}

TEST_F(AnalysisRunnerTest, TerminateCancelsAnExchangeInFlight) {
  FakeServer server(io, [](const FakeServer::Request&) {
    return Answer{200, R"({"data": {"ok": true}})", 2s};
  });
  use(config_text(kStepRev, web_template(server.url() + "/slow")));
  start();
  ASSERT_TRUE(run_until(io, [&] { return server.requests().size() == 1; }));
  terminate(AnalysisKind::Step);
  const json::object r = run();
  EXPECT_TRUE(r.at("terminated").as_bool());
  EXPECT_EQ(text(r.at("phase")), "Successful");
  EXPECT_TRUE(measurements(r).empty());
  // The cancelled exchange ends at once (its socket closed): nothing is recorded, no `done`.
  settle();
  advance(1min);
  EXPECT_TRUE(done.empty());
  EXPECT_TRUE(measurements(run()).empty());
}

// ---- exec ---------------------------------------------------------------------------------------

/// A template whose metric runs `/bin/sh -c SCRIPT shop-v2` (the rev arg is `$1`).
std::string exec_template(std::string_view script, std::string_view condition) {
  return R"(  - name: t
    args: [{name: rev}]
    metrics:
      - name: probe
        successCondition: )" +
         std::string(condition) + R"(
        provider:
          exec: {command: [/bin/sh, -c, ')" +
         std::string(script) + R"(', sh, "{{args.rev}}"], timeoutSeconds: 5, jsonPath: $.rev}
)";
}

TEST_F(AnalysisRunnerTest, ExecStdoutIsJudgedWithItsArgsSubstituted) {
  use(config_text(kStepRev, exec_template(R"(printf "{\"rev\": \"%s\"}" "$1")",
                                          R"(result == "shop-v2")")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Successful) << done[0].message;
  EXPECT_EQ(text(measurements(run()).at(0).at("value")), "shop-v2");
}

TEST_F(AnalysisRunnerTest, ExecNonZeroExitIsAFailedMeasurement) {
  use(config_text(kStepRev, exec_template("echo \"$1 is sick\" >&2; exit 2", "true")));
  start();
  ASSERT_TRUE(run_until_done());
  EXPECT_EQ(done[0].phase, Phase::Failed) << done[0].message;
  const json::object r = run();
  const auto& m = measurements(r).at(0).as_object();
  EXPECT_EQ(text(m.at("phase")), "Failed");
  EXPECT_EQ(text(m.at("message")), "/bin/sh exited with code 2: shop-v2 is sick");
}

TEST_F(AnalysisRunnerTest, ReloadDroppingTheRolloutKillsItsProgram) {
  // The program writes its pid, then waits; dropping the rollout stops the run and kills it.
  const std::string pid_file = ::testing::TempDir() + "vane-exec-runner-pid";
  std::remove(pid_file.c_str());
  use(config_text(kStepRev, exec_template("echo $$ > " + pid_file + "; sleep 30", "true")));
  start();
  int pid = 0;
  ASSERT_TRUE(run_until(io, [&] {
    std::ifstream in(pid_file);
    return static_cast<bool>(in >> pid);
  }));
  auto other = std::make_shared<config::Config>(*config);
  other->rollouts[0].name = "cart";
  runner->set_config(other);
  // Killed and reaped: its /proc entry goes.
  EXPECT_TRUE(run_until(io, [&] { return ::kill(pid, 0) != 0; }, 2s));
  EXPECT_TRUE(done.empty());
  std::remove(pid_file.c_str());
}

}  // namespace
}  // namespace vane::control
