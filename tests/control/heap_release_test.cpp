// HeapRelease's rule against an allocator whose free bytes the test sets: what stayed free for a
// whole second is given back, what a second's traffic took (even for a moment) is not, at most
// kMostPerSecond, and only at the turn of a second.
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

constexpr size_t kMiB = size_t{1} << 20;

TEST(HeapRelease, WhatStaysFreeForAWholeSecondIsGivenBack) {
  HeapRelease release(fake());
  g_free = 40 * kMiB;  // a burst just ended
  EXPECT_EQ(release.tick(1), 0U) << "free for less than a second so far";
  EXPECT_EQ(release.tick(2), 40 * kMiB);
  EXPECT_EQ(g_free, 0U);
  EXPECT_EQ(release.tick(3), 0U) << "nothing is free any more";
}

TEST(HeapRelease, WhatTheNextSecondReusesIsKept) {
  HeapRelease release(fake());
  g_free = 40 * kMiB;
  release.tick(1);
  g_free = 10 * kMiB;  // traffic took 30 MiB of it again
  EXPECT_EQ(release.tick(2), 10 * kMiB);
  g_free = 30 * kMiB;  // and gave them back
  EXPECT_EQ(release.tick(3), 0U) << "the 30 were not free a second ago";
  EXPECT_EQ(release.tick(4), 30 * kMiB);
  EXPECT_EQ(g_released, 40 * kMiB);
}

TEST(HeapRelease, WhatWasTakenForAMomentWithinTheSecondIsKept) {
  HeapRelease release(fake());
  g_free = 40 * kMiB;
  release.tick(1);
  g_free = 5 * kMiB;  // a burst in the middle of the second
  EXPECT_EQ(release.tick(1), 0U);
  g_free = 40 * kMiB;  // over again before the second ends
  EXPECT_EQ(release.tick(1), 0U);
  EXPECT_EQ(release.tick(2), 5 * kMiB) << "only what stayed free through every sample";
}

TEST(HeapRelease, GivesBackOnlyAtTheTurnOfASecond) {
  HeapRelease release(fake());
  g_free = kMiB;
  release.tick(5);
  EXPECT_EQ(release.tick(5), 0U);
  EXPECT_EQ(release.tick(5), 0U);
  EXPECT_EQ(g_released, 0U);
  EXPECT_EQ(release.tick(6), kMiB);
}

TEST(HeapRelease, AtMostItsShareASecond) {
  HeapRelease release(fake());
  g_free = 1024 * kMiB;
  release.tick(1);
  EXPECT_EQ(release.tick(2), HeapRelease::kMostPerSecond);
  EXPECT_EQ(release.tick(3), HeapRelease::kMostPerSecond) << "the rest goes over the next seconds";
  EXPECT_EQ(g_free, 1024 * kMiB - 2 * HeapRelease::kMostPerSecond);
}

TEST(HeapRelease, WithoutAnAllocatorToAskNothingHappens) {
  HeapRelease release(HeapAllocator{});
  EXPECT_EQ(release.tick(1), 0U);
  EXPECT_EQ(release.tick(2), 0U);
}

}  // namespace
}  // namespace vane::control
