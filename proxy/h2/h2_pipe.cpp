#include "proxy/h2/h2_pipe.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "proxy/downstream.hpp"
#include "proxy/h2/h2_session.hpp"
#include "proxy/http/grammar.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/responses.hpp"

namespace vane::proxy {
namespace {

/// Outgoing body bytes held for nghttp2 before the writer waits for the peer to take them.
constexpr size_t kHighWater = 64 * 1024;

/// nghttp2's name-value pairs, pointing at strings the caller keeps until submitted. The usual
/// head's fit on the stack: a heap array per head was one more cold allocation per stream.
class Fields {
 public:
  void add(std::string_view name, std::string_view value) {
    const nghttp2_nv nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                        reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                        value.size(), NGHTTP2_NV_FLAG_NONE};
    if (size_ < inline_.size()) {
      inline_[size_] = nv;
    } else {
      if (spill_.empty()) spill_.assign(inline_.begin(), inline_.end());
      spill_.push_back(nv);
    }
    ++size_;
  }
  /// The fields of a parsed HTTP/1.1 head that HTTP/2 carries: connection-specific ones have no
  /// place there (RFC 9113 §8.2.2). Names are lowered in place: `head` is ours.
  /// `empty`: an empty body, which END_STREAM on the HEADERS says (a gRPC trailers-only
  /// answer's metadata then holds no content-length).
  void add_head(const std::vector<http::Field>& fields, std::string& head, bool empty = false) {
    for (const http::Field& field : fields) {
      if (field.kind == http::FieldKind::HopByHop || field.kind == http::FieldKind::TransferEncoding ||
          field.kind == http::FieldKind::Host || (empty && field.kind == http::FieldKind::ContentLength)) {
        continue;
      }
      char* name = head.data() + (field.name.data() - head.data());
      std::transform(name, name + field.name.size(), name, http::grammar::to_lower);
      add(field.name, field.value);
    }
  }
  const nghttp2_nv* data() const { return size_ <= inline_.size() ? inline_.data() : spill_.data(); }
  size_t size() const { return size_; }

 private:
  std::array<nghttp2_nv, 24> inline_;
  std::vector<nghttp2_nv> spill_;
  size_t size_ = 0;
};

}  // namespace

/// An outgoing head while it is parsed and submitted: nghttp2 copies the fields, so one per
/// thread serves every stream, its memory warm, instead of a parsed head in each pipe.
struct H2Pipe::OutboundHead {
  std::string text;
  http::RequestHead request;    ///< Side::Client
  http::ResponseHead response;  ///< Side::Server

  static OutboundHead& of_this_thread() {
    thread_local OutboundHead head;
    return head;
  }
};

// ---- Stream's pipe operations ----

Task<ReadResult> Stream::pipe_read_some(net::mutable_buffer buffer) { return pipe_->read_some(buffer); }

bool Stream::pipe_write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec) {
  return pipe_->write_now(pieces, ec);
}

Task<boost::system::error_code> Stream::pipe_write_rest() { return pipe_->write_rest(); }

void Stream::cancel() {
  if (pipe_) {
    pipe_->cancel();
    return;
  }
  boost::system::error_code ignored;
  socket().cancel(ignored);
}

// ---- H2Pipe ----

H2Pipe::H2Pipe(H2Session& session, Side side, int32_t stream_id, const Executor& executor)
    : inbound(side == Side::Server ? http::H2Inbound::Kind::Request : http::H2Inbound::Kind::Response),
      session_(session),
      side_(side),
      id_(stream_id),
      executor_(executor) {}

// ---- the incoming message ----

void H2Pipe::end_fields(bool end) {
  if (discarding_) return;  // trailers, after the reader was done
  if (inbound.end_fields(end)) wake();
}

void H2Pipe::discard() {
  discarding_ = true;
  inbound.bytes.clear();
  if (unconsumed_ > 0) session_.consumed(id_, unconsumed_);
  unconsumed_ = 0;
}

void H2Pipe::add_body(std::string_view data, bool end) {
  if (discarding_) {
    if (!data.empty()) session_.consumed(id_, data.size());
    return;
  }
  inbound.add_body(data, end);
  unconsumed_ += data.size();
  wake();
}

void H2Pipe::reset() {
  reset_ = true;
  wake();
  if (client_ && client_->upstream) client_->upstream->cancel();  // the client is gone
}

// ---- waits ----

