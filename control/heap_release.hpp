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

  /// Once per `second` (later calls in the same second do nothing): gives back what was free at
  /// the last second's call and still is, the lesser of the two. Returns the bytes given back.
  size_t tick(int64_t second);

 private:
  HeapAllocator allocator_;
  int64_t second_ = INT64_MIN;
  size_t free_before_ = 0;
};

}  // namespace vane::control
