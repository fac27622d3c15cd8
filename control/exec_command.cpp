#include "control/exec_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <cerrno>
#include <cstring>

#include "config/duration.hpp"

extern char** environ;  // NOLINT: POSIX names it so

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using Pipe = net::posix::basic_stream_descriptor<Executor>;

/// A started program, leader of its own process group: killed with the group and reaped when
/// this goes, so that no path leaves a zombie or a running descendant behind.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (reaped_) return;
    kill_group();
    reap();  // at once: SIGKILL cannot be caught
  }

  /// SIGKILL to the program and everything it started. Only before reaping: the unreaped
  /// leader keeps the group's id from being reused.
  void kill_group() const {
    if (!reaped_) ::kill(-pid_, SIGKILL);
  }

  /// True once the program has exited: what it left running in its group is killed, then it is
  /// reaped. Never blocks.
  bool reap_if_exited() {
    if (reaped_) return true;
    siginfo_t info{};
    const int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == 0) return false;  // still running
    kill_group();
    reap();
    return true;
  }

  /// Its exit code, or 128 + N when signal N ended it (as a shell says); -1 when unknown.
  int exit_code() const {
    if (status_ == -1) return -1;  // another waiter took it (SIGCHLD ignored)
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
    return -1;
  }

 private:
  void reap() {
    status_ = -1;
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }

  pid_t pid_;
  bool reaped_ = false;
  int status_ = -1;
};

/// One run: the child, the read ends of its stdout and stderr, and the timer run_command()
/// waits on (woken when both pipes are done, at the deadline, or while polling for the exit).
struct Exec {
  Exec(Executor executor, pid_t pid, int out_fd, int err_fd)
      : child(pid), out(executor, out_fd), err(executor, err_fd), wake(executor) {}

  /// Ends both reads (pending ones complete with operation_aborted).
  void stop_reading() {
    boost::system::error_code ignored;
    out.close(ignored);
    err.close(ignored);
  }
  void reader_done() {
    if (--readers == 0) wake.cancel();
  }

  Child child;  ///< first: destroyed last, after the pipes are closed
  Pipe out;
  Pipe err;
  Timer wake;
  int readers = 2;
  std::string out_text;
  std::string err_text;
  bool too_much = false;
  bool cancelled = false;
};

/// Closes a descriptor unless released.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

/// Starts `argv` with stdout and stderr into pipes; nullptr and *why when it cannot.
std::shared_ptr<Exec> start(Executor executor, const std::vector<std::string>& argv,
                            std::string* why) {
  std::array<Fd, 2> out;
  std::array<Fd, 2> err;
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    *why = std::strerror(errno);
    return nullptr;
  }
  out[0].fd = fds[0];
  out[1].fd = fds[1];
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    *why = std::strerror(errno);
    return nullptr;
  }
  err[0].fd = fds[0];
  err[1].fd = fds[1];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1].fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err[1].fd, 2);
  // vane's sockets are not all close-on-exec: the program must not hold a listener open.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);  // SIGPIPE ignored by vane is not the program's
  posix_spawnattr_setpgroup(&attr, 0);           // its own group: one kill reaches what it starts
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    *why = std::strerror(rc);
    return nullptr;
  }
  return std::make_shared<Exec>(executor, pid, out[0].release(), err[0].release());
}

/// Reads `pipe` to its end into `into`, keeping `keep` bytes; beyond them the run is killed when
/// `over_is_error`, else the rest is dropped.
Task<void> read_into(std::shared_ptr<Exec> x, Pipe& pipe, std::string& into, std::size_t keep,
                     bool over_is_error) {
  std::array<char, 16384> buffer;
  for (;;) {
    const auto [ec, n] = co_await pipe.async_read_some(net::buffer(buffer), use_tuple);
    if (ec) break;  // its end, or closed by stop_reading()
    const std::size_t room = keep - std::min(keep, into.size());
    into.append(buffer.data(), std::min(n, room));
    if (n > room && over_is_error) {
      x->too_much = true;
      x->child.kill_group();
      x->stop_reading();
      break;
    }
  }
  x->reader_done();
}

/// Clears the cancel hook when the run it stops goes.
struct CancelGuard {
  HttpCancel* cancel;
  ~CancelGuard() {
    if (cancel) cancel->set_close(nullptr);
  }
};

}  // namespace

Task<ExecResult> run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                             std::shared_ptr<HttpCancel> cancel) {
  ExecResult result;
  if (argv.empty() || argv.front().empty()) {
    result.error = "no program to run";
    co_return result;
  }
  const std::string& program = argv.front();
  if (cancel && cancel->cancelled()) {
    result.error = program + ": cancelled";
    co_return result;
  }
  const Executor executor = co_await net::this_coro::executor;
  std::string why;
  const std::shared_ptr<Exec> x = start(executor, argv, &why);
  if (!x) {
    result.error = "cannot start " + program + ": " + why;
    co_return result;
  }
  if (cancel) {
    cancel->set_close([weak = std::weak_ptr<Exec>(x)] {
      const auto run = weak.lock();
      if (!run) return;
      run->cancelled = true;
      run->child.kill_group();
      run->stop_reading();
    });
  }
  const CancelGuard guard{cancel.get()};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  net::co_spawn(executor, read_into(x, x->out, x->out_text, kMaxExecOutput, true),
                net::detached);
  net::co_spawn(executor, read_into(x, x->err, x->err_text, kMaxExecStderr, false),
                net::detached);

  // Its output ends when it exits, or when its group is killed (timeout, cancel, too much).
  bool timed_out = false;
  while (x->readers > 0) {
    x->wake.expires_at(timed_out || x->cancelled ? Timer::time_point::max() : deadline);
    const auto [ec] = co_await x->wake.async_wait(use_tuple);
    if (!ec && !timed_out) {
      timed_out = true;
      x->child.kill_group();
      x->stop_reading();
    }
  }
  // Then its exit, polled: usually at once (an exit is no event on the io_context).
  auto pause = 1ms;
  while (!x->child.reap_if_exited()) {
    if (!timed_out && std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;  // it closed its output and went on running
      x->child.kill_group();
    }
    x->wake.expires_after(pause);
    co_await x->wake.async_wait(use_tuple);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 50ms);
  }

  if (x->cancelled) {
    result.error = program + ": cancelled";
  } else if (timed_out) {
    result.error = program + ": did not finish within " + config::format_duration(timeout) +
                   " (killed)";
  } else if (x->too_much) {
    result.error = program + ": wrote more than 1 MiB to stdout (killed)";
  } else {
    result.exited = true;
    result.exit_code = x->child.exit_code();
    result.out = std::move(x->out_text);
    result.err = std::move(x->err_text);
  }
  co_return result;
}

}  // namespace vane::control
