#include "proxy/h2/h2_pipe.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "proxy/downstream.hpp"
#include "proxy/h2/h2_connection.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy {
namespace {

/// Response body bytes held for nghttp2 before the exchange waits for the client to take them.
constexpr size_t kHighWater = 64 * 1024;

}  // namespace

// ---- Stream's pipe operations ----

Task<ReadResult> Stream::pipe_read_some(net::mutable_buffer buffer) { return pipe_->read_some(buffer); }

Task<boost::system::error_code> Stream::pipe_write_all(std::array<std::string_view, 4> pieces) {
  return pipe_->write_all(pieces);
}

void Stream::cancel() {
  if (pipe_) {
    pipe_->cancel();
    return;
  }
  boost::system::error_code ignored;
  socket().cancel(ignored);
}

// ---- H2Pipe ----

H2Pipe::H2Pipe(H2Connection& connection, int32_t stream_id, const Executor& executor)
    : connection_(connection), id_(stream_id), wake_(executor) {}

void H2Pipe::write_head(bool body) {
  inbound.reserve(method.size() + path.size() + authority.size() + fields.size() + cookies.size() + 64);
  inbound.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ").append(authority);
  inbound.append("\r\n").append(fields);
  if (!cookies.empty()) inbound.append("Cookie: ").append(cookies).append("\r\n");
  chunked_body = body && !has_length;
  if (chunked_body) inbound.append("Transfer-Encoding: chunked\r\n");
  inbound.append("\r\n");
  if (!body) request_ended_ = true;
}

void H2Pipe::add_body(std::string_view data, bool end) {
  if (!data.empty()) {
    if (chunked_body) {
      char line[24];
      inbound.append(http::chunk_size_line(data.size(), line)).append(data).append("\r\n");
    } else {
      inbound.append(data);
    }
    unconsumed_ += data.size();
  }
  if (end && !request_ended_) {
    if (chunked_body) inbound.append(http::kLastChunk);
    request_ended_ = true;
  }
  wake();
}

void H2Pipe::reset() {
  reset_ = true;
  wake();
  if (client_ && client_->upstream) {  // a wait on the upstream ends now: the client is gone
    boost::system::error_code ignored;
    client_->upstream->socket().cancel(ignored);
  }
}

void H2Pipe::cancel() {
  if (!waiting_) return;
  cancelled_ = true;
  wake_.cancel();
}

void H2Pipe::wake() {
  if (waiting_) wake_.cancel();
}

Task<bool> H2Pipe::wait() {
  waiting_ = true;
  wake_.expires_at(Clock::time_point::max());
  co_await wake_.async_wait(use_tuple);
  waiting_ = false;
  const bool go_on = !cancelled_ && !reset_;
  cancelled_ = false;
  co_return go_on;
}

Task<ReadResult> H2Pipe::read_some(net::mutable_buffer buffer) {
  for (;;) {
    if (!inbound.empty()) {
      const size_t n = std::min(buffer.size(), inbound.size());
      std::memcpy(buffer.data(), inbound.data(), n);
      inbound.erase(0, n);
      const size_t body = std::min(n, unconsumed_);  // framing bytes aside, within a chunk line
      unconsumed_ -= body;
      if (body > 0 && !reset_) connection_.consumed(id_, body);
      co_return ReadResult{boost::system::error_code{}, n};
    }
    if (reset_) co_return ReadResult{net::error::connection_reset, 0};
    if (request_ended_) co_return ReadResult{net::error::eof, 0};
    const bool woken = co_await wait();
    if (!woken && !reset_) co_return ReadResult{net::error::operation_aborted, 0};
  }
}

