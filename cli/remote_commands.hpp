// The CLI's remote commands (SPEC §7): `vane status|promote|abort|retry|pause`, which talk to a
// running vane through its admin API (`--admin URL`, `--token-file FILE`). Main thread.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include "cli/admin_client.hpp"
#include "cli/command_line.hpp"

namespace vane::cli {

/// Exit codes: 0 done; 1 the API refused (401, 404, 409: its error on stderr) or could not be
/// reached; 2 a usage error, or `status --wait` timed out.
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
  bool watch = false; ///< redraw in place every `interval` (ANSI home + clear)
  bool wait = false;  ///< poll until Healthy (0) or Degraded (1); 2 once `timeout` has passed
  std::chrono::milliseconds timeout{600'000};
  std::chrono::milliseconds interval{1'000};
  int max_polls = 0;  ///< 0: unbounded (until a --wait outcome, or a signal)
};

/// Runs `vane status` with `client`, writing to `out` and `err`; returns the exit code.
int show_status(const AdminClient& client, const StatusOptions& options, std::ostream& out,
                std::ostream& err);

}  // namespace vane::cli
