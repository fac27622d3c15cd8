// Buffer and BufferPool: prepare/commit/consume, compaction, growth for large heads up to the
// limit, and the block going back to the pool when the buffer is empty.
#include "proxy/net/buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace vane::proxy {
namespace {

constexpr size_t kBlock = BufferPool::kBlockSize;

/// Appends `bytes` through prepare/commit, as a read would. Returns false when there was no room.
bool append(Buffer& buffer, std::string_view bytes, size_t limit = kBlock) {
  size_t room = 0;
  char* at = buffer.prepare(room, bytes.size(), limit);
  if (room < bytes.size()) return false;
  std::memcpy(at, bytes.data(), bytes.size());
  buffer.commit(bytes.size());
  return true;
}

/// A recognisable pattern, so moved or truncated bytes show.
std::string pattern(size_t n, size_t seed = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

TEST(BufferPool, TakeGivesAFullBlockAndReusesGivenOnesLastInFirstOut) {
  BufferPool pool;
  auto a = pool.take();
  auto b = pool.take();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a.get(), b.get());
  a[0] = 'x';
  a[kBlock - 1] = 'y';  // the whole block is usable (ASan would object otherwise)
  const char* pa = a.get();
  const char* pb = b.get();
  pool.give(std::move(a));
  pool.give(std::move(b));
  EXPECT_EQ(pool.take().get(), pb);
  EXPECT_EQ(pool.take().get(), pa);
}

/// A block whose every byte is 'x', as a used buffer leaves it.
std::unique_ptr<char[]> used_block(BufferPool& pool) {
  auto block = pool.take();
  std::memset(block.get(), 'x', kBlock);
  return block;
}

/// The first byte of the block's first whole page: zero once its pages were given back.
char inside(const char* block) {
  const auto at = reinterpret_cast<uintptr_t>(block);
  return block[((at + 4095) & ~uintptr_t{4095}) - at];
}

TEST(BufferPool, TrimGivesBackThePagesOfBlocksUnusedForAWholePeriod) {
  BufferPool pool;
  auto a = used_block(pool);
  auto b = used_block(pool);
  const char* a_at = a.get();
  const char* b_at = b.get();
  pool.give(std::move(a));
  pool.give(std::move(b));
  pool.trim();  // the period starts: nothing has been unused for a whole one yet
  EXPECT_EQ(pool.released_blocks(), 0u);
  auto top = pool.take();  // b is used during the period, a is not
  ASSERT_EQ(top.get(), b_at);
  pool.give(std::move(top));
  pool.trim();
  EXPECT_EQ(pool.released_blocks(), 1u);
  EXPECT_EQ(pool.free_blocks(), 2u);
  EXPECT_EQ(inside(b_at), 'x') << "a block used in the period keeps its pages";
  EXPECT_EQ(inside(a_at), 0) << "an unused one gave them back";
  // Both come back in LIFO order; the released one is usable as any other.
  auto first = pool.take();
  auto second = pool.take();
  EXPECT_EQ(first.get(), b_at);
  EXPECT_EQ(second.get(), a_at);
  EXPECT_EQ(pool.released_blocks(), 0u);
  std::memset(second.get(), 'y', kBlock);
  EXPECT_EQ(inside(second.get()), 'y');
}

TEST(BufferPool, AQuietPoolIsReleasedOnceAndBlocksStayInIt) {
  BufferPool pool;
  for (int i = 0; i < 8; ++i) pool.give(used_block(pool));
  EXPECT_EQ(pool.free_blocks(), 1u) << "take() reused the block given back each time";
  std::vector<std::unique_ptr<char[]>> held;
  for (int i = 0; i < 8; ++i) held.push_back(used_block(pool));
  for (auto& block : held) pool.give(std::move(block));
  pool.trim();
  pool.trim();
  EXPECT_EQ(pool.released_blocks(), 8u);
  pool.trim();  // nothing new to give back
  EXPECT_EQ(pool.released_blocks(), 8u);
  EXPECT_EQ(pool.free_blocks(), 8u);
}

TEST(Buffer, StartsEmptyAndHoldsNoBlock) {
  BufferPool pool;
  auto marker = pool.take();
  const char* p = marker.get();
  pool.give(std::move(marker));
  {
    Buffer buffer(pool);
    EXPECT_TRUE(buffer.empty());
    EXPECT_EQ(buffer.size(), 0u);
    EXPECT_TRUE(buffer.data().empty());
  }
  // Constructing and destroying an unused buffer did not take the block.
  EXPECT_EQ(pool.take().get(), p);
}

TEST(Buffer, PrepareCommitConsume) {
  BufferPool pool;
  Buffer buffer(pool);
  size_t room = 0;
  char* at = buffer.prepare(room);
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(room, kBlock);
  std::memcpy(at, "hello world", 11);
  buffer.commit(5);  // only part of what was written counts
  EXPECT_EQ(buffer.data(), "hello");
  EXPECT_EQ(buffer.size(), 5u);
  EXPECT_FALSE(buffer.empty());

  at = buffer.prepare(room);
  EXPECT_EQ(room, kBlock - 5);
  std::memcpy(at, "!!", 2);
  buffer.commit(2);
  EXPECT_EQ(buffer.data(), "hello!!");

  buffer.consume(2);
  EXPECT_EQ(buffer.data(), "llo!!");
  EXPECT_EQ(buffer.size(), 5u);
  buffer.consume(5);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  // Consuming everything rewinds: the whole block is room again.
  buffer.prepare(room);
  EXPECT_EQ(room, kBlock);
}

TEST(Buffer, PrepareWithRoomEnoughDoesNotMoveData) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, "0123456789"));
  buffer.consume(4);
  const char* before = buffer.data().data();
  size_t room = 0;
  buffer.prepare(room, 100);
  EXPECT_EQ(buffer.data().data(), before);
  EXPECT_EQ(buffer.data(), "456789");
  EXPECT_EQ(room, kBlock - 10);
}

