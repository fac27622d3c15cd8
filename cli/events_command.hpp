// `vane events [NAME] [--follow] [--json]` (SPEC §7, §11): the event trail of a running vane from
// GET /api/v1/events, oldest first; with --follow, each new event as it comes. Main thread.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>

#include <boost/json/object.hpp>

#include "cli/admin_client.hpp"
#include "cli/options.hpp"

namespace vane::cli {

/// `args` were checked against the command's table. Exit 0; 1 when the API refused (404 for an
/// unknown rollout: its error on stderr) or could not be reached at first. --follow ends with 0 on
/// SIGINT or SIGTERM.
int cmd_events(const Args& args);

struct EventsOptions {
  std::string name;    ///< empty: every event
  bool json = false;   ///< one EVENT object per line instead of a text line
  bool follow = false;
  /// --follow: between polls; 300 ms shows each new event well within 1 s of it.
  std::chrono::milliseconds interval{300};
  int max_polls = 0;  ///< --follow: 0 is unbounded (until `stopped`); tests bound it
};

/// Runs `vane events` with `client`, writing to `out` and `err`; `stopped` (checked between polls)
/// ends --follow with 0.
int show_events(const AdminClient& client, const EventsOptions& options, std::ostream& out,
                std::ostream& err, const std::function<bool()>& stopped);

/// One text line of an EVENT: "ID  TIME  TRIGGER  ROLLOUT  MESSAGE" ("-" for no rollout).
std::string event_line(const boost::json::object& event);

}  // namespace vane::cli
