// Every notifier of the config (SPEC §11): formats each event for the notifiers that want it
// (`json`: {"event": EVENT, "status": STATUS}; `slack`: {"text": …}) and queues it with them.
// A reload keeps a notifier of the same name, with its queue and counts. Control thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>
#include <prometheus/metric_family.h>

#include "config/config.hpp"
#include "control/notifier.hpp"

namespace vane::control {

class HttpClient;
struct EventRecord;

class Notifications {
 public:
  Notifications(boost::asio::io_context& io, HttpClient& http) : io_(io), http_(http) {}

  void configure(const std::vector<config::Notifier>& specs);
  /// Whether a notifier wants `event` (only then is its STATUS worth building).
  bool wanted(const EventRecord& event) const;
  /// `status`: the rollout's STATUS right after the event, null for events of no rollout.
  void notify(const EventRecord& event, const boost::json::value& status);
  /// vane_notifications_total{notifier,result}.
  void add_metrics(std::vector<prometheus::MetricFamily>& out) const;

 private:
  boost::asio::io_context& io_;
  HttpClient& http_;
  std::map<std::string, std::unique_ptr<Notifier>> notifiers_;  ///< by name
};

/// The `slack` format's text: rollout, trigger name, versions, message.
std::string slack_text(const EventRecord& event);

}  // namespace vane::control
