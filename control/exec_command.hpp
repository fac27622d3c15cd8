// The exec provider's program (SPEC §5): started without a shell in a process group of its own,
// its stdout and stderr read on the control thread's io_context, the whole group killed at the
// timeout. Whatever happens (timeout, cancel, vane stopping), the child is reaped and nothing it
// started outlives the measurement. Control thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "control/asio.hpp"
#include "control/http_client.hpp"

namespace vane::control {

/// stdout beyond this makes the measurement an Error (and the program is killed).
inline constexpr std::size_t kMaxExecOutput = 1024 * 1024;
/// stderr kept for the message; the rest is read and dropped so the program never blocks on it.
inline constexpr std::size_t kMaxExecStderr = 4096;

struct ExecResult {
  bool exited = false;  ///< false: see `error`
  int exit_code = 0;    ///< when exited: its code, or 128 + N when signal N ended it
  std::string out;      ///< stdout, at most kMaxExecOutput bytes
  std::string err;      ///< the start of stderr, at most kMaxExecStderr bytes
  std::string error;    ///< could not start, timed out, too much output, or cancelled
};

/// Runs `argv` (argv[0] looked up on PATH; stdin /dev/null, no other descriptor inherited, signal
/// dispositions and mask reset) and waits for it to exit and close its output, at most `timeout`.
/// `cancel` (the runner's stop) kills it at once. Runs on the calling coroutine's executor.
Task<ExecResult> run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                             std::shared_ptr<HttpCancel> cancel = {});

}  // namespace vane::control
