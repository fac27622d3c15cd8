#pragma once
// A thread that never takes the process's asynchronous signals.
//
// SIGHUP, SIGTERM and SIGINT are the control thread's: its signal_set reloads and drains. The
// kernel hands a process-directed signal to any thread that does not block it, so a worker or
// writer thread would otherwise take it; under a sanitizer the handler is then deferred until that
// thread reaches a safe point, which a thread parked in epoll_wait may not do for a long time.

#include <csignal>
#include <pthread.h>
#include <thread>
#include <utility>

namespace vane::proxy {

/// Starts `run` on a new thread with every signal blocked (the new thread inherits the mask in
/// force when it is created; the caller's own mask is put back before returning).
template <typename Run>
std::thread start_quiet_thread(Run&& run) {
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &before);
  std::thread thread(std::forward<Run>(run));
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return thread;
}

}  // namespace vane::proxy
