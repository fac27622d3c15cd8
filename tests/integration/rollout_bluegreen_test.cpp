// Blue/green rollouts through the real binary (SPEC §4, §6, §7; issue #6): the preview route
// reaches the new version while the public route stays on the old one; auto-promotion after N
// seconds and manual promotion switch all the active traffic at once; kill -9 mid-pause resumes
// (a timed auto-promotion keeps its deadline); no request fails or mixes across the switch;
// abort returns to the old version; failing pre- and post-promotion analyses (a builtin
// success-rate against a new version that answers 500) keep or switch the traffic back.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

constexpr std::string_view kPreviewHost = "preview.test";

/// Upstreams v1..v3, the public route `web` (any host) and the preview route `web-preview`
/// (host preview.test); `fields` are more keys of `blueGreen` (indented by 8).
RolloutSetup blue_green_setup(std::string_view fields, std::string_view top_extra = "") {
  RolloutSetup setup;
  setup.routes_extra =
      "  - {name: web-preview, match: {host: preview.test, pathPrefix: /}, rollout: web}\n";
  setup.strategy = "      blueGreen:\n        previewRoute: web-preview\n" + std::string(fields);
  setup.top_extra = std::string(top_extra);
  return setup;
}

constexpr std::string_view kManual = "        autoPromotionEnabled: false\n";

/// `n` GETs with Host `host` on one keep-alive connection, counted by side.
SideCounts send_to_host(uint16_t port, std::string_view host, int n) {
  SideCounts counts;
  std::unique_ptr<RawClient> client;
  for (int i = 0; i < n; ++i) {
    Response r;
    if (!client) client = std::make_unique<RawClient>(port);
    if (client->send(request("GET", "/split", host))) r = client->read_response();
    ++counts.by_side[side_of(r)];
    ++counts.total;
    if (!r.complete || r.peer_closed) client.reset();
  }
  return counts;
}

/// Every one of `n` requests of the public route, and of the preview route, answered by
/// `public_side` and `preview_side`.
void expect_sides(const RolloutRig& rig, const std::string& public_side,
                  const std::string& preview_side, int n = 100) {
  const SideCounts pub = send_to_host(rig.port(), "web.test", n);
  EXPECT_EQ(pub.count(public_side), n) << "public route: " << pub.describe();
  const SideCounts pre = send_to_host(rig.port(), kPreviewHost, n);
  EXPECT_EQ(pre.count(preview_side), n) << "preview route: " << pre.describe();
}

std::string bg_field(const json::value& status, std::string_view key) {
  const json::value v = field(field(status, "blueGreen"), key);
  return v.is_string() ? std::string(v.get_string()) : json::serialize(v);
}

/// Waits for the rollout to reach `phase` with `stable` active.
bool wait_active(const RolloutRig& rig, std::string_view phase, std::string_view stable,
                 json::value& last, Millis timeout = 5s) {
  return wait_status(
      rig.admin(),
      [&](const json::value& s) {
        return str(field(s, "phase")) == phase && str(field(s, "stable")) == stable;
      },
      last, timeout);
}

/// Waits for the promotion wait (Paused) of preview `canary`.
bool wait_promotion(const RolloutRig& rig, json::value& last, std::string_view canary = "v2") {
  return wait_status(
      rig.admin(),
      [&](const json::value& s) {
        return str(field(s, "phase")) == "Paused" && str(field(s, "canary")) == canary &&
               str(field(s, "stable")) == "v1";
      },
      last);
}

// ---- preview, promotion ----------------------------------------------------------------------

