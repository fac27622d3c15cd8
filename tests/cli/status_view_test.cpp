// What `vane status` draws from STATUS JSON (SPEC §6): one rollout, the list, the summary line.
#include "cli/status_view.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace vane::cli {
namespace {

/// Whether `out` holds `part`; prints `out` when it does not.
::testing::AssertionResult has(const std::string& out, std::string_view part) {
  if (out.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no \"" << part << "\" in:\n" << out;
}

boost::json::object parse(std::string_view text) { return boost::json::parse(text).as_object(); }

constexpr std::string_view kHealthy = R"({
  "name": "shop", "strategy": "canary", "phase": "Healthy", "message": "",
  "stable": "shop-v1", "canary": null, "desired": "shop-v1",
  "currentStepIndex": 6, "stepCount": 6, "currentStep": null,
  "weights": {"stable": 100, "canary": 0}, "headerRoutes": [], "mirrorRoutes": [],
  "measuredWeights": null, "pausedSince": null, "pauseUntil": null,
  "aborted": false, "abortReason": null, "analysisRuns": []
})";

constexpr std::string_view kProgressing = R"({
  "name": "shop", "strategy": "canary", "phase": "Progressing", "message": "",
  "stable": "shop-v1", "canary": "shop-v2", "desired": "shop-v2",
  "currentStepIndex": 4, "stepCount": 6, "currentStep": "setWeight: 50",
  "weights": {"stable": 50.0, "canary": 50.0},
  "measuredWeights": {"stable": 81.5, "canary": 18.52},
  "headerRoutes": [{"name": "beta-testers", "suspended": false,
                    "match": [{"headerName": "X-Beta", "headerValue": {"exact": "yes"}},
                              {"headerName": "X-Team", "headerValue": {"prefix": "qa"},
                               "path": {"prefix": "/api"}}]}],
  "mirrorRoutes": [{"name": "shadow-get", "percentage": 50, "suspended": true,
                    "match": [{"method": {"exact": "GET"}, "path": {"prefix": "/api"},
                               "headers": {"X-Foo": {"exact": "bar"}}}]}],
  "pausedSince": null, "pauseUntil": null, "aborted": false, "abortReason": null,
  "analysisRuns": []
})";

constexpr std::string_view kPaused = R"({
  "name": "shop", "strategy": "canary", "phase": "Paused", "message": "CanaryPauseStep",
  "stable": "shop-v1", "canary": "shop-v2", "desired": "shop-v2",
  "currentStepIndex": 1, "stepCount": 6, "currentStep": "pause: 1m",
  "weights": {"stable": 90, "canary": 10}, "measuredWeights": null,
  "headerRoutes": [], "mirrorRoutes": [],
  "pausedSince": "2026-11-26T06:30:00.000Z", "pauseUntil": "2026-11-26T06:31:00.000Z",
  "aborted": false, "abortReason": null, "analysisRuns": []
})";

constexpr std::string_view kDegraded = R"({
  "name": "shop", "strategy": "canary", "phase": "Degraded",
  "message": "metric \"success-rate\" Failed",
  "stable": "shop-v1", "canary": "shop-v2", "desired": "shop-v2",
  "currentStepIndex": 0, "stepCount": 6, "currentStep": null,
  "weights": {"stable": 100, "canary": 0}, "measuredWeights": {"stable": 100, "canary": 0},
  "headerRoutes": [], "mirrorRoutes": [], "pausedSince": null, "pauseUntil": null,
  "aborted": true, "abortReason": "analysis run shop-2 Failed",
  "analysisRuns": [{
    "name": "shop-2", "phase": "Failed", "terminated": false,
    "message": "metric \"success-rate\" Failed: result 0.71 did not meet \"result >= 0.99\"",
    "startedAt": "2026-11-26T06:30:00.000Z", "finishedAt": "2026-11-26T06:31:00.000Z",
    "metrics": [
      {"name": "success-rate", "phase": "Failed", "message": "", "dryRun": false,
       "successful": 3, "failed": 2, "inconclusive": 1, "error": 0,
       "measurements": [{"phase": "Failed", "value": "0.71", "startedAt": "x", "finishedAt": "y",
                         "message": ""}]},
      {"name": "latency-p95", "phase": "Running", "message": "", "dryRun": true,
       "successful": 4, "failed": 0, "inconclusive": 0, "error": 7, "measurements": []}]},
   {"name": "shop-1", "phase": "Successful", "terminated": true, "message": "",
    "metrics": []}]
})";

TEST(StatusView, Healthy) {
  const std::string out = render_status(parse(kHealthy));
  EXPECT_TRUE(has(out, "Name:            shop\n"));
  EXPECT_TRUE(has(out, "Status:          ✔ Healthy\n"));
  EXPECT_TRUE(has(out, "Strategy:        Canary\n"));
  EXPECT_TRUE(has(out, "  Step:          6/6\n"));
  EXPECT_TRUE(has(out, "  Weights:       stable 100%, canary 0%\n"));
  EXPECT_TRUE(has(out, "  Measured:      -\n"));
  EXPECT_TRUE(has(out, "Upstreams:       shop-v1 (stable)\n"));
  EXPECT_FALSE(has(out, "Message:"));
  EXPECT_FALSE(has(out, "(canary)"));
  EXPECT_FALSE(has(out, "Paused:"));
  EXPECT_FALSE(has(out, "Aborted:"));
  EXPECT_FALSE(has(out, "Analysis runs:"));
  EXPECT_EQ(render_summary(parse(kHealthy)), "Healthy");
}

