#include "proxy/h2/h2_upstream.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proxy/http/h2_options.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {
namespace {

std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

H2Pipe* pipe_of(nghttp2_session* session, int32_t id) {
  return static_cast<H2Pipe*>(nghttp2_session_get_stream_user_data(session, id));
}

/// Per stream: what a response may hold in vane before the upstream waits for its reader
/// (nghttp2's default window). The connection's window leaves room for many such streams.
constexpr int32_t kStreamWindow = 256 * 1024;
constexpr int32_t kConnectionWindow = 16 * 1024 * 1024;

}  // namespace

/// nghttp2's callbacks: `user_data` is the connection, a stream's user data its pipe.
struct H2Upstream::Callbacks {
  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    H2Pipe* pipe = pipe_of(session, frame->hd.stream_id);
    if (!pipe) return 0;
    // The relay's parser bounds the head made of these (as for any upstream); this only keeps an
    // upstream that would blow far past them from holding more memory meanwhile.
    if (pipe->inbound.field_bytes() > 256 * 1024) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    pipe->inbound.add_field(text(name, namelen), text(value, valuelen));
    return 0;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type == NGHTTP2_GOAWAY) static_cast<H2Upstream*>(user)->goaway_ = true;
    H2Pipe* pipe = pipe_of(session, frame->hd.stream_id);
    if (!pipe) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      pipe->end_fields(end);  // an interim answer, the head, or the trailers
    } else if (frame->hd.type == NGHTTP2_DATA && end) {
      pipe->add_body({}, true);
    }
    return 0;
  }

  static int data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                        size_t len, void*) {
    if (H2Pipe* pipe = pipe_of(session, stream_id)) pipe->add_body(text(data, len), false);
    return 0;
  }

  static int stream_close(nghttp2_session* session, int32_t stream_id, uint32_t, void*) {
    H2Pipe* pipe = pipe_of(session, stream_id);
    if (!pipe) return 0;
    // Closed before its answer was whole (a reset, REFUSED_STREAM, a GOAWAY that left it out):
    // the relay sees a reset. A whole answer stays readable.
    if (!pipe->inbound_complete()) pipe->reset();
    pipe->closed();
    nghttp2_session_set_stream_user_data(session, stream_id, nullptr);
    return 0;
  }
};

H2Upstream::H2Upstream(Worker& worker, Stream stream, Clock::duration write_timeout)
    : H2Session(worker.executor()),
      worker_(worker),
      stream_(std::move(stream)),
      deadline_(&H2Upstream::expire, this),
      write_timeout_(write_timeout) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::stream_close);
  nghttp2_session_client_new3(&session_, callbacks, this, http::h2_client_options().get(), memory());
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kStreamWindow},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  worker_.deadlines().add(deadline_);
}

void H2Upstream::start(UpstreamPool& pool, UpstreamPool::Endpoint& endpoint) {
  pool_ = &pool;
  endpoint_ = &endpoint;
  net::co_spawn(worker_.executor(), run(shared_from_this()), net::detached);
}

bool H2Upstream::available() const {
  if (ended_ || goaway_) return false;
  const uint32_t limit =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return pipes_.size() < limit;
}

std::unique_ptr<H2Pipe> H2Upstream::open_stream() {
  auto pipe = std::make_unique<H2Pipe>(*this, H2Pipe::Side::Client, 0, worker_.executor());
  pipe->set_scheme(stream_.tls() ? "https" : "http");
  pipes_.push_back(pipe.get());
  if (ended_) pipe->reset();
  return pipe;
}

void H2Upstream::close_stream(std::unique_ptr<H2Pipe> pipe) {
  const int32_t id = pipe->id();
  if (id > 0 && !pipe->stream_closed()) {  // submitted (maybe not sent yet): no one reads it now
    pipe->discard();
    // Works on a request not sent yet too, which the RST_STREAM then cancels (nghttp2 >= 1.31).
    nghttp2_session_set_stream_user_data(session_, id, nullptr);
    if (!ended_) {
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      want_write();
    }
  }
  pipes_.erase(std::find(pipes_.begin(), pipes_.end(), pipe.get()));
  if (pool_) pool_->stream_freed();
  if (goaway_ && pipes_.empty()) close();  // nothing left to finish
}

void H2Upstream::close() {
  if (ended_) return;
  goaway_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  closing_ = true;
  want_write();  // the GOAWAY goes, then the connection is cancelled: the reader ends
}

void H2Upstream::expire(void* self) { static_cast<H2Upstream*>(self)->stream_.cancel(); }

void H2Upstream::writing(bool started) {
  if (started) {
    deadline_.arm(write_timeout_);
  } else {
    deadline_.disarm();
  }
}

Task<void> H2Upstream::run(std::shared_ptr<H2Upstream> /*self: alive to the end*/) {
  start_writing(stream_);
  std::vector<uint8_t> in(16 * 1024);
  for (;;) {
    auto [ec, n] = co_await stream_.read_some(net::buffer(in));
    if (ec) break;
    const auto rv = nghttp2_session_mem_recv(session_, in.data(), n);
    want_write();
    if (rv < 0) {
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      break;
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) break;
  }
  ended();
  closing_ = true;
  want_write();
  // What is queued is sent (or its write fails) before the socket goes; a write still waiting
  // after 2 s ends with the socket. The session outlives both: this coroutine holds it.
  boost::system::error_code ignored;
  Timer wait(worker_.executor());
  for (int i = 0; writer_busy(); ++i) {
    if (i == 40) stream_.socket().close(ignored);
    wait.expires_after(std::chrono::milliseconds(50));
    co_await wait.async_wait(use_tuple);
  }
  stream_.socket().close(ignored);
}

void H2Upstream::ended() {
  ended_ = true;
  goaway_ = true;
  for (H2Pipe* pipe : pipes_) {
    if (!pipe->inbound_complete()) pipe->reset();
  }
  if (pool_) pool_->session_ended(*endpoint_, *this);
  detach();
}

}  // namespace vane::proxy