TEST(RolloutBlueGreenTest, PreviewRouteReachesTheNewVersionWhileThePublicRouteStaysOnTheOld) {
  RolloutRig rig(blue_green_setup(kManual));
  expect_sides(rig, "v1", "v1");  // no rollout in progress: the preview route serves the active
  json::value s = rig.status();
  EXPECT_EQ(str(field(s, "strategy")), "blueGreen") << summary(s);
  EXPECT_EQ(bg_field(s, "waitingFor"), "null");

  ASSERT_EQ(rig.set_desired("v2").status, 200);
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);
  expect_sides(rig, "v1", "v2");
  EXPECT_EQ(str(field(s, "canary")), "v2");
  EXPECT_EQ(str(field(s, "desired")), "v2");
  EXPECT_EQ(num(field(s, "currentStepIndex")), 0);
  EXPECT_EQ(num(field(s, "stepCount")), 0);
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0);
  EXPECT_EQ(bg_field(s, "waitingFor"), "promote");
  EXPECT_EQ(bg_field(s, "previewRoute"), "web-preview");
  EXPECT_EQ(field(s, "pauseUntil"), json::value(nullptr)) << summary(s);

  const CommandResult view = vane_cli(rig.admin(), {"status", "web"});
  EXPECT_EQ(view.exit_code, 0) << view.err;
  EXPECT_NE(view.out.find("Strategy:        BlueGreen\n"), std::string::npos) << view.out;
  EXPECT_NE(view.out.find("  Waiting for:   promote\n"), std::string::npos) << view.out;
  EXPECT_NE(view.out.find("  Preview route: web-preview -> v2\n"), std::string::npos) << view.out;
  EXPECT_NE(view.out.find("v1 (active)"), std::string::npos) << view.out;
  EXPECT_NE(view.out.find("v2 (preview)"), std::string::npos) << view.out;
}

