#include "rollout/analysis_request.hpp"

namespace vane::rollout {
namespace {

const config::AnalysisSpec* spec_of(const config::Rollout& r, AnalysisKind kind, uint32_t step,
                                    uint32_t run) {
  switch (kind) {
    case AnalysisKind::Experiment: {
      if (!r.canary || step >= r.canary->steps.size()) return nullptr;
      const config::Step& s = r.canary->steps[step];
      if (s.kind != config::Step::Kind::Experiment || run >= s.experiment.analyses.size()) {
        return nullptr;
      }
      return &s.experiment.analyses[run].spec;
    }
    case AnalysisKind::Step:
      if (!r.canary || step >= r.canary->steps.size()) return nullptr;
      if (r.canary->steps[step].kind != config::Step::Kind::Analysis) return nullptr;
      return &r.canary->steps[step].analysis;
    case AnalysisKind::Background:
      return r.canary && r.canary->analysis ? &*r.canary->analysis : nullptr;
    case AnalysisKind::PrePromotion:
      return r.blue_green && r.blue_green->pre_promotion_analysis
                 ? &*r.blue_green->pre_promotion_analysis
                 : nullptr;
    case AnalysisKind::PostPromotion:
      return r.blue_green && r.blue_green->post_promotion_analysis
                 ? &*r.blue_green->post_promotion_analysis
                 : nullptr;
  }
  return nullptr;
}

std::string label_of(const config::Rollout& r, AnalysisKind kind, uint32_t step, uint32_t run) {
  switch (kind) {
    case AnalysisKind::Experiment: {
      const auto* spec = spec_of(r, kind, step, run);
      if (spec == nullptr) return "experiment" + std::to_string(step);
      const config::ExperimentStep& e = r.canary->steps[step].experiment;
      return e.name + "-" + e.analyses[run].name;
    }
    case AnalysisKind::Step: return "step" + std::to_string(step);
    case AnalysisKind::Background: return "background";
    case AnalysisKind::PrePromotion: return "prepromotion";
    case AnalysisKind::PostPromotion: return "postpromotion";
  }
  return "run";
}

}  // namespace

AnalysisRequest analysis_request(const config::Rollout& rollout, AnalysisKind kind,
                                 uint32_t step, uint32_t run) {
  return {spec_of(rollout, kind, step, run), label_of(rollout, kind, step, run),
          kind == AnalysisKind::Background};
}

}  // namespace vane::rollout