TEST(StatusView, ProgressingAtSetWeightWithRoutes) {
  const std::string out = render_status(parse(kProgressing));
  EXPECT_TRUE(has(out, "Status:          ◌ Progressing\n"));
  EXPECT_TRUE(has(out, "  Step:          4/6 (setWeight: 50)\n"));
  EXPECT_TRUE(has(out, "  Weights:       stable 50%, canary 50%\n"));
  EXPECT_TRUE(has(out, "  Measured:      stable 81.5%, canary 18.52% (last 60s)\n"));
  EXPECT_TRUE(has(out, "Upstreams:       shop-v1 (stable)\n                 shop-v2 (canary)\n"));
  EXPECT_TRUE(has(out, "Header routes:   beta-testers\n"));
  EXPECT_TRUE(has(out, "                   X-Beta exact \"yes\"\n"));
  EXPECT_TRUE(has(out, "                   X-Team prefix \"qa\", path prefix \"/api\"\n"));
  EXPECT_TRUE(has(out, "Mirror routes:   shadow-get 50% (suspended"));
  EXPECT_TRUE(has(out, "method exact \"GET\", path prefix \"/api\", X-Foo exact \"bar\"\n"));
  EXPECT_EQ(render_summary(parse(kProgressing)), "Progressing, step 4/6 (setWeight: 50)");
}

TEST(StatusView, PausedWithPauseUntil) {
  const std::string out = render_status(parse(kPaused));
  EXPECT_TRUE(has(out, "Status:          ॥ Paused\n"));
  EXPECT_TRUE(has(out, "Message:         CanaryPauseStep\n"));
  EXPECT_TRUE(has(out, "  Step:          1/6 (pause: 1m)\n"));
  EXPECT_TRUE(has(out, "Paused:          since 2026-11-26T06:30:00.000Z, "
                             "until 2026-11-26T06:31:00.000Z\n"));
}

TEST(StatusView, PausedUntilPromoted) {
  auto status = parse(kPaused);
  status["pauseUntil"] = nullptr;
  status["currentStep"] = "pause: (until promoted)";
  const std::string out = render_status(status);
  EXPECT_TRUE(has(out, "  Step:          1/6 (pause: (until promoted))\n"));
  EXPECT_TRUE(has(out, "Paused:          since 2026-11-26T06:30:00.000Z (until promoted)\n"));
}

TEST(StatusView, DegradedWithAbortReasonAndAnalysisRuns) {
  const std::string out = render_status(parse(kDegraded));
  EXPECT_TRUE(has(out, "Status:          ✖ Degraded\n"));
  EXPECT_TRUE(has(out, "Aborted:         analysis run shop-2 Failed\n"));
  EXPECT_TRUE(has(out, "  Measured:      stable 100%, canary 0% (last 60s)\n"));
  EXPECT_TRUE(has(out, "Analysis runs:\n  NAME"));
  EXPECT_TRUE(has(out, "STATUS          ✔    ✖    ?    ⚠\n"));
  EXPECT_TRUE(has(out, "  shop-2              ✖ Failed\n"));
  EXPECT_TRUE(has(out, "result 0.71 did not meet"));
  EXPECT_TRUE(has(out, "    success-rate      ✖ Failed        3    2    1    0  last 0.71\n"));
  EXPECT_TRUE(has(out, "    latency-p95       ◌ Running       4    0    0    7  (dry run)\n"));
  EXPECT_TRUE(has(out, "  shop-1              ✔ Successful (terminated)\n"));
  EXPECT_EQ(render_summary(parse(kDegraded)), "Degraded");
}

TEST(StatusView, BlueGreenNamesActiveAndPreview) {
  auto status = parse(kProgressing);
  status["strategy"] = "blueGreen";
  status["currentStepIndex"] = 0;
  status["stepCount"] = 0;
  status["currentStep"] = nullptr;
  const std::string out = render_status(status);
  EXPECT_TRUE(has(out, "Strategy:        BlueGreen\n"));
  EXPECT_FALSE(has(out, "Step:"));
  EXPECT_TRUE(has(out, "shop-v1 (active)\n"));
  EXPECT_TRUE(has(out, "shop-v2 (preview)\n"));
  EXPECT_EQ(render_summary(status), "Progressing");
}

