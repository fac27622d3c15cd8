#include "control/notifications.hpp"

#include <boost/json/object.hpp>

#include "control/event_log.hpp"
#include "control/json_text.hpp"

namespace vane::control {

namespace json = boost::json;

void Notifications::configure(const std::vector<config::Notifier>& specs) {
  std::map<std::string, std::unique_ptr<Notifier>> next;
  for (const auto& spec : specs) {
    auto kept = notifiers_.find(spec.name);
    if (kept != notifiers_.end()) {
      kept->second->set_spec(spec);
      next[spec.name] = std::move(kept->second);
    } else {
      next[spec.name] = std::make_unique<Notifier>(io_, http_, spec);
    }
  }
  notifiers_ = std::move(next);  // the others stop
}

bool Notifications::wanted(const EventRecord& event) const {
  for (const auto& [name, notifier] : notifiers_) {
    if (notifier->wants(event)) return true;
  }
  return false;
}

void Notifications::notify(const EventRecord& event, const json::value& status) {
  std::string as_json;
  std::string as_slack;
  for (auto& [name, notifier] : notifiers_) {
    if (!notifier->wants(event)) continue;
    if (notifier->spec().format == config::Notifier::Format::Slack) {
      if (as_slack.empty()) as_slack = to_text(json::object{{"text", slack_text(event)}});
      notifier->post(as_slack);
    } else {
      if (as_json.empty()) as_json = to_text(json::object{{"event", to_json(event)}, {"status", status}});
      notifier->post(as_json);
    }
  }
}

void Notifications::add_metrics(std::vector<prometheus::MetricFamily>& out) const {
  prometheus::MetricFamily family{"vane_notifications_total",
                                  "Notifications by notifier and result: sent, failed (after the last attempt), dropped (from a full queue).",
                                  prometheus::MetricType::Counter, {}};
  for (const auto& [name, notifier] : notifiers_) {
    const auto& counts = notifier->counts();
    for (const auto& [result, value] : {std::pair{"sent", counts.sent}, std::pair{"failed", counts.failed},
                                        std::pair{"dropped", counts.dropped}}) {
      prometheus::ClientMetric metric;
      metric.label = {{"notifier", name}, {"result", result}};
      metric.counter.value = static_cast<double>(value);
      family.metric.push_back(std::move(metric));
    }
  }
  if (!family.metric.empty()) out.push_back(std::move(family));
}

std::string slack_text(const EventRecord& event) {
  std::string text = "vane: ";
  text += event.rollout ? "rollout *" + *event.rollout + "* " : "";
  text += std::string(config::to_string(event.trigger));
  if (event.rollout) {
    text += " (" + event.phase + "; stable " + event.stable;
    if (event.canary) text += ", canary " + *event.canary;
    text += ")";
  }
  return text + ": " + event.message;
}

}  // namespace vane::control
