// The option parser against every command's real table (SPEC §7): what is accepted, in which
// spellings, and the one-line message of each usage error.
#include "cli/options.hpp"

#include <gtest/gtest.h>

#include "cli/command_table.hpp"

namespace vane::cli {
namespace {

ParseResult parse(std::string_view command, std::vector<std::string_view> words) {
  const Command* found = find_command(command);
  EXPECT_NE(found, nullptr) << command;
  return found ? parse_args(found->spec, words) : ParseResult{};
}

TEST(Options, EverySpellingOfAnOption) {
  for (const std::vector<std::string_view>& words :
       {std::vector<std::string_view>{"shop", "--wait", "--timeout", "2s", "-w", "--admin", "http://h:1"},
        std::vector<std::string_view>{"--timeout=2s", "--watch", "shop", "--wait", "--admin=http://h:1"}}) {
    const ParseResult r = parse("status", words);
    ASSERT_EQ(r.error, "");
    EXPECT_EQ(r.args.positional, std::vector<std::string>{"shop"});
    EXPECT_EQ(r.args.get("--timeout"), "2s");
    EXPECT_EQ(r.args.get("--admin"), "http://h:1");
    EXPECT_TRUE(r.args.has("--watch"));
    EXPECT_TRUE(r.args.has("--wait"));
  }
  EXPECT_TRUE(parse("events", {"-f"}).args.has("--follow"));
  EXPECT_EQ(parse("run", {"-c", "x.yaml"}).args.get("--config"), "x.yaml");
  EXPECT_EQ(parse("validate", {"--config=x.yaml"}).args.get("--config"), "x.yaml");
  EXPECT_EQ(parse("run", {"-c", "x", "--access-log", "-"}).args.get("--access-log"), "-");
  EXPECT_EQ(parse("promote", {"--", "-odd-name"}).args.positional, std::vector<std::string>{"-odd-name"});
}

TEST(Options, ARepeatedOptionKeepsEveryValue) {
  const ParseResult r = parse("import", {"argo", "-f", "a.yaml", "--filename=b.yaml", "-o", "out.yaml", "-f", "c.yaml"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.args.all("--filename"), (std::vector<std::string>{"a.yaml", "b.yaml", "c.yaml"}));
  EXPECT_EQ(r.args.get("--output"), "out.yaml");
  EXPECT_TRUE(r.args.all("--admin").empty());
  EXPECT_EQ(parse("import", {"argo"}).error, "missing option '-f'");
  EXPECT_EQ(parse("import", {"-f", "a.yaml"}).error, "missing argument argo");
}

TEST(Options, HelpNeedsNothingElse) {
  for (std::string_view command : {"run", "promote", "status", "events", "version"}) {
    const ParseResult r = parse(command, {"--help"});
    EXPECT_EQ(r.error, "") << command;
    EXPECT_TRUE(r.args.help) << command;
    EXPECT_TRUE(parse(command, {"-h"}).args.help) << command;
  }
}

TEST(Options, UsageErrorsNameTheWord) {
  struct Case {
    std::string_view command;
    std::vector<std::string_view> words;
    std::string_view error;
  };
  const std::vector<Case> cases = {
      {"promote", {"shop", "--ful"}, "unknown option '--ful'"},
      {"promote", {"shop", "--full=yes"}, "option '--full' takes no value ('--full=yes')"},
      {"promote", {}, "missing argument NAME"},
      {"abort", {"shop", "--force"}, "unknown option '--force'"},
      {"abort", {"shop", "other"}, "unexpected argument 'other'"},
      {"status", {"--timeout", "abc", "--wait"}, "option '--timeout': 'abc' is not a duration (e.g. 30s, 10m)"},
      {"status", {"--wait", "--timeout"}, "option '--timeout' needs a value"},
      {"status", {"--timeout", "--wait"}, "option '--timeout' needs a value"},
      {"status", {"--timeout="}, "option '--timeout' needs a value"},
      {"status", {"--admin", "ftp://h"}, "option '--admin': 'ftp://h' is not an admin URL (http://HOST[:PORT][/PREFIX])"},
      {"status", {"-x"}, "unknown option '-x'"},
      {"status", {"a", "b"}, "unexpected argument 'b'"},
      {"events", {"--follow=1"}, "option '--follow' takes no value ('--follow=1')"},
      {"run", {}, "missing option '-c'"},
      {"run", {"-c", "x", "--log-level", "loud"}, "option '--log-level': 'loud' is not a log level (debug, info, warn, error)"},
      {"validate", {"-c", "x", "--admin", "http://h"}, "unknown option '--admin'"},
      {"demo", {"--duration", "soon"}, "option '--duration': 'soon' is not a whole number of seconds"},
      {"version", {"now"}, "unexpected argument 'now'"},
      {"cluster", {"--help=me"}, "option '--help' takes no value ('--help=me')"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(parse(c.command, c.words).error, c.error) << c.command;
  }
}

TEST(Options, EveryUsageStartsWithUsageVane) {
  for (std::string_view command :
       {"run", "validate", "status", "promote", "abort", "retry", "pause", "events", "cluster", "demo", "version"}) {
    const Command* found = find_command(command);
    ASSERT_NE(found, nullptr) << command;
    EXPECT_EQ(found->spec.usage.substr(0, 12 + command.size()), "usage: vane " + std::string(command));
  }
  EXPECT_EQ(find_command("frobnicate"), nullptr);
}

}  // namespace
}  // namespace vane::cli