void H2Pipe::cancel() {
  for (Waiter* waiter : {&reader_, &writer_}) {
    if (!waiter->waiting) continue;
    waiter->cancelled = true;
    waiter->timer->cancel();
  }
}

void H2Pipe::wake() {
  if (reader_.waiting) reader_.timer->cancel();
  if (writer_.waiting) writer_.timer->cancel();
}

Task<bool> H2Pipe::wait(Waiter& waiter) {
  if (!waiter.timer) waiter.timer.emplace(executor_);
  waiter.waiting = true;
  waiter.timer->expires_at(Clock::time_point::max());
  co_await waiter.timer->async_wait(use_tuple);
  waiter.waiting = false;
  const bool go_on = !waiter.cancelled && !reset_;
  waiter.cancelled = false;
  co_return go_on;
}

// ---- the user ----

Task<ReadResult> H2Pipe::read_some(net::mutable_buffer buffer) {
  for (;;) {
    if (!inbound.bytes.empty()) {
      const size_t n = std::min(buffer.size(), inbound.bytes.size());
      std::memcpy(buffer.data(), inbound.bytes.data(), n);
      inbound.bytes.erase(0, n);
      // Window for what was read: framing bytes (a head, chunk lines) open it a little early.
      const size_t body = std::min(n, unconsumed_);
      unconsumed_ -= body;
      if (body > 0 && !reset_) session_.consumed(id_, body);
      co_return ReadResult{boost::system::error_code{}, n};
    }
    if (reset_) co_return ReadResult{net::error::connection_reset, 0};
    if (inbound.complete()) co_return ReadResult{net::error::eof, 0};
    const bool woken = co_await wait(reader_);
    if (!woken && !reset_) co_return ReadResult{net::error::operation_aborted, 0};
  }
}

bool H2Pipe::write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec) {
  ec = {};
  if (reset_) {
    ec = net::error::connection_reset;
    return true;
  }
  for (std::string_view& piece : pieces) {
    if (piece.empty()) continue;
    ec = take_outbound(piece);
    piece = {};
    if (ec) return true;
  }
  if (id_ > 0) session_.resume(id_);
  return outbound_.size() - outbound_at_ <= kHighWater;
}

Task<boost::system::error_code> H2Pipe::write_rest() {
  while (outbound_.size() - outbound_at_ > kHighWater && !reset_) {
    const bool woken = co_await wait(writer_);
    if (!woken && !reset_) co_return net::error::operation_aborted;
  }
  if (reset_) co_return net::error::connection_reset;
  co_return boost::system::error_code{};
}

// ---- the outgoing message ----

http::ParseStatus H2Pipe::parse_outbound(OutboundHead& head) {
  http::ParseError error;
  if (side_ == Side::Client) {  // vane's own request head: generous limits
    return http::parse_request(head.text, http::Limits{65536, 1 << 20, 1000}, head.request, error);
  }
  return http::parse_response(head.text, http::Limits{65536, 1 << 20, 1000}, inbound.method() == "HEAD",
                              head.response, error);
}

boost::system::error_code H2Pipe::take_outbound(std::string_view bytes) {
  if (state_ != State::Head) return take_body_bytes(bytes);
  OutboundHead& head = OutboundHead::of_this_thread();
  head.text.assign(head_).append(bytes);
  for (;;) {
    const auto status = parse_outbound(head);
    if (status == http::ParseStatus::Incomplete) {
      head_.swap(head.text);  // kept by the pipe until the rest comes
      return {};
    }
    if (status == http::ParseStatus::Error) return net::error::invalid_argument;  // not ours
    if (side_ == Side::Client || head.response.status >= 200) break;
    head.text.erase(0, head.response.head_bytes);  // an interim answer: HTTP/2 clients need none
  }
  head_.clear();
  head_.shrink_to_fit();
  const size_t head_bytes = side_ == Side::Client ? head.request.head_bytes : head.response.head_bytes;
  if (const auto ec = submit_head(head)) return ec;
  // Submitted: nghttp2 copied the fields; what followed the head is the body's beginning.
  const auto ec = take_body_bytes(std::string_view(head.text).substr(head_bytes));
  if (head.text.capacity() > kHighWater) std::string().swap(head.text);  // a rare huge head
  return ec;
}

