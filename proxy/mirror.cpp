#include "proxy/mirror.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proxy/net/buffer.hpp"
#include "proxy/net/deadline.hpp"
#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/net/io.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {
namespace {

/// One copy in flight: its connection, deadline and read buffer.
class Mirror {
 public:
  Mirror(Worker& worker, Generation& generation, MirrorCopy copy)
      : worker_(worker), generation_(worker.pin(generation)), copy_(std::move(copy)), in_(worker.buffers()),
        deadline_(&Mirror::expire, this) {
    worker_.deadlines().add(deadline_);
  }

  Task<void> run();

 private:
  static void expire(void* self) {
    auto* mirror = static_cast<Mirror*>(self);
    boost::system::error_code ignored;
    if (mirror->socket_) mirror->socket_->socket().cancel(ignored);
  }

  Task<bool> connect();
  Task<int> exchange();
  Task<bool> read_more();
  Task<bool> skip_body(const http::ResponseHead& head);

  Worker& worker_;
  GenerationPin generation_;
  MirrorCopy copy_;
  Buffer in_;
  Deadline deadline_;
  UpstreamPool::Endpoint* endpoint_ = nullptr;
  std::optional<Stream> socket_;
  bool reusable_ = false;
};

Task<bool> Mirror::connect() {
  // A copy speaks HTTP/1.1 only: none to an HTTP/2 upstream (counted as a failed copy).
  if (generation_->config().upstreams[copy_.upstream].protocol == config::Protocol::H2) co_return false;
  auto& pool = generation_->pool(copy_.upstream);
  std::optional<Stream> idle;
  const auto* usable = worker_.usable(*generation_, copy_.upstream);
  const auto grant = pool.acquire(endpoint_, idle, nullptr, usable);
  if (grant == UpstreamPool::Grant::Idle) {
    socket_ = std::move(idle);
    co_return true;
  }
  if (grant != UpstreamPool::Grant::Open) co_return false;
  socket_.emplace(worker_.executor());
  const auto& upstream = generation_->snapshot().config->upstreams[copy_.upstream];
  deadline_.arm(upstream.connect_timeout);
  auto [ec] = co_await socket_->socket().async_connect(endpoint_->target->address, use_tuple);
  if (!ec && !endpoint_->target->tls_name.empty()) {  // https://: the same deadline covers TLS
    const auto& tls = generation_->snapshot().upstream_tls[copy_.upstream];
    ec = co_await socket_->client_handshake(tls, endpoint_->target->tls_name);
  }
  if (ec) co_return false;
  boost::system::error_code ignored;
  socket_->socket().non_blocking(true, ignored);
  socket_->socket().set_option(tcp::no_delay(true), ignored);
  co_return true;
}

Task<bool> Mirror::read_more() {
  size_t room = 0;
  char* at = in_.prepare(room, 1, 2 * BufferPool::kBlockSize + 65536);
  auto [ec, n] = co_await socket_->read_some(net::buffer(at, room));
  if (ec) co_return false;
  in_.commit(n);
  co_return true;
}

Task<bool> Mirror::skip_body(const http::ResponseHead& head) {
  if (head.framing == http::Framing::Length) {
    uint64_t remaining = head.content_length;
    while (remaining > 0) {
      if (in_.empty()) {
        const bool more = co_await read_more();
        if (!more) co_return false;
      }
      const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, in_.size()));
      in_.consume(take);
      remaining -= take;
    }
  } else if (head.framing == http::Framing::Chunked) {
    http::ChunkedDecoder decoder;
    while (!decoder.done()) {
      if (in_.empty()) {
        const bool more = co_await read_more();
        if (!more) co_return false;
      }
      auto step = decoder.next(in_.data());
      if (step.status == http::ChunkedDecoder::Status::Error) co_return false;
      in_.consume(step.consumed);
    }
  } else if (head.framing == http::Framing::UntilClose) {
    for (;;) {
      in_.consume(in_.size());
      const bool more = co_await read_more();
      if (!more) co_return false;
    }
  }
  co_return true;
}

/// Sends the copy and reads its answer. The status, or 0 on an upstream failure.
Task<int> Mirror::exchange() {
  const auto& upstream = generation_->snapshot().config->upstreams[copy_.upstream];
  deadline_.arm(upstream.timeout);
  auto ec = co_await write_all(*socket_, copy_.request);
  if (ec) co_return 0;
  http::ResponseHead& head = worker_.mirror_response_scratch();
  for (;;) {
    http::ParseError error;
    const auto parsed = http::parse_response(in_.data(), {8192, 65536, 200}, copy_.head_request, head, error);
    if (parsed == http::ParseStatus::Error) co_return 0;
    if (parsed == http::ParseStatus::Complete) {
      in_.consume(head.head_bytes);
      if (head.status >= 100 && head.status < 200 && head.status != 101) continue;
      break;
    }
    const bool more = co_await read_more();
    if (!more) co_return 0;
  }
  const int status = head.status;
  const bool keep_alive = head.keep_alive;
  const bool complete = co_await skip_body(head);
  reusable_ = complete && keep_alive && in_.empty();
  co_return status;
}

Task<void> Mirror::run() {
  const auto started = Clock::now();
  const bool connected = co_await connect();
  if (!socket_) {
    generation_->stats().mirror_skip(copy_.rollout, MirrorSkip::NoConnection);
    co_return;
  }
  int status = 0;  // a connect failure is a failure of the mirror target, like any other
  if (connected) status = co_await exchange();
  generation_->record(copy_.route, copy_.rollout, copy_.upstream, analysis::Target::Mirror, status,
                 Clock::now() - started);
  deadline_.disarm();
  auto& pool = generation_->pool(copy_.upstream);
  if (reusable_) {
    pool.release(*endpoint_, std::move(*socket_));
  } else {
    boost::system::error_code ignored;
    socket_->socket().close(ignored);
    pool.closed(*endpoint_);
  }
}

}  // namespace

std::string mirror_head(std::string_view head) {
  std::string copy(head.substr(0, head.size() - 2));  // without the final CRLF
  copy.append("X-Vane-Mirror: 1\r\n\r\n");
  return copy;
}

void spawn_mirror(Worker& worker, Generation& generation, MirrorCopy copy) {
  worker.mirror_started();
  generation.pin();  // until the copy's coroutine holds its own pin: it may start later
  net::co_spawn(
      worker.executor(),
      [&worker, &generation, copy = std::move(copy)]() mutable -> Task<void> {
        Mirror mirror(worker, generation, std::move(copy));
        generation.unpin();
        co_await mirror.run();
        worker.mirror_finished();
      },
      net::detached);
}

}  // namespace vane::proxy
