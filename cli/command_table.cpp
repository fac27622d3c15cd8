#include "cli/command_table.hpp"

#include <array>
#include <stdexcept>

#include "cli/argo_import.hpp"
#include "cli/command_line.hpp"
#include "cli/events_command.hpp"
#include "cli/remote_commands.hpp"

namespace vane::cli {
namespace {

using V = ValueKind;

// ---- options ---------------------------------------------------------------------------------

constexpr OptionSpec kRunOptions[] = {
    {"--config", "-c", V::Path, true}, {"--ready-file", "", V::Path},   {"--watch-config", ""},
    {"--no-watch-config", ""},         {"--log-json", ""},              {"--access-log", "", V::Path},
    {"--log-level", "", V::LogLevel}};
constexpr OptionSpec kValidateOptions[] = {{"--config", "-c", V::Path, true}};
constexpr OptionSpec kImportOptions[] = {{"--filename", "-f", V::Path, true},
                                         {"--output", "-o", V::Path}};
constexpr OptionSpec kDemoOptions[] = {{"--duration", "", V::Seconds}, {"--experiment", ""}};

// Every client command ends with --admin URL and --token-file PATH.
constexpr OptionSpec kStatusOptions[] = {
    {"--watch", "-w"}, {"--json", ""}, {"--wait", ""}, {"--timeout", "", V::Duration},
    {"--admin", "", V::Url}, {"--token-file", "", V::Path}};
constexpr OptionSpec kPromoteOptions[] = {
    {"--full", ""}, {"--admin", "", V::Url}, {"--token-file", "", V::Path}};
constexpr OptionSpec kActionOptions[] = {{"--admin", "", V::Url}, {"--token-file", "", V::Path}};
constexpr OptionSpec kEventsOptions[] = {
    {"--follow", "-f"}, {"--json", ""}, {"--admin", "", V::Url}, {"--token-file", "", V::Path}};
constexpr OptionSpec kClusterOptions[] = {
    {"--json", ""}, {"--admin", "", V::Url}, {"--token-file", "", V::Path}};

// ---- usage texts -----------------------------------------------------------------------------

constexpr std::string_view kRunUsage = R"(usage: vane run -c FILE [options]

Serves HTTP on every listener of FILE, with the admin API on admin.address.

Options:
  -c, --config FILE      the config file (required)
  --ready-file PATH      once bound, write {"pid","admin","listeners":{name: address}} to PATH
  --watch-config         reload when FILE changes, including a ConfigMap's symlink swap (default)
  --no-watch-config      reload only on SIGHUP or POST /api/v1/reload
  --log-json             log JSON lines instead of text
  --access-log PATH      one JSON line per request to PATH ("-": stderr); wins over accessLog
  --log-level LEVEL      debug, info (default), warn or error

Signals: SIGHUP reloads FILE (a bad file is rejected and the old config kept); SIGTERM/SIGINT
stop accepting, finish in-flight requests (up to 30 s) and exit 0.
)";

constexpr std::string_view kValidateUsage = R"(usage: vane validate -c FILE

Checks FILE. Exits 0 when it is valid; otherwise prints every error to stderr as
FILE:LINE:COL: PATH: MESSAGE and exits 1.
)";

constexpr std::string_view kStatusUsage =
    R"(usage: vane status [NAME] [--watch|-w] [--json] [--wait [--timeout DURATION]] [--admin URL] [--token-file PATH]

Shows rollout NAME, or every rollout, as the running vane reports it.

Options:
  --json                 print the admin API's JSON (STATUS with NAME, {"rollouts":[...]} without)
  -w, --watch            on a terminal, redraw every second until interrupted (Ctrl-C); to a pipe
                         or file, print the status again each time it changes
  --wait                 wait until Healthy (exit 0) or Degraded (exit 1); exit 2 on timeout.
                         Without NAME: until every rollout is Healthy, or one is Degraded
  --timeout DURATION     how long --wait waits, e.g. 30s, 2m (default 10m)
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kPromoteUsage =
    R"(usage: vane promote NAME [--full] [--admin URL] [--token-file PATH]

Clears a pause of rollout NAME; when it is not paused, skips the current step.

Options:
  --full                 skip every remaining step, pause and analysis
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kAbortUsage = R"(usage: vane abort NAME [--admin URL] [--token-file PATH]

Aborts rollout NAME: all traffic back to stable at once, phase Degraded, until retry or a new
desired upstream.

Options:
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kRetryUsage = R"(usage: vane retry NAME [--admin URL] [--token-file PATH]

Restarts the steps of an aborted (Degraded) rollout NAME from the first.

Options:
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kPauseUsage = R"(usage: vane pause NAME [--admin URL] [--token-file PATH]

Pauses rollout NAME at its current step until 'vane promote NAME'.

Options:
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kEventsUsage =
    R"(usage: vane events [NAME] [--follow|-f] [--json] [--admin URL] [--token-file PATH]

Prints the event trail (rollout transitions, analysis outcomes, reloads), oldest first: one line
per event with its id, time, trigger, rollout ("-" for none) and message; only rollout NAME's
with NAME.

