#include "control/event_log.hpp"

#include "proxy/log.hpp"

namespace vane::control {

namespace json = boost::json;

json::object to_json(const EventRecord& event) {
  json::object o;
  o["id"] = event.id;
  o["time"] = rollout::format_time(event.time);
  o["event"] = config::to_string(event.trigger);
  o["rollout"] = event.rollout ? json::value(*event.rollout) : json::value(nullptr);
  o["message"] = event.message;
  o["phase"] = event.rollout ? json::value(event.phase) : json::value(nullptr);
  o["step"] = event.rollout ? json::value(event.step) : json::value(nullptr);
  o["stable"] = event.rollout ? json::value(event.stable) : json::value(nullptr);
  o["canary"] = event.canary ? json::value(*event.canary) : json::value(nullptr);
  return o;
}

void EventLog::add(const std::string& rollout, config::Trigger trigger, std::string message,
                   const rollout::RolloutState& state, rollout::WallTime now) {
  EventRecord event;
  event.time = now;
  event.trigger = trigger;
  event.rollout = rollout;
  event.message = std::move(message);
  event.phase = std::string(rollout::to_string(state.phase));
  event.step = state.step_index;
  event.stable = state.stable;
  if (!state.canary.empty()) event.canary = state.canary;
  record(std::move(event));
}

void EventLog::add(config::Trigger trigger, std::string message, rollout::WallTime now) {
  EventRecord event;
  event.time = now;
  event.trigger = trigger;
  event.message = std::move(message);
  record(std::move(event));
}

void EventLog::record(EventRecord event) {
  event.id = next_id_++;
  const std::string_view name = config::to_string(event.trigger);
  const std::string rollout = event.rollout.value_or("");
  const auto level = event.trigger == config::Trigger::RolloutAborted ||
                             event.trigger == config::Trigger::ConfigRejected ||
                             event.trigger == config::Trigger::AnalysisRunFailed ||
                             event.trigger == config::Trigger::AnalysisRunError
                         ? proxy::log::Level::Warn
                         : proxy::log::Level::Info;
  const std::string line = std::string(name) + (rollout.empty() ? "" : " " + rollout) + ": " + event.message;
  const std::string id = std::to_string(event.id);
  proxy::log::write(level, line, {{"event", name}, {"rollout", rollout}, {"id", id}});
  ++counts_[{rollout, event.trigger}];
  kept_.push_back(std::move(event));
  if (kept_.size() > kKept) kept_.pop_front();
  for (const auto& listener : listeners_) listener(kept_.back());
}

std::vector<const EventRecord*> EventLog::after(uint64_t since,
                                                std::optional<std::string_view> rollout) const {
  std::vector<const EventRecord*> out;
  for (const auto& event : kept_) {
    if (event.id <= since) continue;
    if (rollout && event.rollout != *rollout) continue;
    out.push_back(&event);
  }
  return out;
}

void EventLog::add_metrics(std::vector<prometheus::MetricFamily>& out) const {
  prometheus::MetricFamily family{"vane_rollout_events_total",
                                  "Events (SPEC §11), by rollout (\"\" for none) and trigger name.",
                                  prometheus::MetricType::Counter, {}};
  for (const auto& [key, count] : counts_) {
    prometheus::ClientMetric metric;
    metric.label = {{"event", std::string(config::to_string(key.second))}, {"rollout", key.first}};
    metric.counter.value = static_cast<double>(count);
    family.metric.push_back(std::move(metric));
  }
  if (!family.metric.empty()) out.push_back(std::move(family));
}

}  // namespace vane::control
