#include "proxy/h2/h2_session.hpp"

#include <nghttp2/nghttp2.h>

#include "proxy/h2/h2_memory.hpp"
#include "proxy/net/io.hpp"

namespace vane::proxy {
namespace {

constexpr size_t kWriteBatch = 64 * 1024;

}  // namespace

H2Session::H2Session(const Executor& executor)
    : writer_wake_(executor), memory_(std::make_unique<H2Memory>()) {}

H2Session::~H2Session() { nghttp2_session_del(session_); }

nghttp2_mem* H2Session::memory() { return memory_->get(); }

void H2Session::trim() {
  // The frame buffer only between frames: nothing in it is needed then.
  memory_->trim(!writing_ && !nghttp2_session_want_write(session_));
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