TEST(StatusView, BlueGreenShowsTheGateThePreviewRouteAndTheCountdown) {
  auto status = parse(kPaused);
  status["strategy"] = "blueGreen";
  status["currentStepIndex"] = 0;
  status["stepCount"] = 0;
  status["currentStep"] = nullptr;
  status["blueGreen"] = parse(R"({"active": "shop-v1", "preview": "shop-v2",
    "previewRoute": "shop-preview", "waitingFor": "autoPromotion",
    "autoPromotionEnabled": true, "autoPromotionSeconds": 60,
    "autoPromotionAt": "2026-11-26T06:31:00.000Z", "previousActive": null, "scaleDownAt": null})");
  const std::string out = render_status(status);
  EXPECT_TRUE(has(out, "  Waiting for:   autoPromotion at 2026-11-26T06:31:00.000Z\n"));
  EXPECT_TRUE(has(out, "  Preview route: shop-preview -> shop-v2\n"));
  EXPECT_TRUE(has(out, "  Promotion:     60s after the preview is ready\n"));
  EXPECT_EQ(render_summary(status), "Paused, waiting for autoPromotion");
}

TEST(StatusView, BlueGreenSwitchedShowsTheOldVersionKeptWarm) {
  auto status = parse(kProgressing);
  status["strategy"] = "blueGreen";
  status["stable"] = "shop-v2";
  status["headerRoutes"] = boost::json::array{};
  status["mirrorRoutes"] = boost::json::array{};
  status["blueGreen"] = parse(R"({"active": "shop-v2", "preview": "shop-v2",
    "previewRoute": null, "waitingFor": "postPromotionAnalysis",
    "autoPromotionEnabled": false, "autoPromotionSeconds": 0,
    "autoPromotionAt": null, "previousActive": "shop-v1", "scaleDownAt": null})");
  const std::string out = render_status(status);
  EXPECT_TRUE(has(out, "  Waiting for:   postPromotionAnalysis\n"));
  EXPECT_FALSE(has(out, "Preview route:"));
  EXPECT_TRUE(has(out, "  Promotion:     on promote\n"));
  EXPECT_TRUE(has(out, "Upstreams:       shop-v2 (active)\n                 shop-v2 (preview)\n"
                       "                 shop-v1 (previous active, kept warm)\n"));
  EXPECT_EQ(render_summary(status), "Progressing, waiting for postPromotionAnalysis");
  auto healthy = parse(kHealthy);
  healthy["strategy"] = "blueGreen";
  healthy["blueGreen"] = parse(R"({"active": "shop-v1", "preview": null,
    "previewRoute": "p", "waitingFor": null, "previousActive": "shop-v0",
    "scaleDownAt": "2026-11-26T06:31:00.000Z"})");
  const std::string idle = render_status(healthy);
  EXPECT_TRUE(has(idle, "  Waiting for:   -\n"));
  EXPECT_TRUE(has(idle, "  Preview route: p -> shop-v1\n"));
  EXPECT_TRUE(has(idle, "shop-v0 (previous active, kept warm until 2026-11-26T06:31:00.000Z)\n"));
  EXPECT_EQ(render_summary(healthy), "Healthy");
}

TEST(StatusView, DesiredShownWhenNeitherStableNorCanary) {
  auto status = parse(kDegraded);
  status["desired"] = "shop-v3";
  EXPECT_TRUE(has(render_status(status), "                 shop-v3 (desired)\n"));
}

TEST(StatusView, ToleratesMissingFields) {
  const std::string out = render_status(parse(R"({"name": "x", "weights": null})"));
  EXPECT_TRUE(has(out, "Name:            x\n"));
  EXPECT_TRUE(has(out, "Status:          -\n"));
  EXPECT_TRUE(has(out, "  Weights:       -\n"));
  EXPECT_EQ(render_summary(parse("{}")), "Unknown");
}

TEST(StatusView, ListHasOneLinePerRollout) {
  boost::json::array rollouts;
  rollouts.push_back(parse(kProgressing));
  auto cart = parse(kHealthy);
  cart["name"] = "cart";
  cart["stable"] = "cart-v7";
  rollouts.push_back(cart);
  const std::string out = render_list(rollouts);
  EXPECT_EQ(out,
            "NAME  STRATEGY  PHASE          STEP  WEIGHT  STABLE   CANARY\n"
            "shop  canary    ◌ Progressing  4/6   50      shop-v1  shop-v2\n"
            "cart  canary    ✔ Healthy      6/6   0       cart-v7  -\n");
  EXPECT_EQ(render_list({}), "No rollouts.\n");
}

TEST(StatusView, PhaseSymbols) {
  EXPECT_EQ(phase_symbol("Healthy"), "✔");
  EXPECT_EQ(phase_symbol("Progressing"), "◌");
  EXPECT_EQ(phase_symbol("Paused"), "॥");
  EXPECT_EQ(phase_symbol("Degraded"), "✖");
  EXPECT_EQ(phase_symbol("Error"), "⚠");
  EXPECT_EQ(phase_symbol("Inconclusive"), "?");
  EXPECT_EQ(phase_symbol("Pending"), "◷");
  EXPECT_EQ(phase_symbol("Whatever"), "•");
}

}  // namespace
}  // namespace vane::cli
