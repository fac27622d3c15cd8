// The `vane` command line (SPEC §7): parses arguments and runs a command. Main thread.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vane::cli {

/// Parsed arguments: `--name value` / `--name=value` options, bare `--flag`s, and positionals.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  ///< flags map to ""
  std::string error;                           ///< non-empty when parsing failed

  bool has(const std::string& name) const { return options.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
};

/// Parses argv[first..]; `valued` lists the options that take a value (e.g. "-c", "--config").
Args parse_args(int argc, char** argv, int first, const std::vector<std::string>& valued);

/// Runs the command named by argv[1]; returns the process exit code.
int run_cli(int argc, char** argv);

/// `vane demo`: defined in demo.cpp.
int run_demo(const Args& args);

}  // namespace vane::cli
