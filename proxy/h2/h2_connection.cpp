#include "proxy/h2/h2_connection.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proxy/exchange.hpp"
#include "proxy/http/h2_options.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/log.hpp"
#include "proxy/net/io.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {
namespace {

std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

/// nghttp2's callbacks: `user_data` is the connection, a stream's user data its pipe.
struct H2Connection::Callbacks {
  static int begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto* self = static_cast<H2Connection*>(user);
    auto pipe = std::make_shared<H2Pipe>(*self, H2Pipe::Side::Server, frame->hd.stream_id,
                                         self->worker().executor());
    pipe->inbound.bytes = self->worker().take_string();
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, pipe.get());
    self->streams_.push_back(std::move(pipe));
    return 0;
  }

  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* pipe = static_cast<H2Pipe*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (!pipe) return 0;
    const auto& limits = static_cast<H2Connection*>(user)->worker().snapshot().config->limits;
    // The HTTP/1.1 parser applies the limits to the head made of these; this only keeps a
    // stream that would blow far past them from holding more memory meanwhile.
    if (pipe->inbound.field_bytes() > 2 * size_t{limits.max_request_header_bytes}) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // RST_STREAM
    }
    pipe->inbound.add_field(text(name, namelen), text(value, valuelen));
    return 0;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) self->peer_goaway_ = true;
    auto* pipe = static_cast<H2Pipe*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (!pipe) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      pipe->end_fields(end);  // the request's head, or its trailers
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) self->start(*pipe);
    } else if (frame->hd.type == NGHTTP2_DATA && end) {
      pipe->add_body({}, true);
    }
    return 0;
  }

  static int frame_sent(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
    auto* pipe = static_cast<H2Pipe*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (pipe && pipe->discarding() && !pipe->inbound_complete()) {  // see serve()
      nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_NO_ERROR);
    }
    return 0;
  }

  static int data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id, const uint8_t* data,
                        size_t len, void*) {
    auto* pipe = static_cast<H2Pipe*>(nghttp2_session_get_stream_user_data(session, stream_id));
    if (pipe) pipe->add_body(text(data, len), false);
    return 0;
  }

  static int stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user) {
    auto* self = static_cast<H2Connection*>(user);
    const auto it = self->find_stream(stream_id);
    if (it == self->streams_.end()) return 0;
    if (!(*it)->outbound_complete()) (*it)->reset();
    self->streams_.erase(it);
    return 0;
  }
};

H2Connection::H2Connection(Downstream& client, size_t listener)
    : H2Session(client.worker.executor()),
      client_(client),
      listener_(listener),
      exchanges_done_(client.worker.executor()) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::data_chunk);
  nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &Callbacks::frame_sent);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::stream_close);
  nghttp2_session_server_new3(&session_, callbacks, this, http::h2_server_options().get(), memory());
  nghttp2_session_callbacks_del(callbacks);
  const auto& limits = client_.worker.snapshot().config->limits;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits.max_request_header_bytes},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
}

void H2Connection::rearm() {
  if (closing_) return;
  trim_due_ = false;
  if (streams_.empty() && exchanges_ == 0) {
    const Clock::duration idle = client_.worker.snapshot().config->limits.idle_timeout;
    if (client_.worker.draining()) {  // nothing left to finish: close now
      client_.arm(Phase::Idle, Clock::duration::zero());
    } else if (trimmed_) {
      client_.arm(Phase::Idle, idle - kTrimAfter);
    } else if (!client_.stream.tls() && idle > kTrimAfter && !in_write_) {
      client_.arm(Phase::Idle, kTrimAfter);  // then trimmed, and idle for the rest (run())
      trim_due_ = true;
    } else {
      client_.arm(Phase::Idle, idle);
    }
  } else if (!in_write_) {
    client_.disarm();
  }
}

void H2Connection::start(H2Pipe& pipe) {
  const auto it = find_stream(pipe.id());
  if (it == streams_.end()) return;
  ++exchanges_;
  client_.worker.h2_stream_opened(listener_);
  net::co_spawn(client_.worker.executor(), serve(*it), net::detached);
}

H2Connection::Streams::iterator H2Connection::find_stream(int32_t id) {
  const auto it = std::lower_bound(streams_.begin(), streams_.end(), id,
                                   [](const auto& pipe, int32_t v) { return pipe->id() < v; });
  return it != streams_.end() && (*it)->id() == id ? it : streams_.end();
}

