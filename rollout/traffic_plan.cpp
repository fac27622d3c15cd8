// plan_traffic: a fold over the canary steps already done (SPEC §3, §4); blue-green's switch.
#include "rollout/traffic_plan.hpp"

#include <algorithm>

#include "rollout/state_machine.hpp"

namespace vane::rollout {
namespace {

/// Applies a setHeaderRoute / setMirrorRoute step: the same name replaces the route in place, a
/// new name is appended, a name without match removes that route.
template <typename RouteStep>
void fold_route(std::vector<RouteStep>& routes, const RouteStep& step) {
  const auto same_name = [&](const RouteStep& r) { return r.name == step.name; };
  const auto found = std::find_if(routes.begin(), routes.end(), same_name);
  if (step.match.empty()) {
    if (found != routes.end()) routes.erase(found);
  } else if (found != routes.end()) {
    *found = step;
  } else {
    routes.push_back(step);
  }
}

/// Blue-green (SPEC §4): one switch of all the active traffic, no routes of its own.
TrafficPlan plan_blue_green(const RolloutState& state) {
  TrafficPlan plan;
  if (state.canary.empty()) return plan;
  plan.preview = true;
  const bool switched = !state.aborted && state.gate == Gate::PostPromotion;
  plan.weight_centi = switched ? 10000 : 0;
  return plan;
}

}  // namespace

TrafficPlan plan_traffic(const config::Rollout& spec, const RolloutState& state,
                         bool canary_healthy) {
  if (spec.blue_green) return plan_blue_green(state);
  TrafficPlan plan;
  if (!spec.canary || state.canary.empty() || state.aborted) return plan;
  const auto& steps = spec.canary->steps;
  const std::size_t done = std::min<std::size_t>(state.step_index, steps.size());
  for (std::size_t i = 0; i < done; ++i) {
    const config::Step& step = steps[i];
    switch (step.kind) {
      case config::Step::Kind::SetWeight:
        plan.weight_centi = step.weight_centi;
        break;
      case config::Step::Kind::SetHeaderRoute:
        fold_route(plan.header_routes, step.header_route);
        break;
      case config::Step::Kind::SetMirrorRoute:
        fold_route(plan.mirror_routes, step.mirror_route);
        break;
      case config::Step::Kind::Pause:
      case config::Step::Kind::Analysis:
      case config::Step::Kind::Gate:
      case config::Step::Kind::Experiment:
        break;
    }
  }
  if (const config::ExperimentStep* e = running_experiment(spec, state)) {
    for (const config::ExperimentTemplate& t : e->templates) {
      const std::string& upstream = t.spec_ref == "stable"   ? state.stable
                                    : t.spec_ref == "canary" ? state.canary
                                                             : t.upstream;
      plan.experiment.push_back({t.slot, upstream, t.weight_centi});
    }
  }
  if (!canary_healthy) {  // SPEC §4: the canary gets no traffic; SPEC §3: routes suspended
    plan.weight_centi = 0;
    plan.routes_suspended = true;
  }
  return plan;
}

}  // namespace vane::rollout
