// A connection's read buffer, drawn from its worker's BufferPool only while bytes are in flight,
// so an idle keep-alive connection holds no buffer. Worker thread only.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace vane::proxy {

/// Per-worker free list of fixed-size blocks (LIFO, so the hottest block is reused first). A burst
/// leaves many blocks free; those that no take() reached for a whole trim period keep their place
/// but give their pages back to the system (trim(), once a second), so that the memory of a burst
/// does not stay with the idle connections after it.
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;

  std::unique_ptr<char[]> take() {
    if (free_.empty()) return std::make_unique_for_overwrite<char[]>(kBlockSize);
    auto block = std::move(free_.back());
    free_.pop_back();
    unused_ = std::min(unused_, free_.size());
    released_ = std::min(released_, free_.size());  // a released block comes back on first touch
    return block;
  }
  void give(std::unique_ptr<char[]> block) {
    if (free_.size() < kMaxFree) free_.push_back(std::move(block));
  }

  /// Gives back the pages of the blocks that stayed free since the last trim: the bottom of the
  /// list, below the fewest blocks it held meanwhile. Worker thread, from its tick.
  void trim() {
    for (size_t i = released_; i < unused_; ++i) release_pages(free_[i].get());
    released_ = std::max(released_, unused_);
    unused_ = free_.size();
  }

  size_t free_blocks() const { return free_.size(); }
  size_t released_blocks() const { return released_; }

 private:
  static void release_pages(char* block) {
    constexpr uintptr_t kPage = 4096;
    const uintptr_t from = (reinterpret_cast<uintptr_t>(block) + kPage - 1) & ~(kPage - 1);
    const uintptr_t to = (reinterpret_cast<uintptr_t>(block) + kBlockSize) & ~(kPage - 1);
    // Whole pages inside the block only: its contents are not needed, its allocation stays.
    if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  }

  static constexpr size_t kMaxFree = 4096;
  std::vector<std::unique_ptr<char[]>> free_;
  size_t unused_ = 0;    ///< the fewest blocks free since the last trim: those below went unused
  size_t released_ = 0;  ///< the bottom blocks whose pages are given back
};

/// Bytes read but not yet consumed: [begin_, end_) of a block.
class Buffer {
 public:
  explicit Buffer(BufferPool& pool) : pool_(&pool) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(); }

  std::string_view data() const { return {block_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  /// Room to read into, at least `min` bytes when the data plus `min` fit in `limit` (the block
  /// grows past kBlockSize only for an unusually large head); moves data to the front as needed.
  char* prepare(size_t& room, size_t min = 1, size_t limit = BufferPool::kBlockSize);
  void commit(size_t n) { end_ += n; }

  /// Gives the block back to the pool when no bytes are held.
  void release_if_empty() {
    if (empty()) release();
  }

 private:
  void release();

  BufferPool* pool_;
  std::unique_ptr<char[]> block_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

inline char* Buffer::prepare(size_t& room, size_t min, size_t limit) {
  if (!block_) {
    block_ = pool_->take();
    capacity_ = BufferPool::kBlockSize;
  }
  if (capacity_ - end_ < min && begin_ > 0) {
    std::memmove(block_.get(), block_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (capacity_ - end_ < min && capacity_ < limit) {
    const size_t held = end_ - begin_;
    auto bigger = std::make_unique_for_overwrite<char[]>(limit);
    std::memcpy(bigger.get(), block_.get() + begin_, held);
    release();
    block_ = std::move(bigger);
    capacity_ = limit;
    end_ = held;
  }
  room = capacity_ - end_;
  return block_.get() + end_;
}

inline void Buffer::release() {
  if (!block_) return;
  if (capacity_ == BufferPool::kBlockSize) pool_->give(std::move(block_));
  block_.reset();
  capacity_ = 0;
  begin_ = end_ = 0;
}

}  // namespace vane::proxy
