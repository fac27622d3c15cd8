// The exec provider's program runner with real programs (/bin/sh scripts in a temp dir): exit
// codes, output, limits, the timeout and cancel killing the whole process group, and no zombie
// or descriptor left behind on any path.
#include "control/exec_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "control/analysis_providers.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using test::run_until;
namespace fs = std::filesystem;

/// Processes whose parent is this one (a zombie too), from /proc.
std::set<int> children() {
  std::set<int> out;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid()) out.insert(std::stoi(name));
  }
  return out;
}

std::size_t open_descriptors() {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

/// Gone, or a zombie of another parent (init reaps it): nothing runs.
bool not_running(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return true;
  return line.substr(line.rfind(')') + 2, 1) == "Z";
}

class ExecCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vane-exec-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
    Timer(io.get_executor()).cancel();  // the io_context's epoll, eventfd and timerfd
    fds_before = open_descriptors();
    children_before = children();
  }
  void TearDown() override {
    // Every path reaps its child and closes its pipes.
    EXPECT_TRUE(run_until(io, [&] { return children() == children_before; }, 2s))
        << children().size() - children_before.size() << " child process(es) left";
    EXPECT_EQ(open_descriptors(), fds_before);
    fs::remove_all(dir);
  }

  /// An executable /bin/sh script named `name` with `body`; its path.
  std::string script(const std::string& name, const std::string& body) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << "#!/bin/sh\ncd \"$(dirname \"$0\")\"\n" << body << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
  }

  ExecResult run(std::vector<std::string> argv, std::chrono::milliseconds timeout = 5s,
                 std::shared_ptr<HttpCancel> cancel = {}) {
    std::optional<ExecResult> result;
    net::co_spawn(io, run_command(std::move(argv), timeout, std::move(cancel)),
                  [&](std::exception_ptr e, ExecResult r) {
                    if (e) std::rethrow_exception(e);
                    result = std::move(r);
                  });
    EXPECT_TRUE(run_until(io, [&] { return result.has_value(); }, timeout + 5s));
    return result.value_or(ExecResult{});
  }

  /// The pid a script wrote to `file`, once it has.
  int pid_in(const std::string& file) {
    int pid = 0;
    EXPECT_TRUE(run_until(io, [&] {
      std::ifstream in(dir / file);
      return static_cast<bool>(in >> pid);
    }));
    return pid;
  }

  net::io_context io;
  fs::path dir;
  std::size_t fds_before = 0;
  std::set<int> children_before;
};

TEST_F(ExecCommandTest, StdoutIsTheResultAndJsonPathSelects) {
  const ExecResult r = run({script("json.sh", R"(printf '{"a": {"b": 0.97}}\n')")});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.exit_code, 0);
  config::ExecProvider x;
  x.command = {"json.sh"};
  x.json_path = "{$.a.b}";
  const ProviderResult result = exec_result(r, x);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(analysis::to_text(result.value), "0.97");
  // A number, and a word, are results too; surrounding whitespace is dropped.
  x.json_path = "$";
  EXPECT_EQ(analysis::to_text(exec_result(run({"/bin/sh", "-c", "echo 42"}), x).value), "42");
  const ProviderResult word = exec_result(run({"/bin/sh", "-c", "echo '  ready '"}), x);
  EXPECT_EQ(word.value.type(), analysis::Value::Type::String);
  EXPECT_EQ(analysis::to_text(word.value), "ready");
}

TEST_F(ExecCommandTest, ANonZeroExitIsFailedNamingTheCodeAndStderrsFirstLine) {
  const std::string prog = script("fail.sh", "echo 0.5; echo 'canary is sick' >&2; "
                                             "echo 'second line' >&2; exit 3");
  const ExecResult r = run({prog});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "canary is sick\nsecond line\n");
  config::ExecProvider x;
  x.command = {prog};
  const ProviderResult result = exec_result(r, x);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.failed, prog + " exited with code 3: canary is sick");
  EXPECT_EQ(exec_result(run({"/bin/sh", "-c", "exit 1"}), x).failed, prog + " exited with code 1");
}

TEST_F(ExecCommandTest, ArgumentsArePassedAsIsWithoutAShell) {
  const ExecResult r = run({"/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", "a b", "$HOME", "*"});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.out, "a b|$HOME|*|");
}

TEST_F(ExecCommandTest, AProgramThatCannotStartIsAnError) {
  ExecResult r = run({(dir / "missing").string()});
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.error, "cannot start " + (dir / "missing").string() + ": No such file or directory");
  r = run({"vane-no-such-program-on-path"});
  EXPECT_NE(r.error.find("cannot start vane-no-such-program-on-path"), std::string::npos);
  const std::string plain = (dir / "plain").string();
  std::ofstream(plain) << "not executable\n";
  EXPECT_NE(run({plain}).error.find("Permission denied"), std::string::npos);
  config::ExecProvider x;
  x.command = {plain};
  EXPECT_FALSE(exec_result(run({plain}), x).ok());
}

