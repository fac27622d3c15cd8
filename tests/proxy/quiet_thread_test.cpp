#include "proxy/quiet_thread.hpp"

#include <gtest/gtest.h>

namespace vane::proxy {
namespace {

bool blocked_here(int signal) {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, signal) == 1;
}

TEST(QuietThread, BlocksTheControlSignalsInTheNewThreadOnly) {
  ASSERT_FALSE(blocked_here(SIGHUP));
  bool hup = false;
  bool term = false;
  bool interrupt = false;
  std::thread thread = start_quiet_thread([&] {
    hup = blocked_here(SIGHUP);
    term = blocked_here(SIGTERM);
    interrupt = blocked_here(SIGINT);
  });
  thread.join();
  EXPECT_TRUE(hup);
  EXPECT_TRUE(term);
  EXPECT_TRUE(interrupt);
  EXPECT_FALSE(blocked_here(SIGHUP)) << "the caller's mask is put back";
}

}  // namespace
}  // namespace vane::proxy