Options:
  -f, --follow           then print each new event as it happens, until interrupted (Ctrl-C)
  --json                 print each event as one line of JSON (the admin API's EVENT)
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kClusterUsage = R"(usage: vane cluster [--json] [--admin URL] [--token-file PATH]

Shows the replicas of the cluster (SPEC §9) as the asked replica sees them: the leader, and each
live member's admin URL, config digest and applied state revision.

Options:
  --json                 print GET /api/v1/cluster as it is
  --admin URL            the admin API (default http://127.0.0.1:9901)
  --token-file PATH      the admin token (surrounding whitespace is ignored)
)";

constexpr std::string_view kDemoUsage = R"(usage: vane demo [--duration SECONDS] [--experiment]

Shows on loopback, with no config file, what vane is for: it judges a canary from its own
measurements and promotes or aborts it by itself. Three built-in upstreams (shop-v1, the stable
version; shop-v2, a good new version; shop-v3, a bad one: 30% errors and 150 ms slower), vane in
front of them and a steady load of a few hundred requests per second.

Act 1: the desired version becomes shop-v2 (the demo edits the config and reloads, as an operator
would). vane walks the canary steps (setWeight 20, analysis, setWeight 50, pause, setWeight 80,
analysis); each analysis measures the canary's success rate and its p95 latency against stable's,
every second, and shop-v2 passes: it becomes stable.
Act 2: the desired version becomes shop-v3. At 20% the analysis measures its errors and latency,
fails, and vane aborts the rollout: all traffic is back on shop-v2 within seconds.
Act 3 (only with --experiment): a second rollout, catalog, whose warm stable answers in 40 ms and
a fresh copy of it in 30 ms. The new version, 39 ms, passes an analysis step against the warm
stable (result <= baseline * 1.1), then an experiment step runs the fresh copy as `baseline` and
the new version as `canary` side by side on 20% each; the same condition now fails (30% slower
than the baseline) and vane aborts the rollout.

The demo prints each step, the weights in force, what each version served, every measurement and
the moment of abort, and exits 0 once every act ended as described (within about a minute, or
two with --experiment).

Options:
  --duration SECONDS   seconds of the pause step (default 2, at most 20)
  --experiment         play act 3: an experiment step against a fresh baseline (SPEC §14)
)";

constexpr std::string_view kImportUsage =
    R"(usage: vane import argo -f FILE [-f FILE...] [-o OUT]

Converts Argo Rollouts objects (Rollout, AnalysisTemplate, ClusterAnalysisTemplate, Service,
Ingress, and the hosts of a Rollout's Istio VirtualService) in Kubernetes YAML files, one or many
documents each, into a vane config that 'vane validate' accepts. Every field that cannot be
carried over is listed on stderr as FILE:LINE: PATH: not imported: REASON. Exits 0 when a config
was written, 1 when none could be.

Options:
  -f, --filename FILE    a YAML file to read (required; repeat for more files)
  -o, --output OUT       where to write the config (default: stdout)
)";

constexpr std::string_view kVersionUsage = "usage: vane version\n\nPrints vane's version.\n";

// ---- the table -------------------------------------------------------------------------------

const std::array kCommands = {
    Command{{"run", kRunOptions, "", 0, 0, kRunUsage}, cmd_run},
    Command{{"validate", kValidateOptions, "", 0, 0, kValidateUsage}, cmd_validate},
    Command{{"status", kStatusOptions, "NAME", 0, 1, kStatusUsage}, cmd_status},
    Command{{"promote", kPromoteOptions, "NAME", 1, 1, kPromoteUsage}, cmd_promote},
    Command{{"abort", kActionOptions, "NAME", 1, 1, kAbortUsage}, cmd_abort},
    Command{{"retry", kActionOptions, "NAME", 1, 1, kRetryUsage}, cmd_retry},
    Command{{"pause", kActionOptions, "NAME", 1, 1, kPauseUsage}, cmd_pause},
    Command{{"events", kEventsOptions, "NAME", 0, 1, kEventsUsage}, cmd_events},
    Command{{"cluster", kClusterOptions, "", 0, 0, kClusterUsage}, cmd_cluster},
    Command{{"import", kImportOptions, "argo", 1, 1, kImportUsage}, argo::cmd_import},
    Command{{"demo", kDemoOptions, "", 0, 0, kDemoUsage}, run_demo},
    Command{{"version", {}, "", 0, 0, kVersionUsage}, cmd_version},
};

}  // namespace

const std::string_view kMainUsage = R"(vane — an ingress proxy with progressive delivery built in

usage: vane <command> [options]

Commands:
  run -c FILE        serve traffic with the config FILE
  validate -c FILE   check FILE; print every error as FILE:LINE:COL: PATH: MESSAGE
  status [NAME]      show rollouts (--watch, --json, --wait [--timeout 10m])
  promote NAME       continue a paused rollout, or skip the current step (--full: all steps)
  abort NAME         send all traffic back to stable (Degraded)
  retry NAME         restart an aborted rollout from its first step
  pause NAME         pause a rollout at its current step
  events [NAME]      print the event trail (--follow, --json)
  cluster            show the replicas of a cluster and its leader (--json)
  import argo -f F   convert Argo Rollouts YAML (Rollout, AnalysisTemplate, Service, ...) to a config
  demo               run a live demo on loopback with built-in upstreams (no config needed)
  version            print the version

Run 'vane <command> --help' for a command's options.
)";

const Command* find_command(std::string_view name) {
  for (const Command& command : kCommands) {
    if (command.spec.name == name) return &command;
  }
  return nullptr;
}

const CommandSpec& command_spec(std::string_view name) {
  const Command* command = find_command(name);
  if (!command) throw std::logic_error("no command " + std::string(name));
  return command->spec;
}

}  // namespace vane::cli
