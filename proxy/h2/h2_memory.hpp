// The allocator an nghttp2 session is made with (nghttp2_session_*_new3): malloc, except for the
// session's two page-sized blocks, which get whole pages of their own so that an idle connection
// can give them back (trim()). They are the frame buffer (16 KiB and a frame header, the first
// realloc of exactly that size from nothing: nghttp2 fills it anew for every frame it sends) and
// the stream table (a calloc of 4 KiB or more: nghttp2 1.52 makes 256 buckets at once; all zero
// again once every stream is gone). One session's, on its worker thread.
#pragma once

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace vane::proxy {

class H2Memory {
 public:
  H2Memory();
  H2Memory(const H2Memory&) = delete;
  H2Memory& operator=(const H2Memory&) = delete;
  ~H2Memory();

  nghttp2_mem* get() { return &mem_; }

  /// Gives back the pages of the frame buffer (`frames_idle`: no frame is in it, none being
  /// written) and of every zeroed block whose bytes are all zero again. They come back, zeroed,
  /// when touched: the same bytes. Returns the pages given back.
  size_t trim(bool frames_idle);
  /// Pages of those blocks in memory now (mincore): what trim() gave back is not, until touched.
  size_t resident_pages() const;

 private:
  /// A block of whole pages: the frame buffer, or a zeroed one.
  struct Pages {
    void* at = nullptr;
    size_t size = 0;  ///< whole pages
    bool frames = false;
  };

  static void* malloc(size_t size, void* self);
  static void* calloc(size_t n, size_t size, void* self);
  static void* realloc(void* at, size_t size, void* self);
  static void free(void* at, void* self);

  /// Whole pages for `size` bytes, remembered; nullptr when full (the caller uses malloc then).
  Pages* take_pages(size_t size, bool frames);
  Pages* find(void* at);

  nghttp2_mem mem_{};
  std::array<Pages, 4> pages_{};
};

}  // namespace vane::proxy
