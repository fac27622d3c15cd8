#include "proxy/relay.hpp"

#include <algorithm>
#include <array>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/mirror_capture.hpp"
#include "proxy/net/io.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {

Relay::Relay(Downstream& client, Generation& generation, const http::RequestHead& head,
             const std::string_view& request_id, const std::string& extra_fields,
             MirrorCapture& mirror)
    : client_(client),
      generation_(generation),
      mirror_(mirror),
      request_id_(request_id),
      extra_fields_(extra_fields),
      upstream_(client, generation),
      from_upstream_(client.worker.buffers()),
      client_stall_(generation.snapshot().config->limits.request_body_timeout),
      content_length_(head.content_length),
      framing_(head.framing),
      minor_version_(head.minor_version),
      client_keep_alive_(head.keep_alive),
      head_request_(head.method == "HEAD"),
      websocket_(head.websocket),
      grpc_(http::is_grpc(head)),
      body_(head.framing == http::Framing::None ? RequestBody::Done
            : head.expect_continue              ? RequestBody::AwaitingContinue
                                                : RequestBody::Pending) {}

bool Relay::keep_alive() const {
  return client_keep_alive_ && client_framing_ != http::ClientFraming::Close && body_done() &&
         !websocket_ && !client_.worker.draining();
}

Task<AttemptResult> Relay::attempt(const Attempt& to) {
  deadline_ = to.deadline;
  Failure f = Failure::None;
  if (!upstream_.open_now(to.upstream, to.avoid, f)) {
    f = co_await upstream_.open(to.upstream, to.avoid, deadline_);
  }
  duplex_ = grpc_ && body_ != RequestBody::Done && upstream_.multiplexed();
  if (f == Failure::None && framing_ == http::Framing::None) {  // the head alone: one write
    auto pieces = to_upstream({});
    boost::system::error_code ec;
    if (!write_now(upstream_.stream(), pieces, ec)) ec = co_await write_rest(upstream_.stream(), pieces);
    if (ec) f = upstream_error(ec);
  } else if (f == Failure::None) {
    f = co_await send_request();
  }
  if (f == Failure::None) f = co_await read_response_head();
  if (f == Failure::ClientGone && pump_failure_ != Failure::None) f = pump_failure_;
  co_return AttemptResult{f, status_, upstream_.reused()};
}

void Relay::start_pump() {
  pumping_ = true;
  if (!pump_done_) pump_done_.emplace(client_.worker.executor());
  auto pump = [this]() -> Task<void> {
    const Failure f = framing_ == http::Framing::Length ? co_await send_length_body()
                                                         : co_await send_chunked_body();
    pumping_ = false;
    if (f != Failure::None && f != Failure::ClientGone) {
      pump_failure_ = f;
      if (client_.upstream) client_.upstream->cancel();  // the answer's wait ends too
    }
    pump_done_->cancel();
  };
  net::co_spawn(client_.worker.executor(), std::move(pump), net::detached);
}

Task<void> Relay::settle() {
  if (!pumping_) co_return;
  client_.stream.cancel();
  if (client_.upstream) client_.upstream->cancel();
  while (pumping_) {
    pump_done_->expires_at(Clock::time_point::max());
    co_await pump_done_->async_wait(use_tuple);
  }
}

void Relay::abandon() {
  upstream_.release(false);
  from_upstream_.consume(from_upstream_.size());  // what is left of a dropped answer
  status_ = 0;
  grpc_status_ = -1;
  response_ = Response::None;
  head_due_ = true;
}

void Relay::finish() {
  upstream_.release(upstream_keep_alive_ && body_done() && response_done() &&
                    from_upstream_.empty());
}

/// A request with a body (a bodiless one's head is written by attempt()).
Task<Failure> Relay::send_request() {
  if (body_ == RequestBody::AwaitingContinue) {
    body_ = RequestBody::Pending;
    client_.arm(Phase::Respond, client_stall_);
    const auto ec = co_await write_all(client_.stream, http::kContinue);
    if (ec) co_return client_write_error();
  }
  if (duplex_) {  // the head alone now; the body alongside the answer
    if (Failure f = co_await write_upstream({}); f != Failure::None) co_return f;
    start_pump();
    co_return Failure::None;
  }
  if (framing_ == http::Framing::Length) co_return co_await send_length_body();
  co_return co_await send_chunked_body();
}