TEST(Buffer, CompactsWhenTheTailIsTooShort) {
  BufferPool pool;
  Buffer buffer(pool);
  const std::string first = pattern(kBlock - 10);
  ASSERT_TRUE(append(buffer, first));
  buffer.consume(kBlock - 100);  // 90 bytes left at the end of the block
  const std::string kept = first.substr(kBlock - 100);
  ASSERT_EQ(buffer.data(), kept);

  size_t room = 0;
  char* at = buffer.prepare(room, 50);  // only 10 bytes after the data: compact
  EXPECT_EQ(buffer.data(), kept);
  EXPECT_EQ(room, kBlock - 90);
  EXPECT_EQ(at, buffer.data().data() + buffer.size());
  std::memcpy(at, "tail", 4);
  buffer.commit(4);
  EXPECT_EQ(buffer.data(), kept + "tail");
}

TEST(Buffer, CompactionKeepsTheSameBlock) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, pattern(kBlock)));
  const char* block_start = buffer.data().data();
  buffer.consume(kBlock - 3);
  size_t room = 0;
  buffer.prepare(room, kBlock - 3);
  EXPECT_EQ(buffer.data().data(), block_start);  // moved to the front of the same block
  EXPECT_EQ(buffer.data(), pattern(kBlock).substr(kBlock - 3));
  EXPECT_EQ(room, kBlock - 3);
}

TEST(Buffer, GrowsBeyondTheBlockUpToTheLimitPreservingData) {
  BufferPool pool;
  Buffer buffer(pool);
  const size_t limit = 4 * kBlock;
  const std::string head = pattern(kBlock - 1, 3);
  ASSERT_TRUE(append(buffer, head, limit));
  buffer.consume(1);  // data not at the front of the block
  size_t room = 0;
  char* at = buffer.prepare(room, 1000, limit);
  EXPECT_EQ(buffer.data(), head.substr(1));
  EXPECT_EQ(room, limit - (kBlock - 2));
  std::memcpy(at, "X", 1);
  buffer.commit(1);
  EXPECT_EQ(buffer.data(), head.substr(1) + "X");

  // Fill up to exactly the limit.
  const std::string more = pattern(limit - buffer.size(), 5);
  const std::string expected = std::string(buffer.data()) + more;
  ASSERT_TRUE(append(buffer, more, limit));
  EXPECT_EQ(buffer.size(), limit);
  EXPECT_EQ(buffer.data(), expected);
}

