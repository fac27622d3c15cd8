// The harness itself: a sanitizer report a child prints fails the test that ran it (in a sanitized
// build, vane's reports land on its stderr, and nothing else would notice one from a process that
// the test then kills).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

TEST(Harness, ASanitizerReportOnAChildsStderrFailsTheTest) {
  // What ASan, TSan and UBSan print first (run_command holds a Process, destroyed inside).
  EXPECT_NONFATAL_FAILURE(
      run_command({"sh", "-c", "echo starting; echo '==7==ERROR: AddressSanitizer: "
                               "heap-use-after-free on address 0x1' >&2"}),
      "ERROR: AddressSanitizer: heap-use-after-free");
  EXPECT_NONFATAL_FAILURE(
      run_command({"sh", "-c", "echo 'WARNING: ThreadSanitizer: data race (pid=7)' >&2"}),
      "WARNING: ThreadSanitizer: data race");
  EXPECT_NONFATAL_FAILURE(
      run_command({"sh", "-c", "echo 'proxy/x.cpp:1:2: runtime error: signed integer overflow' >&2"}),
      "proxy/x.cpp:1:2: runtime error: signed integer overflow");
}

TEST(Harness, AnOrdinaryStderrDoesNot) {
  const CommandResult r = run_command({"sh", "-c", "echo 'error: upstream refused' >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "error: upstream refused\n");
}

}  // namespace
}  // namespace vane::it
