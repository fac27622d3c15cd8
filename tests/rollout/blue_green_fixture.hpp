// Test support for the blue-green units: a config whose rollout `shop` (desired v1, so a first
// start makes v1 active) has a preview route and the given `blueGreen` fields.
#pragma once

#include <string>
#include <string_view>

#include "tests/rollout/canary_fixture.hpp"

namespace vane::rollout::test {

/// The strategy of the table tests: both analyses, auto-promotion 30 s after the pre-promotion
/// analysis, old version warm for 60 s.
inline constexpr std::string_view kBlueGreenFields = R"(        previewRoute: shop-preview
        autoPromotionSeconds: 30
        prePromotionAnalysis: {templates: [{templateName: smoke}]}
        postPromotionAnalysis: {templates: [{templateName: success-rate}]}
        scaleDownDelaySeconds: 60
)";

/// A whole config; `fields` are the keys of `strategy.blueGreen` (indented by 8), `rollout_fields`
/// more keys of the rollout (indented by 4).
inline std::string blue_green_yaml(std::string_view fields = kBlueGreenFields,
                                   std::string_view rollout_fields = "") {
  std::string yaml = R"(listeners: [{name: l, address: "127.0.0.1:0"}]
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:1"]}
  - {name: v2, endpoints: ["127.0.0.1:2"]}
  - {name: v3, endpoints: ["127.0.0.1:3"]}
routes:
  - {name: shop, rollout: shop, match: {pathPrefix: /}}
  - {name: shop-preview, rollout: shop, match: {host: preview.example.com, pathPrefix: /}}
analysisTemplates:
  - name: smoke
    metrics:
      - name: smoke
        successCondition: result >= 0.99
        provider: {builtin: {metric: success-rate}}
  - name: success-rate
    metrics:
      - name: success-rate
        successCondition: result >= 0.99
        provider: {builtin: {metric: success-rate}}
rollouts:
  - name: shop
    upstream: v1
)";
  yaml += rollout_fields;
  yaml += "    strategy:\n      blueGreen:\n";
  yaml += fields;
  return yaml;
}

inline Effect start_pre() { return start(AnalysisKind::PrePromotion); }
inline Effect start_post() { return start(AnalysisKind::PostPromotion); }
inline Effect terminate(AnalysisKind kind) {
  return Effect{Effect::Kind::TerminateAnalysis, kind, 0, false};
}

}  // namespace vane::rollout::test
