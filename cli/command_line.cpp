#include "cli/command_line.hpp"

#include <cstdio>
#include <iostream>

#include "cli/remote_commands.hpp"
#include "control/config_checks.hpp"
#include "proxy/log.hpp"
#include "control/server.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::cli {
namespace {

constexpr const char* kUsage = R"(vane — an ingress proxy with progressive delivery built in

Usage: vane <command> [options]

Commands:
  run -c FILE        serve traffic with the config FILE
  validate -c FILE   check FILE; print every error as FILE:LINE:COL: PATH: MESSAGE
  status [NAME]      show rollouts (--watch, --json, --wait [--timeout 10m])
  promote NAME       continue a paused rollout, or skip the current step (--full: all steps)
  abort NAME         send all traffic back to stable (Degraded)
  retry NAME         restart an aborted rollout from its first step
  pause NAME         pause a rollout at its current step
  cluster            show the replicas of a cluster and its leader (--json)
  demo               run a live demo on loopback with built-in upstreams (no config needed)
  version            print the version

Run 'vane <command> --help' for a command's options.
)";

constexpr const char* kRunUsage = R"(Usage: vane run -c FILE [options]

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

constexpr const char* kValidateUsage = R"(Usage: vane validate -c FILE

Checks FILE. Exits 0 when it is valid; otherwise prints every error to stderr as
FILE:LINE:COL: PATH: MESSAGE and exits 1.
)";

constexpr const char* kVersionUsage = "Usage: vane version\n\nPrints vane's version.\n";

bool wants_help(const Args& args) { return args.has("--help") || args.has("-h"); }

int usage_error(const std::string& message, const char* usage) {
  std::cerr << "vane: " << message << "\n\n" << usage;
  return 2;
}

void configure_logging(const Args& args) {
  proxy::log::set_json(args.has("--log-json"));
  const std::string level = args.get("--log-level", "info");
  if (level == "debug") proxy::log::set_level(proxy::log::Level::Debug);
  if (level == "warn") proxy::log::set_level(proxy::log::Level::Warn);
  if (level == "error") proxy::log::set_level(proxy::log::Level::Error);
}

/// Loads the config; prints every error and returns null when it is invalid.
std::shared_ptr<const config::Config> load_or_report(const std::string& path) {
  auto result = control::load_config(path);
  for (const auto& error : result.errors) std::cerr << error.to_string() << "\n";
  return result.errors.empty() ? result.config : nullptr;
}

int cmd_run(const Args& args) {
  if (wants_help(args)) return std::cout << kRunUsage, 0;
  const std::string file = args.get("--config");
  if (file.empty()) return usage_error("run needs -c FILE", kRunUsage);
  configure_logging(args);
  auto config = load_or_report(file);
  if (!config) return 1;
  try {
    const bool watch = !args.has("--no-watch-config");
    control::Server server(config, control::ServerOptions{file, args.get("--ready-file"), true, watch,
                                        args.get("--access-log")});
    server.start();
    return server.run();
  } catch (const std::exception& e) {
    proxy::log::error(std::string("cannot start: ") + e.what());
    return 1;
  }
}

int cmd_validate(const Args& args) {
  if (wants_help(args)) return std::cout << kValidateUsage, 0;
  const std::string file = args.get("--config");
  if (file.empty()) return usage_error("validate needs -c FILE", kValidateUsage);
  if (!load_or_report(file)) return 1;
  std::cout << file << ": ok\n";
  return 0;
}

int cmd_version(const Args& args) {
  if (wants_help(args)) return std::cout << kVersionUsage, 0;
  std::cout << "vane " << VANE_VERSION << "\n";
  return 0;
}

}  // namespace

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& valued) {
  Args args;
  auto takes_value = [&](const std::string& name) {
    for (const auto& v : valued) {
      if (v == name) return true;
    }
    return false;
  };
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      args.positional.push_back(arg);
      continue;
    }
    std::string value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (takes_value(arg)) {
      if (i + 1 >= argc) {
        args.error = arg + " needs a value";
        return args;
      }
      value = argv[++i];
    }
    if (arg == "-c") arg = "--config";
    args.options[arg] = value;
  }
  return args;
}

int run_cli(int argc, char** argv) {
  const std::vector<std::string> valued = {"-c", "--config", "--ready-file", "--log-level",
                                           "--admin", "--token-file", "--timeout", "--access-log",
                                           "--duration", "--rps"};
  if (argc < 2) return std::cerr << kUsage, 2;
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") return std::cout << kUsage, 0;
  if (command == "--version") return cmd_version(Args{});
  Args args = parse_args(argc, argv, 2, valued);
  if (!args.error.empty()) return usage_error(args.error, kUsage);
  if (command == "run") return cmd_run(args);
  if (command == "validate") return cmd_validate(args);
  if (command == "version") return cmd_version(args);
  if (command == "demo") return run_demo(args);
  if (command == "status") return cmd_status(args);
  if (command == "promote") return cmd_promote(args);
  if (command == "abort") return cmd_abort(args);
  if (command == "retry") return cmd_retry(args);
  if (command == "pause") return cmd_pause(args);
  if (command == "cluster") return cmd_cluster(args);
  return usage_error("unknown command '" + command + "'", kUsage);
}

}  // namespace vane::cli