TEST_F(ExecCommandTest, TheTimeoutKillsTheWholeProcessGroup) {
  const std::string prog = script("slow.sh", "sleep 30 & echo $! > grandchild; sleep 30");
  const auto started = std::chrono::steady_clock::now();
  const ExecResult r = run({prog}, 1s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.error, prog + ": did not finish within 1s (killed)");
  const int grandchild = pid_in("grandchild");
  EXPECT_TRUE(run_until(io, [&] { return not_running(grandchild); }, 2s));
}

TEST_F(ExecCommandTest, AGrandchildHoldingStdoutOpenIsKilledAtTheTimeout) {
  // The script exits at once; what it started keeps the pipe open until the group is killed.
  // (A second: time enough for a loaded machine to start the script.)
  const std::string prog = script("daemon.sh", "sleep 30 & echo $! > grandchild; echo started");
  const ExecResult r = run({prog}, 1s);
  EXPECT_FALSE(r.exited);
  EXPECT_NE(r.error.find("did not finish within 1s"), std::string::npos) << r.error;
  const int grandchild = pid_in("grandchild");
  EXPECT_TRUE(run_until(io, [&] { return not_running(grandchild); }, 2s));
}

TEST_F(ExecCommandTest, WhatTheProgramLeavesRunningIsKilledWhenItExits) {
  // Output closed, exit 0: the measurement is taken, and the leftover does not outlive it.
  const std::string prog =
      script("leftover.sh", "sleep 30 >/dev/null 2>&1 & echo $! > grandchild; echo 1");
  const ExecResult r = run({prog});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.out, "1\n");
  const int grandchild = pid_in("grandchild");
  EXPECT_TRUE(run_until(io, [&] { return not_running(grandchild); }, 2s));
}

TEST_F(ExecCommandTest, StdoutIsBoundedToOneMebibyte) {
  ExecResult r = run({"/bin/sh", "-c", "head -c 1048576 /dev/zero"});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.out.size(), kMaxExecOutput);
  r = run({"/bin/sh", "-c", "head -c 2097152 /dev/zero; sleep 30"});
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.error, "/bin/sh: wrote more than 1 MiB to stdout (killed)");
}

TEST_F(ExecCommandTest, AFloodOfStderrIsDrainedAndCut) {
  const ExecResult r = run({"/bin/sh", "-c", "head -c 1000000 /dev/zero >&2; echo ok"});
  ASSERT_TRUE(r.exited) << r.error;
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_EQ(r.err.size(), kMaxExecStderr);
}

TEST_F(ExecCommandTest, CancelKillsItAtOnce) {
  auto cancel = std::make_shared<HttpCancel>();
  std::optional<ExecResult> result;
  const std::string prog = script("wait.sh", "echo $$ > pid; sleep 30");
  net::co_spawn(io, run_command({prog}, 30s, cancel),
                [&](std::exception_ptr, ExecResult r) { result = std::move(r); });
  const int pid = pid_in("pid");
  cancel->cancel();
  ASSERT_TRUE(run_until(io, [&] { return result.has_value(); }, 2s));
  EXPECT_EQ(result->error, prog + ": cancelled");
  EXPECT_TRUE(not_running(pid));
}

TEST_F(ExecCommandTest, StoppingTheIoContextMidRunKillsAndReapsTheChild) {
  // vane shutting down: the coroutine is destroyed unfinished.
  int pid = 0;
  {
    net::io_context local;
    const std::string prog = script("wait.sh", "echo $$ > pid; sleep 30");
    net::co_spawn(local, run_command({prog}, 30s), net::detached);
    EXPECT_TRUE(run_until(local, [&] {
      std::ifstream in(dir / "pid");
      return static_cast<bool>(in >> pid);
    }));
  }
  EXPECT_FALSE(fs::exists("/proc/" + std::to_string(pid)));  // reaped, not a zombie
}

TEST_F(ExecCommandTest, TheProgramInheritsNoDescriptorAndDefaultSignals) {
  const int leaky = ::dup(0);  // no O_CLOEXEC, as Asio's sockets
  ASSERT_GE(leaky, 0);
  const std::string fd = std::to_string(leaky);
  ExecResult r = run({"/bin/sh", "-c", "[ -e /proc/$$/fd/" + fd + " ] && echo leaked || echo clean"});
  ::close(leaky);
  EXPECT_EQ(r.out, "clean\n");
  struct sigaction ignore{};
  struct sigaction before{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &before);
  r = run({"/bin/sh", "-c", "sed -n 's/^SigIgn:\\t//p' /proc/$$/status"});
  ::sigaction(SIGPIPE, &before, nullptr);
  const unsigned long long ignored = std::stoull(r.out, nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGPIPE - 1)), 0u) << r.out;
  r = run({"/bin/sh", "-c", "read line; echo \"[$line]\""});  // stdin is /dev/null
  EXPECT_EQ(r.out, "[]\n");
}

}  // namespace
}  // namespace vane::control