TEST(RolloutBlueGreenTest, AutoPromotionSwitchesAfterAutoPromotionSeconds) {
  RolloutRig rig(blue_green_setup("        autoPromotionSeconds: 2\n"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);
  EXPECT_EQ(bg_field(s, "waitingFor"), "autoPromotion");
  const auto since = parse_utc(str(field(s, "pausedSince")));
  const auto until = parse_utc(str(field(s, "pauseUntil")));
  ASSERT_TRUE(since && until) << summary(s);
  EXPECT_EQ(std::chrono::duration_cast<Millis>(*until - *since).count(), 2000);
  EXPECT_EQ(bg_field(s, "autoPromotionAt"), str(field(s, "pauseUntil")));
  expect_sides(rig, "v1", "v2", 50);

  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", s, 6s)) << summary(s);
  const auto switched = std::chrono::system_clock::now();
  EXPECT_GE(switched, *until - 50ms) << "promoted before autoPromotionSeconds";
  EXPECT_EQ(field(s, "canary"), json::value(nullptr)) << summary(s);
  EXPECT_EQ(bg_field(s, "previousActive"), "v1");
  expect_sides(rig, "v2", "v2");
}

TEST(RolloutBlueGreenTest, ManualPromotionWaitsForPromote) {
  RolloutRig rig(blue_green_setup(std::string(kManual) + "        autoPromotionSeconds: 1\n"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);
  // autoPromotionSeconds is ignored when autoPromotionEnabled is false (as in Argo): well past
  // it, nothing has moved.
  const auto since = parse_utc(str(field(s, "pausedSince")));
  ASSERT_TRUE(since) << summary(s);
  wait_until([&] { return std::chrono::system_clock::now() >= *since + 1500ms; }, 3s);
  s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Paused") << summary(s);
  expect_sides(rig, "v1", "v2", 50);

  const CommandResult promote = vane_cli(rig.admin(), {"promote", "web"});
  EXPECT_EQ(promote.exit_code, 0) << promote.out << promote.err;
  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", s)) << summary(s);
  expect_sides(rig, "v2", "v2");
  expect_post(rig, "web/promote", 409);  // nothing in progress any more
}

// ---- restarts --------------------------------------------------------------------------------

TEST(RolloutBlueGreenTest, KillNineMidPauseResumesThePromotionWait) {
  RolloutRig rig(blue_green_setup(kManual));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value before;
  ASSERT_TRUE(wait_promotion(rig, before)) << summary(before);

  rig.restart_after_kill();
  json::value after = rig.status();
  EXPECT_EQ(str(field(after, "phase")), "Paused") << summary(after);
  EXPECT_EQ(str(field(after, "canary")), "v2");
  EXPECT_EQ(field(after, "pausedSince"), field(before, "pausedSince"));
  expect_sides(rig, "v1", "v2", 50);
  expect_post(rig, "web/promote", 200);
  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", after)) << summary(after);
  expect_sides(rig, "v2", "v2", 50);
}

TEST(RolloutBlueGreenTest, KillNineKeepsTheAutoPromotionDeadline) {
  RolloutRig rig(blue_green_setup("        autoPromotionSeconds: 3\n"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value before;
  ASSERT_TRUE(wait_promotion(rig, before)) << summary(before);
  const auto until = parse_utc(str(field(before, "pauseUntil")));
  ASSERT_TRUE(until) << summary(before);

  rig.restart_after_kill();
  const json::value after = rig.status();
  if (std::chrono::system_clock::now() < *until - 300ms) {
    EXPECT_EQ(str(field(after, "phase")), "Paused") << summary(after);
    EXPECT_EQ(field(after, "pauseUntil"), field(before, "pauseUntil"));
  }
  json::value s;
  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", s, 6s)) << summary(s);
  const auto switched = std::chrono::system_clock::now();
  EXPECT_GE(switched, *until - 50ms);
  EXPECT_LE(switched, *until + 700ms)  // a fresh 3 s countdown after the restart would be late
      << "promoted " << std::chrono::duration_cast<Millis>(switched - *until).count()
      << " ms after the deadline";
}

// ---- the switch under load -------------------------------------------------------------------

/// Keep-alive GET loops, one thread and one connection each, recording the side of every answer
/// in order. Bounded: they stop by themselves after `limit`.
class SwitchWatch {
 public:
  SwitchWatch(uint16_t port, int connections, Millis limit = 30s) {
    sequences_.resize(static_cast<size_t>(connections));
    const auto until = Clock::now() + limit;
    for (int i = 0; i < connections; ++i) {
      threads_.emplace_back([this, port, i, until] { loop(port, static_cast<size_t>(i), until); });
    }
  }
  ~SwitchWatch() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  int count(const std::string& side) const {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& sequence : sequences_) {
      n += static_cast<int>(std::count(sequence.begin(), sequence.end(), side));
    }
    return n;
  }

  /// Each connection's answers, in order; a reconnect starts a new sequence.
  std::vector<std::vector<std::string>> sequences() const {
    std::lock_guard lock(mutex_);
    return sequences_;
  }

 private:
  void loop(uint16_t port, size_t index, Clock::time_point until) {
    std::unique_ptr<RawClient> client;
    while (!stop_ && Clock::now() < until) {
      Response r;
      try {
        if (!client) client = std::make_unique<RawClient>(port);
        if (client->send(request("GET", "/split", "web.test"))) r = client->read_response(5s);
      } catch (const std::exception&) {
      }
      std::string side = side_of(r);
      if (const size_t n = r.header_count("X-Upstream"); n != 1) {
        side += " (X-Upstream x" + std::to_string(n) + ")";
      }
      {
        std::lock_guard lock(mutex_);
        sequences_[index].push_back(side);
        if (!r.complete || r.peer_closed) {  // a new connection may land on another worker
          sequences_.emplace_back();
          index = sequences_.size() - 1;
        }
      }
      if (!r.complete || r.peer_closed) client.reset();
      std::this_thread::sleep_for(2ms);
    }
  }

  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::vector<std::string>> sequences_;
  std::vector<std::thread> threads_;
};

TEST(RolloutBlueGreenTest, SteadyLoadAcrossTheSwitchNeverFailsNorMixes) {
  RolloutRig rig(blue_green_setup(kManual));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);

  SwitchWatch watch(rig.port(), 4);
  ASSERT_TRUE(wait_until([&] { return watch.count("v1") >= 200; }, 10s)) << "no load on v1";
  expect_post(rig, "web/promote", 200);
  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", s)) << summary(s);
  ASSERT_TRUE(wait_until([&] { return watch.count("v2") >= 400; }, 10s)) << "no load on v2";
  watch.stop();

  int total = 0;
  for (const auto& sequence : watch.sequences()) {
    // Every answer a 200 from exactly one version; on a connection, once v2 answered, v1 never
    // again (one table swap per worker, no request sees a mix after it).
    bool switched = false;
    std::string trace;
    for (const auto& side : sequence) {
      ++total;
      trace += side.substr(0, 2) + " ";
      ASSERT_TRUE(side == "v1" || side == "v2") << "a failed or mixed answer: " << side;
      if (side == "v2") switched = true;
      ASSERT_FALSE(switched && side == "v1") << "v1 after v2 on one connection: " << trace;
    }
  }
  EXPECT_GE(total, 600);
  expect_sides(rig, "v2", "v2", 50);
}

// ---- abort -----------------------------------------------------------------------------------

TEST(RolloutBlueGreenTest, AbortReturnsToTheOldVersionAndRetryStartsOver) {
  RolloutRig rig(blue_green_setup(kManual));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);

  const CommandResult abort = vane_cli(rig.admin(), {"abort", "web"});
  EXPECT_EQ(abort.exit_code, 0) << abort.out << abort.err;
  s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Degraded") << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true));
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_EQ(str(field(s, "canary")), "v2");
  EXPECT_EQ(bg_field(s, "waitingFor"), "retry");
  expect_sides(rig, "v1", "v2");  // SPEC §4: the preview route still reaches the aborted one
  expect_post(rig, "web/promote", 409);
  expect_post(rig, "web/abort", 409);

  expect_post(rig, "web/retry", 200);
  ASSERT_TRUE(wait_promotion(rig, s)) << summary(s);
  EXPECT_EQ(field(s, "aborted"), json::value(false));
}

// ---- analysis gates (builtin success-rate; v2 answers 500 through /__behave) -----------------

/// One success-rate measurement of the new version (target canary, the default) after 2 s of
/// traffic, on a 2 s window.
constexpr std::string_view kSuccessRate = R"(analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        initialDelay: 2s
        successCondition: result >= 0.95
        provider:
          builtin: {metric: success-rate, window: 2s, minRequests: 5}
  - name: slow
    metrics:
      - name: never-soon
        initialDelay: 60s
        provider:
          builtin: {metric: success-rate}
)";