Task<Failure> Relay::send_length_body() {
  uint64_t remaining = content_length_;
  while (remaining > 0) {
    if (client_.in.empty()) {
      if (Failure f = co_await read_client(); f != Failure::None) co_return f;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, client_.in.size()));
    mirror_.append(client_.in.data().substr(0, take));
    if (Failure f = co_await write_upstream(client_.in.data().substr(0, take)); f != Failure::None) {
      co_return f;
    }
    client_.in.consume(take);
    remaining -= take;
    bytes_received_ += take;
  }
  body_ = RequestBody::Done;
  if (head_due_) co_return co_await write_upstream({});
  co_return Failure::None;
}

Task<Failure> Relay::send_chunked_body() {
  const auto& limits = generation_.snapshot().config->limits;
  http::ChunkedDecoder decoder(limits.max_request_line_bytes, limits.max_request_header_bytes);
  for (;;) {
    if (client_.in.empty()) {
      if (Failure f = co_await read_client(); f != Failure::None) co_return f;
    }
    auto step = decoder.next(client_.in.data());
    if (step.status == http::ChunkedDecoder::Status::Error) co_return Failure::BadBody;
    if (decoder.body_bytes() > limits.max_request_body_bytes) co_return Failure::TooLarge;
    if (step.status == http::ChunkedDecoder::Status::Data) {
      char line[24];
      auto size = http::chunk_size_line(step.data.size(), line);
      mirror_.append(size, step.data, "\r\n");
      if (Failure f = co_await write_upstream(size, step.data, "\r\n"); f != Failure::None) co_return f;
      bytes_received_ += step.data.size();
    }
    client_.in.consume(step.consumed);  // NeedMore consumed it all: the decoder keeps partial lines
    if (step.status == http::ChunkedDecoder::Status::Done) {
      body_ = RequestBody::Done;
      mirror_.append(http::kLastChunk);
      if (decoder.trailers().empty()) co_return co_await write_upstream(http::kLastChunk);
      const std::string last = http::last_chunk(decoder.trailers());  // gRPC's metadata, say
      co_return co_await write_upstream(last);
    }
  }
}

/// A wait on the client: bounded by requestBodyTimeout alone, and not charged to the upstream.
/// In duplex the answer's own wait runs meanwhile, under the upstream's deadline.
Task<Failure> Relay::read_client() {
  if (!duplex_) client_.arm(Phase::Body, client_stall_);
  size_t room = 0;
  char* at = client_.in.prepare(room);
  const Clock::time_point from = tick_now();
  auto [ec, n] = co_await client_.stream.read_some(net::buffer(at, room));
  if (!duplex_) deadline_ += tick_now() - from;
  if (ec && is_end_of_stream(ec)) co_return Failure::ShortBody;
  if (ec) co_return client_.client_stalled() ? Failure::ClientTimeout : Failure::ClientGone;
  client_.in.commit(n);
  co_return Failure::None;
}

std::array<std::string_view, 4> Relay::to_upstream(std::string_view a, std::string_view b,
                                                   std::string_view c) {
  client_.arm_at(Phase::Upstream, deadline_);
  std::array<std::string_view, 4> pieces{};
  size_t i = 0;
  if (head_due_) pieces[i++] = client_.request_head;
  pieces[i++] = a;
  pieces[i++] = b;
  pieces[i] = c;
  head_due_ = false;
  return pieces;
}

Task<Failure> Relay::write_upstream(std::string_view a, std::string_view b, std::string_view c) {
  auto pieces = to_upstream(a, b, c);
  boost::system::error_code ec;
  if (!write_now(upstream_.stream(), pieces, ec)) ec = co_await write_rest(upstream_.stream(), pieces);
  co_return ec ? upstream_error(ec) : Failure::None;
}

net::mutable_buffer Relay::upstream_room() {
  size_t room = 0;
  char* at = from_upstream_.prepare(room, 1, 2 * BufferPool::kBlockSize + 65536);
  return net::buffer(at, room);
}

Task<ReadResult> Relay::read_upstream() {
  client_.arm_at(Phase::Upstream, deadline_);
  return upstream_.stream().read_some(upstream_room());
}