boost::system::error_code H2Pipe::take_body_bytes(std::string_view bytes) {
  if (state_ != State::Body) return {};
  switch (framing_) {
    case http::Framing::Length: {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
      outbound_.append(bytes.substr(0, take));
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::Done;
      break;
    }
    case http::Framing::Chunked:
      while (!bytes.empty() && state_ == State::Body) {
        const auto step = chunks_.next(bytes);
        if (step.status == http::ChunkedDecoder::Status::Error) return net::error::invalid_argument;
        if (step.status == http::ChunkedDecoder::Status::Data) outbound_.append(step.data);
        if (step.status == http::ChunkedDecoder::Status::Done) {
          http::for_each_trailer(chunks_.trailers(), [&](std::string_view name, std::string_view value) {
            const size_t at = out_trailers_.size();
            out_trailers_.append(name).append(": ").append(value).append("\r\n");
            std::transform(out_trailers_.begin() + static_cast<long>(at),
                           out_trailers_.begin() + static_cast<long>(at + name.size()),
                           out_trailers_.begin() + static_cast<long>(at),
                           http::grammar::to_lower);
          });
          state_ = State::Done;
        }
        bytes.remove_prefix(step.consumed);
      }
      break;
    default:  // close-delimited: the exchange's end ends it (finish in the connection)
      outbound_.append(bytes);
      break;
  }
  return {};
}

boost::system::error_code H2Pipe::submit_head(OutboundHead& head) {
  Fields nva;
  char status[4];
  if (side_ == Side::Client) {
    const http::RequestHead& request = head.request;
    nva.add(":method", request.method);
    nva.add(":scheme", scheme_);
    nva.add(":authority", request.host);
    nva.add(":path", request.path);
    nva.add_head(request.fields, head.text);
    nva.add("te", "trailers");  // what gRPC servers ask for: vane relays trailers
    framing_ = request.framing;
    remaining_ = request.content_length;
    inbound.set_head_request(request.method == "HEAD");
  } else {
    const http::ResponseHead& response = head.response;
    const int code = std::clamp(response.status, 100, 999);  // the parser allows 3 digits only
    status[0] = static_cast<char>('0' + code / 100);
    status[1] = static_cast<char>('0' + code / 10 % 10);
    status[2] = static_cast<char>('0' + code % 10);
    nva.add(":status", std::string_view(status, 3));
    nva.add_head(response.fields, head.text, response.framing == http::Framing::Length &&
                                                 response.content_length == 0);
    framing_ = response.framing;
    remaining_ = response.content_length;
  }
  const bool body = framing_ != http::Framing::None &&
                    !(framing_ == http::Framing::Length && remaining_ == 0);
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                              uint32_t* flags, nghttp2_data_source* source, void*) -> ssize_t {
    const long n = static_cast<H2Pipe*>(source->ptr)->take_body(buf, length, *flags);
    return n < 0 ? ssize_t{NGHTTP2_ERR_DEFERRED} : n;
  };
  if (side_ == Side::Client) {
    const int32_t id = nghttp2_submit_request(session_.session(), nullptr, nva.data(), nva.size(),
                                              body ? &provider : nullptr, this);
    if (id < 0) return net::error::connection_reset;
    id_ = id;
  } else if (nghttp2_submit_response(session_.session(), id_, nva.data(), nva.size(),
                                     body ? &provider : nullptr) != 0) {
    return net::error::connection_reset;
  }
  state_ = body ? State::Body : State::Done;
  return {};
}

long H2Pipe::take_body(uint8_t* out, size_t length, uint32_t& flags) {
  const size_t available = outbound_.size() - outbound_at_;
  const size_t n = std::min(length, available);
  std::memcpy(out, outbound_.data() + outbound_at_, n);
  outbound_at_ += n;
  if (outbound_at_ == outbound_.size()) {
    outbound_.clear();
    outbound_at_ = 0;
  }
  const bool eof = outbound_.empty() && state_ == State::Done;
  if (n > 0) wake();  // a writer held back by the high-water mark
  if (n == 0 && !eof) return -1;
  if (eof) {
    flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!out_trailers_.empty()) {  // the trailers end the stream instead
      Fields nva;
      http::for_each_trailer(out_trailers_, [&](std::string_view name, std::string_view value) {
        nva.add(name, value);
      });
      if (nghttp2_submit_trailer(session_.session(), id_, nva.data(), nva.size()) == 0) {
        flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  }
  return static_cast<long>(n);
}

}  // namespace vane::proxy