/// Runs of the STATUS with their phases: "prepromotion=Failed ".
std::string run_phases(const json::value& status) {
  std::string text;
  const json::value runs = field(status, "analysisRuns");
  if (!runs.is_array()) return "(no analysisRuns)";
  for (const auto& run : runs.get_array()) {
    text += str(field(run, "name")) + "=" + str(field(run, "phase")) + " ";
  }
  return text;
}

/// One client on one route (`host`) for the length of a test, counted by side.
LoadLoop::Options on_route(std::string_view host) {
  return LoadLoop::Options{.host = std::string(host), .connections = 1, .limit = 40s};
}

TEST(RolloutBlueGreenTest, FailingPrePromotionAnalysisKeepsTrafficOnTheOldAndDegrades) {
  RolloutRig rig(blue_green_setup(
      "        prePromotionAnalysis: {templates: [{templateName: success-rate}]}\n", kSuccessRate));
  ASSERT_NO_FATAL_FAILURE(behave(rig.v2(), 100));
  LoadLoop preview(rig.port(), on_route(kPreviewHost));
  LoadLoop public_route(rig.port(), on_route("web.test"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& v) {
    return str(field(v, "phase")) == "Degraded";
  }, s, 20s)) << summary(s) << " runs: " << run_phases(s);
  public_route.stop();
  preview.stop();
  EXPECT_EQ(field(s, "aborted"), json::value(true)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  EXPECT_NE(str(field(s, "abortReason")).find("success-rate"), std::string::npos) << summary(s);
  EXPECT_NE(run_phases(s).find("prepromotion"), std::string::npos) << run_phases(s);
  EXPECT_NE(run_phases(s).find("=Failed"), std::string::npos) << run_phases(s);
  const SideCounts pub = public_route.counts();
  EXPECT_GT(pub.total, 0);
  EXPECT_EQ(pub.count("v1"), pub.total) << "the public route left v1: " << pub.describe();
  EXPECT_GT(preview.counts().count("status 500"), 0) << preview.counts().describe();
  expect_sides(rig, "v1", "status 500", 20);
}

