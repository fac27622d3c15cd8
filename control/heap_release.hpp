// Gives the allocator's free pages back to the system once they have stayed free for a whole
// second, as each worker's BufferPool does with its blocks: after a burst of connections or
// requests the process shrinks again. tcmalloc (the vane binary's allocator) keeps the pages of
// the spans a burst freed and gives them back only slowly. Control thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vane::control {

/// What HeapRelease asks of the allocator: the bytes of its free pages, and to give some back.
struct HeapAllocator {
  bool (*free_bytes)(size_t& bytes) = nullptr;
  void (*release)(size_t bytes) = nullptr;

  /// tcmalloc's, when the process has it; without it (a sanitizer build) nothing is done.
  static HeapAllocator tcmalloc();
};

class HeapRelease {
 public:
  explicit HeapRelease(HeapAllocator allocator = HeapAllocator::tcmalloc());

  /// Samples the free bytes; the first call of a new `second` gives back what stayed free through
  /// the last one (its lowest sample, this one included), at most kMostPerSecond, so that the
  /// allocator's lock is never held long. Returns the bytes given back.
  size_t tick(int64_t second);

  static constexpr size_t kMostPerSecond = size_t{64} << 20;

 private:
  HeapAllocator allocator_;
  int64_t second_ = INT64_MIN;
  size_t lowest_ = 0;  ///< of the samples in `second_`
};

}  // namespace vane::control
