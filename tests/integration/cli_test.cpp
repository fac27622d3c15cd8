// The CLI around `run` (SPEC §7, §2): `vane validate` exit codes and its FILE:LINE:COL: PATH:
// MESSAGE lines, `vane version`, `--help`.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

// Line numbers matter below: the text starts on line 1.
constexpr std::string_view bad_yaml = R"yaml(listeners:
  - {name: public, address: "127.0.0.1:0"}
upstreams:
  - name: a
    endpoints: ["127.0.0.1:1"]
    bogusKey: 1
routes:
  - name: r
    match: {pathPrefix: /}
    upstream: missing
)yaml";

constexpr std::string_view good_yaml = R"yaml(listeners:
  - {name: public, address: "127.0.0.1:0"}
upstreams:
  - name: a
    endpoints: ["127.0.0.1:1"]
routes:
  - name: r
    match: {pathPrefix: /}
    upstream: a
)yaml";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

CommandResult validate(const TempDir& dir, const std::string& file, std::string_view yaml) {
  write_file(dir.path() / file, std::string(yaml));
  return run_command({vane_binary(), "validate", "-c", file}, 20s, dir.path());
}

TEST(CliTest, ValidateAcceptsAGoodFile) {
  TempDir dir;
  const CommandResult r = validate(dir, "good.yaml", good_yaml);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliTest, ValidateReportsEveryErrorWithFileLineColumnAndPath) {
  TempDir dir;
  const CommandResult r = validate(dir, "bad.yaml", bad_yaml);
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = lines_of(r.err);
  EXPECT_EQ(lines.size(), 2U) << "one line per error; stderr:\n" << r.err;
  const std::regex unknown_key(R"(bad\.yaml:6:5: upstreams\[0\](\.bogusKey)?: .+)");
  const std::regex bad_reference(R"(bad\.yaml:10:15: routes\[0\]\.upstream: .+)");
  const auto has = [&](const std::regex& re) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return std::regex_match(l, re); });
  };
  EXPECT_TRUE(has(unknown_key)) << "no line for the unknown key at 6:5; stderr:\n" << r.err;
  EXPECT_TRUE(has(bad_reference)) << "no line for the unknown upstream at 10:15; stderr:\n"
                                  << r.err;
}

TEST(CliTest, ValidateReportsYamlSyntaxErrorsWithAPosition) {
  TempDir dir;
  const CommandResult r = validate(dir, "broken.yaml", "listeners: [\n  {name: public\n");
  EXPECT_EQ(r.exit_code, 1);
  const std::regex positioned(R"(broken\.yaml:[0-9]+:[0-9]+: .+)");
  const auto lines = lines_of(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(std::regex_match(lines.front(), positioned)) << r.err;
}

TEST(CliTest, ValidateFailsOnAMissingFile) {
  TempDir dir;
  const CommandResult r =
      run_command({vane_binary(), "validate", "-c", "absent.yaml"}, 20s, dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(r.err.empty());
}

TEST(CliTest, VersionPrintsAVersion) {
  const CommandResult r = run_command({vane_binary(), "version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("[0-9]+\\.[0-9]+"))) << r.out;
}

TEST(CliTest, HelpExitsZero) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"run", "--help"}}) {
    std::vector<std::string> argv{vane_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    const CommandResult r = run_command(argv);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
    EXPECT_FALSE(r.out.empty() && r.err.empty()) << "no usage text";
  }
}

}  // namespace
}  // namespace vane::it
