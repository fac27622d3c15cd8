#include "rollout/controller.hpp"

namespace vane::rollout {
namespace {

/// A persisted state fits the config when the upstreams it names still exist (for a switched
/// blue-green rollout, also the old version it may switch back to).
bool fits(const config::Config& config, const RolloutState& state) {
  if (!config.find_upstream(state.stable)) return false;
  if (state.gate == Gate::PostPromotion && !config.find_upstream(state.previous_stable)) {
    return false;
  }
  return state.canary.empty() || config.find_upstream(state.canary);
}

}  // namespace

Controller::Controller(std::shared_ptr<const config::Config> config, StateBackend& backend,
                       Hooks hooks, WallTime now, Role role)
    : config_(std::move(config)), store_(backend), hooks_(std::move(hooks)), role_(role) {
  index_config();
  rollouts_.resize(config_->rollouts.size());
  for (uint32_t i = 0; i < rollouts_.size(); ++i) {
    const auto& spec = config_->rollouts[i];
    auto loaded = store_.load(spec.name, now);
    if (!loaded.warning.empty() && hooks_.warn) hooks_.warn("rollout " + spec.name + ": " + loaded.warning);
    if (role_ == Role::Follow) {
      rollouts_[i].state = loaded.state ? *loaded.state : initial_state(spec);
      rollouts_[i].plan = plan_traffic(spec, rollouts_[i].state, canary_healthy(rollouts_[i].state));
    } else if (loaded.state && fits(*config_, *loaded.state)) {
      rollouts_[i].state = adapt_strategy(spec, *loaded.state);
      resume(i, now);
    } else {
      rollouts_[i].state = initial_state(spec);
      if (!loaded.warning.empty()) rollouts_[i].state.message = loaded.warning;
      store_.save(spec.name, rollouts_[i].state, nullptr);
      resume(i, now);
    }
  }
  publish();
}

void Controller::resume(uint32_t index, WallTime now) {
  const auto& spec = config_->rollouts[index];
  // Resumed as it was (a running analysis starts afresh, SPEC §4); then the desired upstream
  // of this config is reconciled with it.
  for (const auto& effect : resume_effects(spec, rollouts_[index].state)) {
    if (hooks_.analysis) hooks_.analysis(index, effect, rollouts_[index].state);
  }
  Event desired;
  desired.kind = Event::Kind::DesiredChanged;
  desired.upstream = spec.upstream;
  apply(index, desired, now);
}

void Controller::follow(std::string_view rollout, const RolloutState& state) {
  const auto index = find(rollout);
  if (!index || role_ != Role::Follow) return;
  Entry& entry = rollouts_[*index];
  entry.state = state;
  entry.plan = plan_traffic(config_->rollouts[*index], entry.state, canary_healthy(entry.state));
  publish();
}

void Controller::lead(WallTime now) {
  role_ = Role::Lead;
  for (uint32_t i = 0; i < rollouts_.size(); ++i) {
    const auto& spec = config_->rollouts[i];
    RolloutState& state = rollouts_[i].state;
    state = fits(*config_, state) ? adapt_strategy(spec, state) : initial_state(spec);
    // Written whether it changed or not: a first leader's states (made up on a first start)
    // must be what the next leader reads, not that one's own first start.
    store_.save(spec.name, state, nullptr);
    resume(i, now);
  }
  publish();
}

void Controller::reconfigure(std::shared_ptr<const config::Config> config, WallTime now) {
  if (role_ == Role::Follow) {
    std::vector<Entry> kept(config->rollouts.size());
    for (uint32_t i = 0; i < kept.size(); ++i) {
      const auto old = find(config->rollouts[i].name);
      kept[i].state = old ? rollouts_[*old].state : initial_state(config->rollouts[i]);
    }
    config_ = std::move(config);
    index_config();
    rollouts_ = std::move(kept);
    for (uint32_t i = 0; i < rollouts_.size(); ++i) {
      rollouts_[i].plan = plan_traffic(config_->rollouts[i], rollouts_[i].state,
                                       canary_healthy(rollouts_[i].state));
    }
    table_.reset();
    routes_.reset();
    publish(false);
    return;
  }
  std::vector<Entry> next(config->rollouts.size());
  for (uint32_t i = 0; i < next.size(); ++i) {
    const auto& spec = config->rollouts[i];
    auto old = find(spec.name);
    next[i].state = old && fits(*config, rollouts_[*old].state) ? rollouts_[*old].state
                                                               : initial_state(spec);
    const RolloutState adapted = adapt_strategy(spec, next[i].state);
    if (!(adapted == next[i].state) && hooks_.analysis) {  // the old attempt's runs end
      hooks_.analysis(i, Effect{Effect::Kind::TerminateAnalysis, AnalysisKind::Step, 0, true},
                      adapted);
    }
    next[i].state = adapted;
  }
  config_ = std::move(config);
  index_config();
  rollouts_ = std::move(next);
  for (uint32_t i = 0; i < rollouts_.size(); ++i) {
    Event changed;
    changed.kind = Event::Kind::DesiredChanged;
    changed.upstream = config_->rollouts[i].upstream;
    apply(i, changed, now);
  }
  table_.reset();  // indices changed with the config: always a new table
  routes_.reset();
  publish(false);
}

void Controller::tick(WallTime now) {
  if (role_ == Role::Follow) {  // health changes still move a follower's own traffic
    for (uint32_t i = 0; i < rollouts_.size(); ++i) {
      rollouts_[i].plan = plan_traffic(config_->rollouts[i], rollouts_[i].state,
                                       canary_healthy(rollouts_[i].state));
    }
    publish();
    return;
  }
  for (uint32_t i = 0; i < rollouts_.size(); ++i) apply(i, Event{}, now);
  publish();
}

Controller::Outcome Controller::command(std::string_view rollout, Event::Kind kind, WallTime now,
                                        std::string_view message) {
  auto index = find(rollout);
  if (!index) return Outcome::NotFound;
  if (role_ == Role::Follow) return Outcome::Conflict;  // the caller forwards to the leader
  Event event;
  event.kind = kind;
  event.message = std::string(message);
  Environment env{canary_healthy(rollouts_[*index].state)};
  auto result = transition(config_->rollouts[*index], rollouts_[*index].state, event, now, env);
  if (result.verdict == Verdict::Conflict) return Outcome::Conflict;
  adopt(*index, std::move(result));
  publish();
  return Outcome::Done;
}

void Controller::analysis_done(uint32_t rollout, AnalysisKind kind, Event::AnalysisPhase phase,
                               std::string message, WallTime now, uint32_t run) {
  if (rollout >= rollouts_.size() || role_ == Role::Follow) return;
  Event event;
  event.kind = Event::Kind::AnalysisDone;
  event.analysis = kind;
  event.analysis_phase = phase;
  event.run = run;
  event.message = std::move(message);
  apply(rollout, event, now);
  publish();
}

void Controller::gate_answered(std::string_view rollout, uint32_t step, Event::GateVerdict verdict,
                               std::string message, WallTime now) {
  const auto index = find(rollout);
  if (!index || role_ == Role::Follow) return;
  Event event;
  event.kind = Event::Kind::GateAnswered;
  event.gate_verdict = verdict;
  event.message = std::move(message);
  event.step_index = step;
  apply(*index, event, now);
  publish();
}

std::optional<uint32_t> Controller::find(std::string_view rollout) const {
  const auto it = rollout_indices_.find(rollout);
  if (it == rollout_indices_.end()) return std::nullopt;
  return it->second;
}

void Controller::index_config() {
  upstream_indices_.clear();
  rollout_indices_.clear();
  // Names are unique within each list (the loader checks); the first wins all the same.
  for (size_t i = 0; i < config_->upstreams.size(); ++i) {
    upstream_indices_.try_emplace(config_->upstreams[i].name, static_cast<int32_t>(i));
  }
  for (size_t i = 0; i < config_->rollouts.size(); ++i) {
    rollout_indices_.try_emplace(config_->rollouts[i].name, static_cast<uint32_t>(i));
  }
}

void Controller::apply(uint32_t index, const Event& event, WallTime now) {
  Environment env{canary_healthy(rollouts_[index].state)};
  auto result = transition(config_->rollouts[index], rollouts_[index].state, event, now, env);
  if (result.verdict == Verdict::Ok) adopt(index, std::move(result));
}

void Controller::adopt(uint32_t index, Transition&& result) {
  Entry& entry = rollouts_[index];
  const auto& spec = config_->rollouts[index];
  if (!(result.state == entry.state)) {
    std::string error;
    if (!store_.save(spec.name, result.state, &error) && hooks_.warn) {
      hooks_.warn("rollout " + spec.name + ": cannot persist progress: " + error);
    }
    entry.state = std::move(result.state);
  }
  entry.plan = plan_traffic(spec, entry.state, canary_healthy(entry.state));
  for (const auto& fired : result.fired) {
    if (hooks_.fired) hooks_.fired(spec.name, fired, entry.state);
  }
  for (const auto& effect : result.effects) {
    if (hooks_.analysis) hooks_.analysis(index, effect, entry.state);
  }
}

bool Controller::canary_healthy(const RolloutState& state) const {
  const int32_t canary = upstream_index(state.canary);
  if (canary < 0) return false;
  return !hooks_.healthy || hooks_.healthy(static_cast<uint32_t>(canary));
}

int32_t Controller::upstream_index(std::string_view name) const {
  const auto it = upstream_indices_.find(name);
  return it == upstream_indices_.end() ? -1 : it->second;
}

void Controller::publish(bool notify) {
  std::vector<RolloutRouting> routing(rollouts_.size());
  for (uint32_t i = 0; i < rollouts_.size(); ++i) {
    const auto& state = rollouts_[i].state;
    // A side this file lacks (a follower behind the leader's file): stable falls back to the
    // desired upstream, the canary to none.
    int32_t stable = upstream_index(state.stable);
    if (stable < 0) stable = upstream_index(config_->rollouts[i].upstream);
    routing[i].stable = static_cast<uint32_t>(std::max(stable, 0));
    // An aborted canary gets no traffic; an aborted blue-green preview still gets its route's.
    const bool reachable = !state.aborted || rollouts_[i].plan.preview;
    routing[i].canary = reachable ? upstream_index(state.canary) : -1;
    routing[i].plan = rollouts_[i].plan;
  }
  // Only a change of traffic makes a new table: workers swap it between requests.
  if (table_ && routing == published_) return;
  published_ = routing;
  if (!routes_) routes_ = std::make_shared<const RouteIndex>(*config_);  // once per config
  table_ = std::make_shared<const RoutingTable>(*config_, routing, routes_);
  if (notify && hooks_.publish) hooks_.publish(table_);
}

}  // namespace vane::rollout
