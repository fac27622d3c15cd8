// The `vane` command line (SPEC §7): finds the command, checks its arguments against the
// command's table (a usage error exits 2 before anything is done) and runs it. Main thread.
#pragma once

#include "cli/options.hpp"

namespace vane::cli {

/// Runs the command named by argv[1]; returns the process exit code.
int run_cli(int argc, char** argv);

int cmd_run(const Args& args);       ///< run -c FILE [...]: serves until SIGTERM/SIGINT
int cmd_validate(const Args& args);  ///< validate -c FILE: 0 valid, 1 with every error
int cmd_version(const Args& args);   ///< version

/// `vane demo`: defined in demo.cpp.
int run_demo(const Args& args);

}  // namespace vane::cli
