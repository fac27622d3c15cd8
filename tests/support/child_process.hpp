// Child processes for test fixtures that run real servers (etcd): started with stdin from
// /dev/null and output in a log file, killed (SIGKILL) and reaped when destroyed, and killed by
// the kernel if the test process dies first. Test thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vane::support {

class ChildProcess {
 public:
  /// Runs `argv` (argv[0] searched in PATH unless it has a '/'); stdout and stderr go to `log`.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  /// SIGKILL, then reaped.
  void kill();
  /// Waits up to `timeout` for it to end; its exit code (128+N when killed by signal N).
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct CommandOutput {
  int exit_code = -1;  ///< -1: it did not end within the time given (it was killed)
  std::string out;     ///< stdout and stderr
};

/// Runs a program to its end, at most `timeout`.
CommandOutput run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout);

std::string read_text(const std::filesystem::path& path);

/// `program` as an absolute path when it has no '/': searched in PATH (before a fork, so that the
/// child only execs); as given when not found.
std::string resolve_program(const std::string& program);

}  // namespace vane::support
