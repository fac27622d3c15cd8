// Every `vane` command (SPEC §7) with its table of options and arguments, its usage text and the
// function that runs it once its arguments have been checked. Main thread.
#pragma once

#include <string_view>

#include "cli/options.hpp"

namespace vane::cli {

struct Command {
  CommandSpec spec;
  int (*run)(const Args& args);  ///< returns the exit code
};

/// The command named `name`; null when there is none.
const Command* find_command(std::string_view name);

/// The spec of a command that exists (for its own usage errors), e.g. command_spec("status").
const CommandSpec& command_spec(std::string_view name);

/// `vane --help`: the command list; its first line starts "usage: vane".
extern const std::string_view kMainUsage;

}  // namespace vane::cli
