// One option parser for every `vane` command (SPEC §7): a command lists its options and how many
// positional arguments it takes; any other word is a usage error, reported before anything is
// done. Main thread.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vane::cli {

/// What an option's value must be. None: a flag, which takes no value.
enum class ValueKind { None, Path, Duration, Url, LogLevel, Seconds };

struct OptionSpec {
  std::string_view name;   ///< "--timeout"
  std::string_view alias;  ///< "-w", or empty
  ValueKind value = ValueKind::None;
  bool required = false;  ///< e.g. run's -c FILE
};

/// A command's table: its options, its positional arguments, its usage text.
struct CommandSpec {
  std::string_view name;
  std::span<const OptionSpec> options;
  std::string_view positional;  ///< what a positional argument is called ("NAME"); empty: none
  std::size_t min_positional = 0;
  std::size_t max_positional = 0;
  std::string_view usage;  ///< the help text; its first line starts "usage: vane"
};

/// Parsed arguments: options by their long name (flags map to ""), and positionals in order.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  ///< the last value of each option given
  std::map<std::string, std::vector<std::string>> values;  ///< every value, for repeated options
  bool help = false;  ///< --help or -h: print the usage, check nothing else

  bool has(const std::string& name) const { return options.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  /// Every value given to an option, in order (`-f a -f b`).
  std::vector<std::string> all(const std::string& name) const;
};

/// Parses the words after the command against `spec`. `--name value`, `--name=value`, an alias
/// (`-w`), `--` (every later word is positional). On a usage error: a one-line message naming the
/// offending word or the missing argument, e.g. "unknown option '--ful'".
struct ParseResult {
  Args args;
  std::string error;  ///< empty when the words were valid
};
ParseResult parse_args(const CommandSpec& spec, std::span<const std::string_view> words);

/// Why `text` is not a value of `kind` (e.g. "not a duration"); nullopt when it is.
std::optional<std::string> check_value(ValueKind kind, std::string_view text);

/// Prints "vane COMMAND: MESSAGE", a blank line and the command's usage to stderr; returns 2.
int usage_error(const CommandSpec& spec, std::string_view message);

}  // namespace vane::cli
