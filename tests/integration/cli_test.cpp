// The CLI (SPEC §7, §2): `vane validate` exit codes and its FILE:LINE:COL: PATH: MESSAGE lines,
// `vane version`, `--help`; every usage error of every command (exit 2, the offending word, the
// usage, nothing sent), `--name=value`, `-w` into a pipe.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/rollout_support.hpp"

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

// ---- usage errors ----------------------------------------------------------------------------

/// A real TCP listener on 127.0.0.1:0 given to the CLI as --admin: counts the connections that
/// arrive and closes each at once (so a client that connects fails fast with "no answer").
class ConnectionRecorder {
 public:
  ConnectionRecorder() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1:0");
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0) accept_pending();
      }
    });
  }
  ~ConnectionRecorder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  ConnectionRecorder(const ConnectionRecorder&) = delete;
  ConnectionRecorder& operator=(const ConnectionRecorder&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// Every connection made so far, including those still in the accept queue.
  int connections() {
    accept_pending();
    return count_;
  }

 private:
  void accept_pending() {
    std::lock_guard lock(mutex_);  // an accepted connection is counted before anyone reads count_
    for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0;) {
      ++count_;
      ::close(c);
    }
  }

  int fd_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::atomic<int> count_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int count_of(const std::string& text, std::string_view part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

struct UsageCase {
  std::vector<std::string> argv;  ///< after `vane`
  std::string offending;          ///< what stderr's first line must name
};

/// `vane COMMAND --admin URL REST...` for a client command (the URL first, so that REST can end
/// in a bare option), `vane ARGV...` otherwise.
std::vector<std::string> command_line(const std::vector<std::string>& argv, const std::string& admin) {
  static const std::set<std::string> clients = {"status", "promote", "abort",  "retry",
                                                "pause",  "events",  "cluster"};
  std::vector<std::string> line{vane_binary()};
  line.insert(line.end(), argv.begin(), argv.end());
  if (!admin.empty() && !argv.empty() && clients.count(argv[0]) > 0) {
    line.insert(line.begin() + 2, {"--admin", admin});
  }
  return line;
}

/// Exit 2, the offending word on stderr's first line, a `usage: vane` line, nothing on stdout.
void expect_usage_error(const CommandResult& r, const UsageCase& c) {
  std::string words;
  for (const auto& w : c.argv) words += " " + w;
  EXPECT_EQ(r.exit_code, 2) << "vane" << words << "\nstderr: " << r.err;
  const std::string first = r.err.substr(0, r.err.find('\n'));
  EXPECT_NE(first.find(c.offending), std::string::npos) << "vane" << words << ": first line " << first;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("(^|\n)usage: vane"))) << "vane" << words << ":\n" << r.err;
  EXPECT_EQ(r.out, "") << "vane" << words;
}

const std::vector<UsageCase> kUsageCases = {
    {{"frobnicate"}, "frobnicate"},
    {{"promote", "web", "--ful"}, "--ful"},
    {{"promote", "web", "--full=yes"}, "--full"},
    {{"promote"}, "NAME"},
    {{"promote", "web", "extra"}, "extra"},
    {{"promote", "web", "--admin"}, "--admin"},
    {{"promote", "web", "--token-file"}, "--token-file"},
    {{"abort", "web", "--force"}, "--force"},
    {{"abort"}, "NAME"},
    {{"abort", "web", "other"}, "other"},
    {{"retry", "web", "--full"}, "--full"},
    {{"retry"}, "NAME"},
    {{"pause", "web", "-w"}, "-w"},
    {{"pause", "web", "again"}, "again"},
    {{"status", "--timeout", "abc", "--wait"}, "abc"},
    {{"status", "--wait", "--timeout"}, "--timeout"},
    {{"status", "--timeout=2s"}, "--timeout"},
    {{"status", "web", "other"}, "other"},
    {{"status", "--watch=1"}, "--watch"},
    {{"status", "--jsn"}, "--jsn"},
    {{"status", "--admin", "ftp://127.0.0.1"}, "ftp://127.0.0.1"},
    {{"events", "--follow=yes"}, "--follow"},
    {{"events", "web", "other"}, "other"},
    {{"events", "--tail"}, "--tail"},
    {{"cluster", "extra"}, "extra"},
    {{"cluster", "-w"}, "-w"},
    {{"run"}, "-c"},
    {{"run", "-c"}, "-c"},
    {{"run", "-c", "vane.yaml", "--port", "80"}, "--port"},
    {{"run", "-c", "vane.yaml", "--log-level", "loud"}, "loud"},
    {{"run", "-c", "vane.yaml", "extra"}, "extra"},
    {{"validate"}, "-c"},
    {{"validate", "-c", "vane.yaml", "--json"}, "--json"},
    {{"demo", "--duration", "soon"}, "soon"},
    {{"demo", "now"}, "now"},
    {{"version", "--short"}, "--short"},
    {{"version", "now"}, "now"},
};

