// What a StartAnalysis asks of analysis: the spec each kind (and step) refers to, or none, and
// the label that names the run.
#include "rollout/analysis_request.hpp"

#include <gtest/gtest.h>

namespace vane::rollout {
namespace {

config::AnalysisSpec spec_named(std::string template_name) {
  config::AnalysisSpec spec;
  spec.templates = {{std::move(template_name)}};
  return spec;
}

config::Rollout canary_rollout(bool background) {
  config::Rollout r;
  r.name = "shop";
  config::CanaryStrategy canary;
  canary.steps.resize(3);
  canary.steps[0].kind = config::Step::Kind::SetWeight;
  canary.steps[1].kind = config::Step::Kind::Analysis;
  canary.steps[1].analysis = spec_named("step-check");
  canary.steps[2].kind = config::Step::Kind::Pause;
  if (background) canary.analysis = spec_named("background-check");
  r.canary = std::move(canary);
  return r;
}

config::Rollout blue_green_rollout(bool pre, bool post) {
  config::Rollout r;
  r.name = "shop";
  config::BlueGreenStrategy bg;
  if (pre) bg.pre_promotion_analysis = spec_named("pre-check");
  if (post) bg.post_promotion_analysis = spec_named("post-check");
  r.blue_green = std::move(bg);
  return r;
}

TEST(AnalysisRequest, ACanaryStepOrBackgroundAnalysis) {
  const config::Rollout r = canary_rollout(true);
  AnalysisRequest req = analysis_request(r, AnalysisKind::Step, 1);
  EXPECT_EQ(req.spec, &r.canary->steps[1].analysis);
  EXPECT_EQ(req.label, "step1");
  EXPECT_FALSE(req.background);
  req = analysis_request(r, AnalysisKind::Background, 0);
  EXPECT_EQ(req.spec, &*r.canary->analysis);
  EXPECT_EQ(req.label, "background");
  EXPECT_TRUE(req.background);
}

TEST(AnalysisRequest, NoSpecWhereTheRolloutHasNone) {
  const config::Rollout canary = canary_rollout(false);
  EXPECT_EQ(analysis_request(canary, AnalysisKind::Step, 0).spec, nullptr);  // a setWeight
  EXPECT_EQ(analysis_request(canary, AnalysisKind::Step, 2).spec, nullptr);  // a pause
  EXPECT_EQ(analysis_request(canary, AnalysisKind::Step, 3).spec, nullptr);  // past the steps
  EXPECT_EQ(analysis_request(canary, AnalysisKind::Step, 3).label, "step3");
  EXPECT_EQ(analysis_request(canary, AnalysisKind::Background, 0).spec, nullptr);
  EXPECT_EQ(analysis_request(canary, AnalysisKind::PrePromotion, 0).spec, nullptr);
  const config::Rollout bg = blue_green_rollout(false, false);
  EXPECT_EQ(analysis_request(bg, AnalysisKind::Step, 0).spec, nullptr);
  EXPECT_EQ(analysis_request(bg, AnalysisKind::Background, 0).spec, nullptr);
  EXPECT_EQ(analysis_request(bg, AnalysisKind::PrePromotion, 0).spec, nullptr);
  EXPECT_EQ(analysis_request(bg, AnalysisKind::PostPromotion, 0).spec, nullptr);
}

TEST(AnalysisRequest, BlueGreenPreAndPostPromotion) {
  const config::Rollout r = blue_green_rollout(true, true);
  AnalysisRequest req = analysis_request(r, AnalysisKind::PrePromotion, 0);
  EXPECT_EQ(req.spec, &*r.blue_green->pre_promotion_analysis);
  EXPECT_EQ(req.label, "prepromotion");
  EXPECT_FALSE(req.background);
  req = analysis_request(r, AnalysisKind::PostPromotion, 0);
  EXPECT_EQ(req.spec, &*r.blue_green->post_promotion_analysis);
  EXPECT_EQ(req.label, "postpromotion");
  EXPECT_FALSE(req.background);
}

}  // namespace
}  // namespace vane::rollout
