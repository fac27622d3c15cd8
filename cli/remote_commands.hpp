// The CLI's remote commands (SPEC §7): `vane status|promote|abort|retry|pause|cluster`, which talk
// to a running vane through its admin API (`--admin URL`, `--token-file FILE`). Main thread.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "cli/admin_client.hpp"
#include "cli/options.hpp"

namespace vane::cli {

/// `args` were checked against the command's table (command_table.hpp). Exit codes: 0 done; 1 the
/// API refused (401, 404, 409: its error on stderr) or could not be reached; 2 a usage error, or
/// `status --wait` timed out.
int cmd_status(const Args& args);   ///< status [NAME] [--watch] [--json] [--wait [--timeout 10m]]
int cmd_promote(const Args& args);  ///< promote NAME [--full]
int cmd_abort(const Args& args);    ///< abort NAME
int cmd_retry(const Args& args);    ///< retry NAME
int cmd_pause(const Args& args);    ///< pause NAME
int cmd_cluster(const Args& args);  ///< cluster [--json]

/// How `vane status` shows and polls. Tests shorten the intervals and bound the polls.
struct StatusOptions {
  std::string name;   ///< empty: every rollout
  bool json = false;  ///< print the API's JSON instead of drawing it
  bool watch = false; ///< show it again every `interval` (below)
  bool terminal = false;  ///< --watch: redraw in place (ANSI home + clear); else append a block
                          ///< each time what is shown changes
  bool wait = false;  ///< poll until Healthy (0) or Degraded (1); 2 once `timeout` has passed
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds interval{1'000};
  int max_polls = 0;  ///< 0: unbounded (until a --wait outcome, or a signal)
};

// ---- shared by the client commands ----------------------------------------------------------

/// The client of `--admin`, with the token of `--token-file`; nullopt (reported) when unusable.
std::optional<AdminClient> make_client(const Args& args);

/// Why no answer came: "cannot reach the admin API at URL: ..." (or "no answer from ...").
std::string unreachable(const AdminClient& client, const AdminResult& result);

/// 0 for a 2xx answer; otherwise prints why not to `err` ("vane: MESSAGE") and returns 1.
int check(const AdminClient& client, const AdminResult& result, std::ostream& err);

/// The answer's JSON object; nullopt (reported to `err`) when it is not one.
std::optional<boost::json::object> parse_object(const AdminResult& result, std::ostream& err);

/// Runs `vane status` with `client`, writing to `out` and `err`; returns the exit code.
int show_status(const AdminClient& client, const StatusOptions& options, std::ostream& out,
                std::ostream& err);

}  // namespace vane::cli