TEST(RolloutBlueGreenTest, FailingPostPromotionAnalysisSwitchesBack) {
  RolloutRig rig(blue_green_setup(
      "        postPromotionAnalysis: {templates: [{templateName: success-rate}]}\n", kSuccessRate));
  ASSERT_NO_FATAL_FAILURE(behave(rig.v2(), 100));
  LoadLoop public_route(rig.port(), on_route("web.test"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);  // no gate before: switched at once
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& v) {
    return str(field(v, "phase")) == "Degraded";
  }, s, 20s)) << summary(s) << " runs: " << run_phases(s);
  EXPECT_EQ(field(s, "aborted"), json::value(true)) << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1") << summary(s);
  EXPECT_EQ(str(field(s, "canary")), "v2");
  EXPECT_NE(str(field(s, "message")).find("switched back to v1"), std::string::npos) << summary(s);
  EXPECT_NE(run_phases(s).find("postpromotion"), std::string::npos) << run_phases(s);
  EXPECT_GT(public_route.counts().count("status 500"), 0)  // v2 did serve the public route
      << public_route.counts().describe();
  public_route.stop();
  expect_sides(rig, "v1", "status 500", 20);
}

TEST(RolloutBlueGreenTest, AbortDuringPostPromotionSwitchesBack) {
  RolloutRig rig(blue_green_setup(
      "        postPromotionAnalysis: {templates: [{templateName: slow}]}\n", kSuccessRate));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_active(rig, "Progressing", "v2", s)) << summary(s);
  EXPECT_EQ(bg_field(s, "waitingFor"), "postPromotionAnalysis");
  EXPECT_EQ(bg_field(s, "previousActive"), "v1");
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 100) << summary(s);
  expect_sides(rig, "v2", "v2", 50);

  expect_post(rig, "web/abort", 200);
  s = rig.status();
  EXPECT_EQ(str(field(s, "phase")), "Degraded") << summary(s);
  EXPECT_EQ(str(field(s, "stable")), "v1");
  expect_sides(rig, "v1", "v2", 50);
}

TEST(RolloutBlueGreenTest, HealthyPreviewPassesBothAnalysesAndShowsTheRuns) {
  RolloutRig rig(blue_green_setup(
      "        prePromotionAnalysis: {templates: [{templateName: success-rate}]}\n"
      "        postPromotionAnalysis: {templates: [{templateName: success-rate}]}\n",
      kSuccessRate));
  LoadLoop preview(rig.port(), on_route(kPreviewHost));
  LoadLoop public_route(rig.port(), on_route("web.test"));
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_active(rig, "Healthy", "v2", s, 25s)) << summary(s) << " runs: " << run_phases(s);
  EXPECT_EQ(field(s, "aborted"), json::value(false));
  const CommandResult view = vane_cli(rig.admin(), {"status", "web"});
  EXPECT_EQ(view.exit_code, 0) << view.err;
  EXPECT_NE(view.out.find("BlueGreen"), std::string::npos) << view.out;
  const Response r = admin_call(rig.admin(), "GET", "/api/v1/analysisruns?rollout=web");
  EXPECT_NE(r.body.find("prepromotion"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("postpromotion"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"Failed\""), std::string::npos) << r.body;
  public_route.stop();
  preview.stop();
  EXPECT_EQ(public_route.counts().count("v1") + public_route.counts().count("v2"),
            public_route.counts().total)
      << public_route.counts().describe();
}

}  // namespace
}  // namespace vane::it
