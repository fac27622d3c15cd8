// HeapRelease's rule against an allocator whose free bytes the test sets: what stayed free for a
// whole second is given back, what a second's traffic took is not, and once per second only.
#include "control/heap_release.hpp"

#include <gtest/gtest.h>

namespace vane::control {
namespace {

/// The allocator's free page bytes, and what was asked back (given back in full, as tcmalloc does
/// when it can).
size_t g_free = 0;
size_t g_released = 0;

HeapAllocator fake() {
  g_free = 0;
  g_released = 0;
  return HeapAllocator{
      .free_bytes = [](size_t& bytes) {
        bytes = g_free;
        return true;
      },
      .release = [](size_t bytes) {
        const size_t given = bytes < g_free ? bytes : g_free;
        g_free -= given;
        g_released += given;
      },
  };
}

TEST(HeapRelease, WhatStaysFreeForAWholeSecondIsGivenBack) {
  HeapRelease release(fake());
  g_free = 100 << 20;  // a burst just ended
  EXPECT_EQ(release.tick(1), 0U) << "free for less than a second so far";
  EXPECT_EQ(release.tick(2), size_t{100} << 20);
  EXPECT_EQ(g_free, 0U);
  EXPECT_EQ(release.tick(3), 0U) << "nothing is free any more";
}

TEST(HeapRelease, WhatTheNextSecondReusesIsKept) {
  HeapRelease release(fake());
  g_free = 100 << 20;
  release.tick(1);
  g_free = 30 << 20;  // traffic took 70 MiB of it again
  EXPECT_EQ(release.tick(2), size_t{30} << 20);
  g_free = 50 << 20;  // and gave back 50
  EXPECT_EQ(release.tick(3), 0U) << "the 50 were not free a second ago";
  EXPECT_EQ(release.tick(4), size_t{50} << 20);
  EXPECT_EQ(g_released, size_t{80} << 20);
}

TEST(HeapRelease, OncePerSecond) {
  HeapRelease release(fake());
  g_free = 1 << 20;
  release.tick(5);
  EXPECT_EQ(release.tick(5), 0U);
  EXPECT_EQ(release.tick(5), 0U);
  EXPECT_EQ(g_released, 0U);
  EXPECT_EQ(release.tick(6), size_t{1} << 20);
}

TEST(HeapRelease, WithoutAnAllocatorToAskNothingHappens) {
  HeapRelease release(HeapAllocator{});
  EXPECT_EQ(release.tick(1), 0U);
  EXPECT_EQ(release.tick(2), 0U);
}

}  // namespace
}  // namespace vane::control