Task<boost::system::error_code> H2Pipe::write_all(std::array<std::string_view, 4> pieces) {
  if (reset_) co_return net::error::connection_reset;
  for (const std::string_view piece : pieces) {
    if (piece.empty()) continue;
    if (const auto ec = take_response(piece)) co_return ec;
  }
  connection_.resume(id_);
  while (outbound_.size() - outbound_at_ > kHighWater && !reset_) {
    const bool woken = co_await wait();
    if (!woken && !reset_) co_return net::error::operation_aborted;
  }
  if (reset_) co_return net::error::connection_reset;
  co_return boost::system::error_code{};
}

boost::system::error_code H2Pipe::take_response(std::string_view bytes) {
  std::string rest;
  if (state_ == State::Head) {
    head_.append(bytes);
    for (;;) {
      http::ParseError error;
      const auto status = http::parse_response(head_, http::Limits{65536, 1 << 20, 1000},
                                               method == "HEAD", response_, error);
      if (status == http::ParseStatus::Incomplete) return {};
      if (status == http::ParseStatus::Error) return net::error::invalid_argument;  // not ours
      if (response_.status >= 200) break;
      head_.erase(0, response_.head_bytes);  // an interim answer: HTTP/2 clients need none
    }
    if (const auto ec = submit_head()) return ec;
    rest = head_.substr(response_.head_bytes);
    head_.clear();
    head_.shrink_to_fit();
    bytes = rest;
  }
  if (state_ != State::Body) return {};
  switch (response_.framing) {
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
        if (step.status == http::ChunkedDecoder::Status::Done) state_ = State::Done;
        bytes.remove_prefix(step.consumed);
      }
      break;
    default:  // close-delimited: the exchange's end ends it (finish in the connection)
      outbound_.append(bytes);
      break;
  }
  return {};
}

boost::system::error_code H2Pipe::submit_head() {
  char status[4];
  std::snprintf(status, sizeof status, "%03d", response_.status);
  std::vector<nghttp2_nv> nva;
  nva.reserve(response_.fields.size() + 1);
  auto add = [&](std::string_view name, std::string_view value) {
    nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                             reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                             name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(":status", std::string_view(status, 3));
  for (const http::Field& field : response_.fields) {
    // Connection-specific fields have no place in HTTP/2 (RFC 9113 §8.2.2).
    if (field.kind == http::FieldKind::HopByHop || field.kind == http::FieldKind::TransferEncoding) {
      continue;
    }
    // HTTP/2 names are lower-case; this one points into head_, which is ours: lower it there.
    char* name = head_.data() + (field.name.data() - head_.data());
    std::transform(name, name + field.name.size(), name,
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    add(field.name, field.value);
  }
  const bool body = response_.framing != http::Framing::None;
  nghttp2_data_provider provider{};
  provider.source.ptr = this;
  provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length,
                              uint32_t* flags, nghttp2_data_source* source, void*) -> ssize_t {
    bool eof = false;
    const long n = static_cast<H2Pipe*>(source->ptr)->take_body(buf, length, eof);
    if (n < 0) return NGHTTP2_ERR_DEFERRED;
    if (eof) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return n;
  };
  const int rv = nghttp2_submit_response(connection_.session(), id_, nva.data(), nva.size(),
                                         body ? &provider : nullptr);
  if (rv != 0) return net::error::connection_reset;
  state_ = body ? State::Body : State::Done;
  remaining_ = response_.content_length;
  if (body && response_.framing == http::Framing::Length && remaining_ == 0) state_ = State::Done;
  return {};
}

long H2Pipe::take_body(uint8_t* out, size_t length, bool& eof) {
  const size_t available = outbound_.size() - outbound_at_;
  const size_t n = std::min(length, available);
  std::memcpy(out, outbound_.data() + outbound_at_, n);
  outbound_at_ += n;
  if (outbound_at_ == outbound_.size()) {
    outbound_.clear();
    outbound_at_ = 0;
  }
  eof = outbound_.empty() && state_ == State::Done;
  if (n > 0) wake();  // a writer held back by the high-water mark
  if (n == 0 && !eof) return -1;
  return static_cast<long>(n);
}

}  // namespace vane::proxy