Task<void> H2Connection::serve(std::shared_ptr<H2Pipe> pipe) {
  {
    Downstream stream(client_.worker, Stream(*pipe, client_.worker.executor(), client_.stream.secure()),
                      client_.worker.buffers(), client_.address, client_.port);
    client_.worker.deadlines().add(stream.deadline);
    pipe->attach(&stream);
    // The head is whole before the exchange starts: parse it where the exchange reads it.
    const std::string_view head_text = pipe->inbound.bytes;
    size_t room = 0;
    char* at = stream.in.prepare(room, head_text.size(), std::max(head_text.size(), BufferPool::kBlockSize));
    std::memcpy(at, head_text.data(), head_text.size());
    stream.in.commit(head_text.size());
    client_.worker.give_back(std::move(pipe->inbound.bytes));
    pipe->inbound.bytes.clear();
    http::RequestHead& head = client_.worker.request_scratch();
    http::ParseError error;
    const auto status = http::parse_request(stream.in.data(), client_.worker.snapshot().limits, head, error);
    if (status == http::ParseStatus::Complete) {
      Exchange exchange(stream, head);
      co_await exchange.run();
    } else {
      stream.arm(Phase::Respond, std::chrono::seconds(5));
      co_await write_all(stream.stream, http::canned_response(error.status, true));
    }
    pipe->attach(nullptr);
  }
  if (!pipe->was_reset() && !pipe->outbound_complete()) {
    // Cut short (the upstream's fault or the client's): the client must not take it as whole.
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, pipe->id(), NGHTTP2_INTERNAL_ERROR);
  }
  pipe->discard();
  // Answered before the request ended (an early gRPC status, an error): the rest of it is not
  // wanted (RFC 9113 §8.1), once the answer's end went out (frame_sent, or now).
  if (!pipe->was_reset() && !pipe->inbound_complete() &&
      nghttp2_session_get_stream_local_close(session_, pipe->id()) == 1) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, pipe->id(), NGHTTP2_NO_ERROR);
  }
  --exchanges_;
  client_.worker.h2_stream_closed(listener_);
  want_write();
  rearm();
  if (exchanges_ == 0) exchanges_done_.cancel();
}

bool H2Connection::receive(std::string_view bytes) {
  const auto rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                           bytes.size());
  want_write();
  if (rv >= 0) return true;
  // A peer nghttp2 gave up on (a flood, a protocol error): GOAWAY with the reason, if it can go.
  nghttp2_session_terminate_session(session_, rv == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM
                                                                        : NGHTTP2_PROTOCOL_ERROR);
  return false;
}

Task<void> H2Connection::run() {
  start_writing(client_.stream);
  // What was read while telling HTTP/2 from HTTP/1.1 (the preface, maybe more) comes first.
  bool go_on = receive(client_.in.data());
  client_.in.consume(client_.in.size());
  while (go_on && !writer_stopped()) {  // a failed write ends the reading too
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      // nghttp2 is done with this peer. Unless the peer said goodbye, it is one nghttp2 gave
      // up on: the peer hears why.
      if (!peer_goaway_) nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      break;
    }
    if (client_.worker.draining() && !goaway_sent_) {  // finish what runs, take nothing new
      goaway_sent_ = true;
      nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                            nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                            nullptr, 0);
      want_write();
    }
    rearm();
    if (!client_.stream.tls() && (trimmed_ || idle())) {
      // Nothing to serve or send: wait for bytes without holding a read buffer, as an idle
      // HTTP/1.1 keep-alive connection does.
      client_.in.release_if_empty();
      const auto [waited] = co_await readiness::wait_readable(client_.stream.socket());
      if (waited && trim_now()) continue;
      if (waited) break;  // the idle timeout, a drain, the close
    }
    size_t room = 0;
    char* at = client_.in.prepare(room);
    auto [ec, n] = co_await client_.stream.read_some(net::buffer(at, room));
    if (ec && trim_now()) continue;
    if (ec) break;
    trimmed_ = false;
    go_on = receive(std::string_view(at, n));
  }
  closing_ = true;
  for (auto& pipe : streams_) pipe->reset();
  want_write();  // what is queued (a GOAWAY) is sent, then no more
  client_.arm(Phase::Respond, std::chrono::seconds(2));
  while (writer_busy() || exchanges_ > 0) {
    exchanges_done_.expires_after(std::chrono::milliseconds(50));
    co_await exchanges_done_.async_wait(use_tuple);
  }
}

bool H2Connection::idle() const {
  return streams_.empty() && exchanges_ == 0 && !writer_busy() && !nghttp2_session_want_write(session_);
}

bool H2Connection::trim_now() {
  // The deadline that ended the wait was kTrimAfter's (not the idle timeout's, nor a drain's).
  if (!trim_due_ || !client_.deadline.fired() || client_.worker.draining()) return false;
  trim();
  trimmed_ = true;  // rearm() gives the idle timeout's rest
  return true;
}

void H2Connection::writing(bool started) {
  in_write_ = started;
  if (closing_) return;  // the close's own deadline (run()) stays
  if (started) {
    client_.arm(Phase::Respond, client_.worker.snapshot().config->limits.request_body_timeout);
  } else {
    rearm();
  }
}

}  // namespace vane::proxy