Failure Relay::upstream_read_done(const ReadResult& read, bool* fin) {
  const auto& [ec, n] = read;
  if (ec) {
    if (fin) *fin = is_end_of_stream(ec);
    return upstream_error(ec);
  }
  from_upstream_.commit(n);
  return Failure::None;
}

Task<Failure> Relay::read_response_head() {
  const http::Limits limits{8192, 65536, 200};
  http::ResponseHead& response = client_.worker.response_scratch();
  for (;;) {
    http::ParseError error;
    auto status = http::parse_response(from_upstream_.data(), limits, head_request_, response, error);
    if (status == http::ParseStatus::Error) co_return Failure::Protocol;
    if (status == http::ParseStatus::Complete) {
      if (response.status == 101 && !websocket_) co_return Failure::Protocol;  // not asked for
      if (response.status >= 100 && response.status < 200 && response.status != 101) {
        from_upstream_.consume(response.head_bytes);  // interim responses are not forwarded
        continue;
      }
      break;
    }
    Stream& upstream = upstream_.stream();
    client_.arm_at(Phase::Upstream, deadline_);
    if (from_upstream_.empty() && upstream.plain() && !readiness::maybe_readable(upstream.socket())) {
      // Nothing there yet: wait for the answer before drawing a buffer, so that an exchange
      // waiting on its upstream holds none, and the one it reads into is the pool's hottest.
      from_upstream_.release_if_empty();
      const auto [ec] = co_await readiness::wait_readable(upstream.socket());
      if (ec) co_return upstream_read_done(ReadResult{ec, 0});
    }
    ReadResult read;
    const net::mutable_buffer room = upstream_room();
    if (!upstream.read_now(room, read)) read = co_await upstream.read_some(room);
    if (Failure f = upstream_read_done(read); f != Failure::None) co_return f;
  }
  // Build the client's head now: `response` views the buffer, which the next read may move.
  status_ = response.status;
  if (grpc_) {  // a trailers-only answer carries its grpc-status in the head
    for (const http::Field& field : response.fields) find_grpc_status(field.name, field.value);
  }
  response_framing_ = response.framing;
  response_length_ = response.content_length;
  upstream_keep_alive_ = response.keep_alive;
  client_framing_ = http::client_framing(response, minor_version_);
  http::write_response_head(response, client_framing_, request_id_, keep_alive(), minor_version_,
                            client_.response_head, extra_fields_);
  from_upstream_.consume(response.head_bytes);
  response_ = Response::HeadReady;
  co_return Failure::None;
}

Task<void> Relay::tunnel(const Tunnel::Target& target) {
  Tunnel tunnel(client_, upstream_.stream(), from_upstream_, target,
                generation_.snapshot().config->limits.upgraded_idle_timeout);
  response_ = Response::Sending;  // the 101 goes with the tunnel's first write
  co_await tunnel.run();
}

Task<Failure> Relay::relay_response() {
  const http::ClientFraming framing = client_framing_;
  switch (response_framing_) {
    case http::Framing::None:
      break;
    case http::Framing::Length: {  // inline, not a coroutine of its own: the common case
      uint64_t remaining = response_length_;
      while (remaining > 0) {
        if (from_upstream_.empty()) {
          const ReadResult read = co_await read_upstream();
          if (Failure f = upstream_read_done(read); f != Failure::None) co_return f;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, from_upstream_.size()));
        auto pieces = to_client(from_upstream_.data().substr(0, take));
        boost::system::error_code ec;
        if (!write_now(client_.stream, pieces, ec)) {
          if (Failure f = co_await write_client_rest(pieces); f != Failure::None) co_return f;
        } else if (ec) {
          co_return client_write_error();
        }
        from_upstream_.consume(take);
        remaining -= take;
      }
      break;
    }
    case http::Framing::Chunked:
      if (Failure f = co_await relay_chunked(framing); f != Failure::None) co_return f;
      break;
    case http::Framing::UntilClose:
      if (Failure f = co_await relay_until_close(framing); f != Failure::None) co_return f;
      break;
  }
  if (response_ == Response::HeadReady) {
    if (Failure f = co_await write_client({}); f != Failure::None) co_return f;
  }
  response_ = Response::Done;
  co_return Failure::None;
}

