// The event trail of SPEC §11: every rollout transition and every reload that changed or rejected
// the config, numbered from 1. Each event is logged (one line naming its trigger), counted for
// vane_rollout_events_total, kept (the last 1000, for GET /api/v1/events and `vane events`) and
// handed to the listeners (the notifiers). Control thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <prometheus/metric_family.h>

#include "config/trigger.hpp"
#include "rollout/rollout_state.hpp"

namespace vane::control {

struct EventRecord {
  uint64_t id = 0;
  rollout::WallTime time;
  config::Trigger trigger = config::Trigger::ConfigReloaded;
  std::optional<std::string> rollout;  ///< none for the config's and the cluster's events
  std::string message;
  // The rollout as STATUS shows it right after the event (empty for events without one).
  std::string phase;
  uint32_t step = 0;
  std::string stable;
  std::optional<std::string> canary;
};

/// EVENT of SPEC §11: {"id","time","event","rollout","message","phase","step","stable","canary"}.
boost::json::object to_json(const EventRecord& event);

class EventLog {
 public:
  static constexpr size_t kKept = 1000;
  using Listener = std::function<void(const EventRecord&)>;

  /// A rollout's event, with its state right after it.
  void add(const std::string& rollout, config::Trigger trigger, std::string message,
           const rollout::RolloutState& state, rollout::WallTime now);
  /// An event of no rollout (reloads, leadership).
  void add(config::Trigger trigger, std::string message, rollout::WallTime now);

  /// Kept events after `since` (an id), oldest first; only `rollout`'s when set.
  std::vector<const EventRecord*> after(uint64_t since, std::optional<std::string_view> rollout) const;

  void listen(Listener listener) { listeners_.push_back(std::move(listener)); }

  /// vane_rollout_events_total{rollout,event}.
  void add_metrics(std::vector<prometheus::MetricFamily>& out) const;

 private:
  void record(EventRecord event);

  std::deque<EventRecord> kept_;
  uint64_t next_id_ = 1;
  std::map<std::pair<std::string, config::Trigger>, uint64_t> counts_;  ///< by (rollout, trigger)
  std::vector<Listener> listeners_;
};

}  // namespace vane::control
