#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

namespace vane::support {
namespace {

/// In the forked child of a threaded parent: async-signal-safe calls only.
[[noreturn]] void exec_child(std::vector<char*>& argv, const char* log, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent is already gone
  const int in_fd = ::open("/dev/null", O_RDONLY);
  const int log_fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in_fd < 0 || log_fd < 0) ::_exit(127);
  ::dup2(in_fd, 0);
  ::dup2(log_fd, 1);
  ::dup2(log_fd, 2);
  ::close_range(3, ~0U, 0);  // no test socket may stay open in the child
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

}  // namespace

std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}


ChildProcess::ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log) {
  argv.at(0) = resolve_program(argv.at(0));
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const std::string log_text = log.string();
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) exec_child(args, log_text.c_str(), parent);
}

ChildProcess::~ChildProcess() { kill(); }

bool ChildProcess::running() {
  if (exit_code_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void ChildProcess::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  exit_code_ = 128 + SIGKILL;
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (running() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // no child-exit event to await
  }
  return exit_code_;
}

CommandOutput run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  char pattern[] = "/tmp/vane-command-XXXXXX";
  const int fd = ::mkstemp(pattern);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp");
  ::close(fd);
  CommandOutput result;
  {
    ChildProcess child(std::move(argv), pattern);
    result.exit_code = child.wait_exit(timeout).value_or(-1);
  }
  result.out = read_text(pattern);
  ::unlink(pattern);
  return result;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace vane::support