TEST(Buffer, GrowsAgainForALargerLimit) {
  BufferPool pool;
  Buffer buffer(pool);
  const std::string a = pattern(2 * kBlock, 1);
  ASSERT_TRUE(append(buffer, a, 2 * kBlock));
  const std::string b = pattern(kBlock, 2);
  ASSERT_TRUE(append(buffer, b, 3 * kBlock));
  EXPECT_EQ(buffer.size(), 3 * kBlock);
  EXPECT_EQ(buffer.data(), a + b);
}

TEST(Buffer, NoGrowthBeyondTheLimit) {
  BufferPool pool;
  Buffer buffer(pool);
  const size_t limit = 2 * kBlock;
  const std::string data = pattern(limit - 10);
  ASSERT_TRUE(append(buffer, data, limit));
  size_t room = 0;
  char* at = buffer.prepare(room, 100, limit);  // 100 more would not fit in the limit
  EXPECT_EQ(room, 10u);
  EXPECT_EQ(at, buffer.data().data() + buffer.size());
  EXPECT_EQ(buffer.data(), data);
  // Asking again with a full buffer: no room, nothing lost.
  ASSERT_TRUE(append(buffer, "0123456789", limit));
  buffer.prepare(room, 1, limit);
  EXPECT_EQ(room, 0u);
  EXPECT_EQ(buffer.size(), limit);
  EXPECT_EQ(buffer.data(), data + "0123456789");
}

TEST(Buffer, DefaultLimitIsOneBlock) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, pattern(kBlock)));
  size_t room = 1;
  buffer.prepare(room, 1);
  EXPECT_EQ(room, 0u);
  EXPECT_EQ(buffer.size(), kBlock);
}

TEST(Buffer, ReleaseIfEmptyReturnsTheBlockToThePool) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, "abc"));
  const char* block = buffer.data().data();
  buffer.consume(3);
  buffer.release_if_empty();
  // The pool hands out the block the buffer gave back.
  auto taken = pool.take();
  EXPECT_EQ(taken.get(), block);
  pool.give(std::move(taken));
  // The buffer takes a block again on its next prepare, and works as new.
  ASSERT_TRUE(append(buffer, "def"));
  EXPECT_EQ(buffer.data(), "def");
  EXPECT_EQ(buffer.data().data(), block);
}

TEST(Buffer, ReleaseIfEmptyKeepsANonEmptyBuffer) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, "abc"));
  const char* block = buffer.data().data();
  buffer.consume(1);
  buffer.release_if_empty();
  EXPECT_EQ(buffer.data(), "bc");
  EXPECT_EQ(buffer.data().data(), block + 1);
  auto fresh = pool.take();
  EXPECT_NE(fresh.get(), block);  // the pool did not get the block in use
}

TEST(Buffer, DestructionReturnsTheBlock) {
  BufferPool pool;
  const char* block = nullptr;
  {
    Buffer buffer(pool);
    ASSERT_TRUE(append(buffer, "still holding data"));
    block = buffer.data().data();
  }
  EXPECT_EQ(pool.take().get(), block);
}

TEST(Buffer, GrownBlockIsNotGivenToThePool) {
  BufferPool pool;
  Buffer buffer(pool);
  ASSERT_TRUE(append(buffer, pattern(kBlock)));
  const char* small = buffer.data().data();
  ASSERT_TRUE(append(buffer, "x", 2 * kBlock));  // grows: the small block goes back to the pool
  const char* big = buffer.data().data();
  EXPECT_NE(big, small);
  buffer.consume(buffer.size());
  buffer.release_if_empty();
  // Had the big block been given back, the LIFO pool would hand it out first.
  EXPECT_EQ(pool.take().get(), small);
}

TEST(Buffer, TwoBuffersShareThePool) {
  BufferPool pool;
  Buffer a(pool);
  Buffer b(pool);
  ASSERT_TRUE(append(a, "a"));
  ASSERT_TRUE(append(b, "b"));
  EXPECT_NE(a.data().data(), b.data().data());
  const char* block_a = a.data().data();
  a.consume(1);
  a.release_if_empty();
  b.consume(1);
  ASSERT_TRUE(append(b, "bb"));
  ASSERT_TRUE(append(a, "aa"));
  EXPECT_EQ(a.data().data(), block_a);  // a took its own block back from the pool
  EXPECT_EQ(a.data(), "aa");
  EXPECT_EQ(b.data(), "bb");
}

}  // namespace
}  // namespace vane::proxy
