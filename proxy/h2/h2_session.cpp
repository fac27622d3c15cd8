#include "proxy/h2/h2_session.hpp"

#include <nghttp2/nghttp2.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "proxy/h2/h2_memory.hpp"
#include "proxy/log.hpp"
#include "proxy/net/io.hpp"

namespace vane::proxy {
namespace {

constexpr size_t kWriteBatch = 64 * 1024;
constexpr size_t kKeptBatch = 4096;

}  // namespace

H2Session::H2Session(const Executor& executor)
    : executor_(executor), memory_(std::make_unique<H2Memory>()) {}

H2Session::~H2Session() { nghttp2_session_del(session_); }

nghttp2_mem* H2Session::memory() { return memory_->get(); }

void H2Session::trim() {
  // The frame buffer and the batch only between writes: nothing in them is needed then.
  const bool between = !writer_busy() && !nghttp2_session_want_write(session_);
  if (between) std::string().swap(out_);
  memory_->trim(between);
}

void H2Session::resume(int32_t id) {
  nghttp2_session_resume_data(session_, id);
  want_write();
}

void H2Session::consumed(int32_t id, size_t n) {
  nghttp2_session_consume(session_, id, n);
  want_write();
}

void H2Session::want_write() {
  if (flush_posted_ || writing_ || stopped_ || connection_ == nullptr) return;
  flush_posted_ = true;
  net::post(executor_, [this] { flush(); });
}

void H2Session::start_writing(Stream& connection) {
  connection_ = &connection;
  want_write();
}

void H2Session::flush() {
  flush_posted_ = false;
  if (writing_ || stopped_) return;
  try {
    write_queued();
  } catch (const std::exception& e) {  // frames taken from nghttp2 may be lost: the connection ends
    log::error(std::string("HTTP/2 writer stopped by an unexpected error: ") + e.what());
    stop_writing();
  }
}

void H2Session::write_queued() {
  for (;;) {
    out_.clear();
    const uint8_t* data = nullptr;
    for (ssize_t n = 0; out_.size() < kWriteBatch && (n = nghttp2_session_mem_send(session_, &data)) > 0;) {
      out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    if (out_.empty()) break;
    std::array<std::string_view, 4> pieces{out_, {}, {}, {}};
    boost::system::error_code ec;
    if (!write_now(*connection_, pieces, ec)) {
      writing_ = true;
      net::co_spawn(executor_, finish_write(pieces), net::detached);
      return;
    }
    if (ec) {
      stop_writing();
      return;
    }
  }
  if (out_.capacity() > kKeptBatch) std::string().swap(out_);  // an idle connection keeps little
  if (closing_) stop_writing();
}

Task<void> H2Session::finish_write(std::array<std::string_view, 4> pieces) {
  // The connection's write deadline is armed only for a write that must wait.
  writing(true);
  const auto ec = co_await write_rest(*connection_, pieces);
  writing(false);
  writing_ = false;
  if (ec) {
    stop_writing();
  } else {
    flush();  // what was queued meanwhile
  }
}

void H2Session::stop_writing() {
  stopped_ = true;
  connection_->cancel();
}

}  // namespace vane::proxy
