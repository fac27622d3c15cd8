#include "cli/command_line.hpp"

#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "cli/command_table.hpp"
#include "control/config_checks.hpp"
#include "proxy/log.hpp"
#include "control/server.hpp"

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::cli {
namespace {

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

}  // namespace

int cmd_run(const Args& args) {
  const std::string file = args.get("--config");
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
  const std::string file = args.get("--config");
  if (!load_or_report(file)) return 1;
  std::cout << file << ": ok\n";
  return 0;
}

int cmd_version(const Args&) {
  std::cout << "vane " << VANE_VERSION << "\n";
  return 0;
}

int run_cli(int argc, char** argv) {
  if (argc < 2) return std::cerr << kMainUsage, 2;
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") return std::cout << kMainUsage, 0;
  if (name == "--version") return cmd_version(Args{});
  const Command* command = find_command(name);
  if (!command) {
    std::cerr << "vane: unknown command '" << name << "'\n\n" << kMainUsage;
    return 2;
  }
  const std::vector<std::string_view> words(argv + 2, argv + argc);
  const ParseResult parsed = parse_args(command->spec, words);
  if (!parsed.error.empty()) return usage_error(command->spec, parsed.error);
  if (parsed.args.help) return std::cout << command->spec.usage, 0;
  return command->run(parsed.args);
}

}  // namespace vane::cli
