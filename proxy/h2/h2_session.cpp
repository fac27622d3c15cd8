#include "proxy/h2/h2_session.hpp"

#include <nghttp2/nghttp2.h>
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "proxy/net/io.hpp"

namespace vane::proxy {
namespace {

constexpr size_t kWriteBatch = 64 * 1024;
constexpr size_t kPage = 4096;

}  // namespace

/// nghttp2's allocator: malloc, except for the frame buffer (its one allocation of 16 KiB or
/// more, made once per session), which gets whole pages of its own that trim() may drop.
struct H2Session::Memory {
  nghttp2_mem mem{};
  void* frames = nullptr;
  size_t frames_size = 0;  ///< whole pages

  Memory() {
    mem.mem_user_data = this;
    mem.malloc = [](size_t size, void*) { return std::malloc(size); };
    mem.calloc = [](size_t n, size_t size, void*) { return std::calloc(n, size); };
    mem.free = [](void* at, void* self) {
      auto* m = static_cast<Memory*>(self);
      if (at != nullptr && at == m->frames) m->frames = nullptr;
      std::free(at);
    };
    mem.realloc = [](void* at, size_t size, void* self) -> void* {
      auto* m = static_cast<Memory*>(self);
      if (at != nullptr || size < 16 * 1024 || m->frames != nullptr) {
        if (at != nullptr && at == m->frames) m->frames = nullptr;  // moved: no longer ours to trim
        return std::realloc(at, size);
      }
      const size_t pages = (size + kPage - 1) / kPage * kPage;
      m->frames = std::aligned_alloc(kPage, pages);
      m->frames_size = pages;
      return m->frames;
    };
  }
};

H2Session::H2Session(const Executor& executor)
    : writer_wake_(executor), memory_(std::make_unique<Memory>()) {}

H2Session::~H2Session() { nghttp2_session_del(session_); }

void* H2Session::memory() { return &memory_->mem; }

void H2Session::trim() {
  // Only whole pages of the buffer's own, and only between frames: nothing in it is needed.
  if (memory_->frames && !writing_ && !nghttp2_session_want_write(session_)) {
    ::madvise(memory_->frames, memory_->frames_size, MADV_DONTNEED);
  }
}

void H2Session::resume(int32_t id) {
  nghttp2_session_resume_data(session_, id);
  want_write();
}

void H2Session::consumed(int32_t id, size_t n) {
  nghttp2_session_consume(session_, id, n);
  want_write();
}

Task<void> H2Session::write_loop(Stream& connection) {
  writing_ = true;
  for (;;) {
    out_.clear();
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
      if (out_.size() >= kWriteBatch) break;
    }
    if (out_.empty()) {
      if (closing_) break;
      if (out_.capacity() > 4096) std::string().swap(out_);  // an idle connection keeps little
      writing_ = false;
      writer_waiting_ = true;
      writer_wake_.expires_at(Clock::time_point::max());
      co_await writer_wake_.async_wait(use_tuple);
      writer_waiting_ = false;
      writing_ = true;
      continue;
    }
    // The connection's write deadline is armed only for a write that must wait.
    std::array<std::string_view, 4> pieces{out_, {}, {}, {}};
    boost::system::error_code ec;
    if (!write_now(connection, pieces, ec)) {
      writing(true);
      ec = co_await write_rest(connection, pieces);
      writing(false);
    }
    if (ec) {
      boost::system::error_code ignored;
      connection.socket().cancel(ignored);  // the reader ends too
      break;
    }
  }
  writing_ = false;
}

}  // namespace vane::proxy