Task<Failure> Relay::relay_chunked(http::ClientFraming framing) {
  http::ChunkedDecoder decoder;
  for (;;) {
    if (from_upstream_.empty()) {
      const ReadResult read = co_await read_upstream();
      if (Failure f = upstream_read_done(read); f != Failure::None) co_return f;
    }
    auto step = decoder.next(from_upstream_.data());
    if (step.status == http::ChunkedDecoder::Status::Error) co_return Failure::Protocol;
    if (step.status == http::ChunkedDecoder::Status::Data) {
      char line[24];
      const bool chunked = framing == http::ClientFraming::Chunked;
      auto size = chunked ? http::chunk_size_line(step.data.size(), line) : std::string_view{};
      Failure f = co_await write_client(size, step.data, chunked ? "\r\n" : "");
      if (f != Failure::None) co_return f;
    }
    from_upstream_.consume(step.consumed);
    if (step.status == http::ChunkedDecoder::Status::Done) {
      if (grpc_) http::for_each_trailer(decoder.trailers(), [this](auto name, auto value) {
        find_grpc_status(name, value);
      });
      if (framing != http::ClientFraming::Chunked) co_return Failure::None;  // no room for trailers
      if (decoder.trailers().empty()) co_return co_await write_client(http::kLastChunk);
      const std::string last = http::last_chunk(decoder.trailers());
      co_return co_await write_client(last);
    }
  }
}

Task<Failure> Relay::relay_until_close(http::ClientFraming framing) {
  const bool chunked = framing == http::ClientFraming::Chunked;
  for (;;) {
    if (from_upstream_.empty()) {
      bool fin = false;
      const ReadResult read = co_await read_upstream();
      Failure f = upstream_read_done(read, &fin);
      if (fin) break;  // the clean close that ends this body; a reset cuts it short (SPEC §3)
      if (f != Failure::None) co_return f;
    }
    char line[24];
    auto data = from_upstream_.data();
    auto size = chunked ? http::chunk_size_line(data.size(), line) : std::string_view{};
    if (Failure f = co_await write_client(size, data, chunked ? "\r\n" : ""); f != Failure::None) {
      co_return f;
    }
    from_upstream_.consume(data.size());
  }
  upstream_keep_alive_ = false;
  if (chunked) co_return co_await write_client(http::kLastChunk);
  co_return Failure::None;
}

/// A wait on the client, like read_client(): a client that does not read is its own stall.
std::array<std::string_view, 4> Relay::to_client(std::string_view a, std::string_view b,
                                                 std::string_view c) {
  client_.arm(Phase::Respond, client_stall_);
  std::array<std::string_view, 4> pieces{};
  size_t i = 0;
  if (response_ == Response::HeadReady) pieces[i++] = client_.response_head;
  pieces[i++] = a;
  pieces[i++] = b;
  pieces[i] = c;
  response_ = Response::Sending;
  bytes_sent_ += a.size() + b.size() + c.size();
  return pieces;
}

Task<Failure> Relay::write_client(std::string_view a, std::string_view b, std::string_view c) {
  auto pieces = to_client(a, b, c);
  boost::system::error_code ec;
  if (write_now(client_.stream, pieces, ec)) co_return ec ? client_write_error() : Failure::None;
  co_return co_await write_client_rest(pieces);
}

Task<Failure> Relay::write_client_rest(std::array<std::string_view, 4> pieces) {
  const Clock::time_point from = tick_now();
  const auto ec = co_await write_rest(client_.stream, pieces);
  deadline_ += tick_now() - from;
  co_return ec ? client_write_error() : Failure::None;
}

Failure Relay::client_write_error() const {
  return client_.client_stalled() ? Failure::ClientTimeout : Failure::ClientGone;
}

void Relay::find_grpc_status(std::string_view name, std::string_view value) {
  if (name.size() == 11 && http::iequals(name, "grpc-status")) grpc_status_ = http::parse_grpc_status(value);
}

/// Upstream operations run under Phase::Upstream, armed at deadline_: a fired deadline there is
/// the upstream's timeout. An abort without it is the client connection going away.
Failure Relay::upstream_error(const boost::system::error_code& ec) const {
  if (client_.upstream_timed_out()) return Failure::Timeout;
  if (ec == net::error::operation_aborted) return Failure::ClientGone;
  return Failure::Reset;
}

Clock::time_point Relay::tick_now() const { return client_.worker.deadlines().now(); }

}  // namespace vane::proxy
