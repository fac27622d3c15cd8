#include "control/heap_release.hpp"

#include <algorithm>

// gperftools' C interface (gperftools/malloc_extension_c.h), weak: null unless the process is
// linked with tcmalloc, as only the vane binary is.
extern "C" {
__attribute__((weak)) int MallocExtension_GetNumericProperty(const char* property, size_t* value);
__attribute__((weak)) void MallocExtension_ReleaseToSystem(size_t num_bytes);
}

namespace vane::control {

HeapAllocator HeapAllocator::tcmalloc() {
  if (MallocExtension_GetNumericProperty == nullptr || MallocExtension_ReleaseToSystem == nullptr) return {};
  return HeapAllocator{
      .free_bytes = [](size_t& bytes) {
        return MallocExtension_GetNumericProperty("tcmalloc.pageheap_free_bytes", &bytes) != 0;
      },
      .release = [](size_t bytes) { MallocExtension_ReleaseToSystem(bytes); },
  };
}

HeapRelease::HeapRelease(HeapAllocator allocator) : allocator_(allocator) {}

size_t HeapRelease::tick(int64_t second) {
  size_t free_now = 0;
  if (allocator_.free_bytes == nullptr || !allocator_.free_bytes(free_now)) return 0;
  if (second == second_) {
    lowest_ = std::min(lowest_, free_now);
    return 0;
  }
  const size_t idle = std::min({lowest_, free_now, kMostPerSecond});
  second_ = second;
  if (idle > 0) {
    allocator_.release(idle);
    if (!allocator_.free_bytes(free_now)) free_now = 0;
  }
  lowest_ = free_now;
  return idle;
}

}  // namespace vane::control