TEST(CliUsageTest, EveryUsageErrorExitsTwoAndSendsNothing) {
  ConnectionRecorder admin;
  for (const UsageCase& c : kUsageCases) {
    expect_usage_error(run_command(command_line(c.argv, admin.url()), 20s), c);
    EXPECT_EQ(admin.connections(), 0) << "sent to the admin API: vane " << c.argv.front();
  }
  // The recorder sees a command that is valid: it connects (and fails, unanswered).
  const CommandResult valid = run_command(command_line({"abort", "web"}, admin.url()), 20s);
  EXPECT_EQ(valid.exit_code, 1) << valid.err;
  EXPECT_EQ(admin.connections(), 1);
}

TEST(CliUsageTest, UsageErrorsLeaveTheRolloutAlone) {
  RolloutRig rig;
  start_first_pause(rig);
  const json::value before = rig.status();
  for (const UsageCase& c : std::vector<UsageCase>{{{"promote", "web", "--ful"}, "--ful"},
                                                   {{"promote", "web", "--full=yes"}, "--full"},
                                                   {{"promote", "web", "web"}, "web"},
                                                   {{"abort", "web", "--force"}, "--force"},
                                                   {{"pause", "web", "--now"}, "--now"},
                                                   {{"retry", "web", "-f"}, "-f"}}) {
    expect_usage_error(run_command(command_line(c.argv, admin_url(rig.admin())), 20s), c);
  }
  const json::value after = rig.status();
  for (const char* key : {"phase", "currentStepIndex", "weights", "aborted", "pausedSince"})
    EXPECT_EQ(json::serialize(field(after, key)), json::serialize(field(before, key))) << key;
  // The same commands, written right: --admin=URL works.
  const CommandResult promote =
      run_command({vane_binary(), "promote", "web", "--full", "--admin=" + admin_url(rig.admin())});
  EXPECT_EQ(promote.exit_code, 0) << promote.err;
  json::value s;
  EXPECT_TRUE(wait_stable(rig.admin(), "v2", s)) << summary(s);
}

// ---- happy paths -----------------------------------------------------------------------------

TEST(CliUsageTest, OptionsTakeEqualsValues) {
  RolloutRig rig;
  const std::string admin = "--admin=" + admin_url(rig.admin());
  const CommandResult json_status = run_command({vane_binary(), "status", "web", "--json", admin});
  EXPECT_EQ(json_status.exit_code, 0) << json_status.err;
  EXPECT_EQ(str(field(parse_json(json_status.out), "phase")), "Healthy") << json_status.out;
  const CommandResult wait = run_command({vane_binary(), "status", "web", "--wait", "--timeout=5s", admin});
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  TempDir dir;
  write_file(dir.path() / "good.yaml", std::string(good_yaml));
  const CommandResult validate = run_command({vane_binary(), "validate", "--config=good.yaml"}, 20s, dir.path());
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
}

TEST(CliUsageTest, WatchIntoAFileAppendsABlockPerChange) {
  RolloutRig rig;
  start_first_pause(rig);
  TempDir dir;
  const auto out = dir.path() / "watch.out";
  Process watch({vane_binary(), "status", "web", "-w", "--admin", admin_url(rig.admin())}, dir.path(), out,
                dir.path() / "watch.err");
  const auto blocks = [&] { return count_of("\n" + read_file(out), "\nName: "); };
  ASSERT_TRUE(wait_until([&] { return blocks() >= 1; }, 10s)) << read_file(dir.path() / "watch.err");
  ASSERT_EQ(post(rig, "web/promote").status, 200);
  EXPECT_TRUE(wait_until([&] { return read_file(out).find("Healthy") != std::string::npos; }, 10s))
      << read_file(out);
  const std::string text = read_file(out);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no terminal codes into a file:\n" << text;
  EXPECT_GE(blocks(), 2) << text;
  EXPECT_EQ(count_of(text, "Status:          ॥ Paused"), 1) << "one block while paused:\n" << text;
  watch.signal(SIGTERM);
  watch.wait_exit(5s);
}

}  // namespace
}  // namespace vane::it
