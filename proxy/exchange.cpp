#include "proxy/exchange.hpp"

#include <algorithm>
#include <cstring>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/net/io.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/http/request_id.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/worker.hpp"
#include "proxy/worker_stats.hpp"

namespace vane::proxy {
namespace {

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

/// RequestView's header lookup over a parsed head.
bool find_header(const void* context, std::string_view name, std::string_view& value) {
  for (const auto& field : static_cast<const http::RequestHead*>(context)->fields) {
    if (http::iequals(field.name, name)) {
      value = field.value;
      return true;
    }
  }
  return false;
}

}  // namespace

Exchange::Exchange(Downstream& client, const http::RequestHead& head)
    : client_(client),
      generation_(client.worker.pin()),
      from_upstream_(client.worker.buffers()),
      request_head_(client.request_head),
      response_head_(client.response_head) {
  prepare(head);
}

Exchange::~Exchange() { finish_upstream(false); }

void Exchange::prepare(const http::RequestHead& head) {
  const ConfigSnapshot& snapshot = generation_->snapshot();
  const rollout::RequestView view{head.method, head.host, head.path, &head, &find_header};
  const uint64_t random = client_.worker.random().next();
  const auto& table = client_.worker.table();
  decision_ = table.decide(view, random);
  if (decision_ && decision_->set_cookie) {
    char value[16];
    extra_fields_.assign("Set-Cookie: ").append(table.cookie_name(decision_->rollout)).append("=");
    extra_fields_.append(rollout::cookie_value(random, value)).append("; Path=/; HttpOnly\r\n");
  }
  framing_ = head.framing;
  content_length_ = head.content_length;
  minor_version_ = head.minor_version;
  keep_alive_ = client_keep_alive_ = head.keep_alive;
  expect_continue_ = head.expect_continue;
  head_request_ = head.method == "HEAD";
  idempotent_ = is_idempotent(head.method);
  if (client_.worker.access_log_enabled()) {
    access_method_.assign(head.method);
    access_path_.assign(head.path);
  }

  request_id_ = {};
  for (const auto& field : head.fields) {
    if (field.kind == http::FieldKind::XRequestId && http::valid_request_id(field.value)) {
      std::memcpy(request_id_buf_, field.value.data(), field.value.size());
      request_id_ = {request_id_buf_, field.value.size()};
      break;
    }
  }
  if (request_id_.empty()) {
    char uuid[36];
    auto id = http::make_uuid_v4(client_.worker.random(), uuid);
    std::memcpy(request_id_buf_, id.data(), id.size());
    request_id_ = {request_id_buf_, id.size()};
  }
  if (decision_) {
    const auto& endpoints = snapshot.endpoints[decision_->upstream];
    http::ForwardInfo info{client_.address, client_.stream.tls() ? "https" : "http", request_id_,
                     endpoints.empty() ? std::string_view{} : endpoints.front().authority};
    http::write_request_head(head, info, request_head_);
    request_pending_ = true;
    pool_ = &generation_->pool(decision_->upstream);
  }
  body_done_ = framing_ == http::Framing::None;
  started_ = Clock::now();
  // The in-flight limit is checked here (no copy to assemble) and again when the copy leaves.
  if (decision_ && decision_->mirror >= 0 && !mirrors_full()) {
    if (framing_ == http::Framing::Length && content_length_ > snapshot.config->limits.max_mirror_body_bytes) {
      generation_->stats().mirror_skip(decision_->rollout, MirrorSkip::BodyTooLarge);
    } else {
      mirror_.emplace(MirrorCopy{static_cast<uint32_t>(decision_->mirror), decision_->route,
                                 decision_->rollout, head_request_, mirror_head(request_head_)});
    }
  }
  client_.in.consume(head.head_bytes);
}

void Exchange::capture_for_mirror(std::string_view a, std::string_view b, std::string_view c) {
  if (!mirror_) return;
  mirror_->request.append(a).append(b).append(c);
  const auto& limits = generation_->snapshot().config->limits;
  if (mirror_->request.size() > limits.max_mirror_body_bytes + request_head_.size() + 32) {
    generation_->stats().mirror_skip(decision_->rollout, MirrorSkip::BodyTooLarge);
    mirror_.reset();
  }
}

bool Exchange::mirrors_full() {
  if (client_.worker.mirrors_in_flight() < generation_->snapshot().config->limits.max_mirror_in_flight) {
    return false;
  }
  generation_->stats().mirror_skip(decision_->rollout, MirrorSkip::InFlightLimit);
  return true;
}

void Exchange::send_mirror() {
  if (!mirror_) return;
  // A request not read to its end has no whole copy.
  if (body_done_ && !mirrors_full()) spawn_mirror(client_.worker, *generation_, std::move(*mirror_));
  mirror_.reset();
}

void Exchange::record(Failure failure) {
  if (!decision_) return;
  auto& stats = generation_->stats();
  const uint32_t upstream = decision_->upstream;
  switch (failure) {
    case Failure::Connect: stats.upstream_failure(upstream, FailureKind::Connect); break;
    case Failure::Timeout: stats.upstream_failure(upstream, FailureKind::Timeout); break;
    case Failure::Reset: stats.upstream_failure(upstream, FailureKind::Reset); break;
    case Failure::Protocol: stats.upstream_failure(upstream, FailureKind::Protocol); break;
    default: break;
  }
  const auto took = Clock::now() - started_;
  generation_->record(decision_->route, decision_->rollout, upstream, decision_->target, status_, took);
}

void Exchange::log_access() {
  if (!client_.worker.access_log_enabled()) return;
  std::string address;
  if (endpoint_) address = endpoint_->target->authority;
  client_.worker.log_access(AccessRecord{
      request_id_, access_method_, access_path_, status_,
      decision_ ? analysis::to_string(decision_->target) : std::string_view{}, address, bytes_sent_,
      std::chrono::duration<double>(Clock::now() - started_).count()});
}

Task<bool> Exchange::run() {
  const auto& limits = generation_->snapshot().config->limits;
  if (!decision_) co_return co_await answer(Failure::NoRoute);
  if (framing_ == http::Framing::Length && content_length_ > limits.max_request_body_bytes) {
    co_return co_await answer(Failure::TooLarge);
  }
  Failure failure = co_await forward();
  // The copy goes once forwarding is over (the client has its answer, or an error answer is
  // next): it never competes with the answer for this worker, the network or a shared machine.
  send_mirror();
  if (failure != Failure::None) co_return co_await answer(failure);
  record(Failure::None);
  log_access();
  finish_upstream(upstream_keep_alive_ && body_done_ && response_done_ && from_upstream_.empty());
  co_return keep_alive_ && body_done_ && response_done_ && !client_.worker.draining();
}

Task<Exchange::Failure> Exchange::forward() {
  const config::Config& config = *generation_->snapshot().config;
  const config::Upstream* upstream = &config.upstreams[decision_->upstream];
  // Retries (SPEC §3): idempotent requests whose body is empty, on another endpoint, before any
  // response byte went to the client. A kept-alive connection the upstream closed just before our
  // request is retried once on a fresh connection without counting as a retry (as nginx does).
  const bool replayable = idempotent_ && (framing_ == http::Framing::None ||
                                          (framing_ == http::Framing::Length && content_length_ == 0));
  // Canary shield (SPEC §3): such a request failing on the canary is sent once more to stable;
  // a hanging canary costs the client at most shield.timeout.
  const config::Shield* shield = nullptr;
  if (replayable && decision_->shield >= 0) {
    shield = &*config.rollouts[static_cast<size_t>(decision_->rollout)].canary->shield;
  }
  Clock::duration budget = upstream->timeout;
  if (shield && listed(shield->on, Failure::Timeout)) {
    budget = std::min<Clock::duration>(budget, shield->timeout);
  }
  upstream_deadline_ = Clock::now() + budget;
  uint32_t retries = replayable ? upstream->retries.attempts : 0;
  bool stale_retry = framing_ == http::Framing::None;
  for (;;) {
    Failure f = co_await attempt();
    if (f == Failure::None && status_ >= 500 &&
        ((retries > 0 && listed(upstream->retries.on, Failure::Status5xx)) ||
         (shield && listed(shield->on, Failure::Status5xx)))) {
      f = Failure::Status5xx;  // this answer is dropped: another endpoint may do better
    }
    if (f == Failure::None) break;
    const bool stale = reused_ && f == Failure::Reset && stale_retry;
    if (!stale) report_endpoint(f);  // a pooled connection closed under us: not the endpoint's fault
    avoid_ = endpoint_;
    if (stale) {
      stale_retry = false;
    } else if (retries > 0 && listed(upstream->retries.on, f)) {
      --retries;
      record_attempt(f);
    } else if (shield && listed(shield->on, f)) {
      record_attempt(f);  // the canary's failure counts against it in every measurement
      shield = nullptr;
      decision_->upstream = static_cast<uint32_t>(decision_->shield);
      decision_->target = analysis::Target::Stable;
      upstream = &config.upstreams[decision_->upstream];
      pool_ = &generation_->pool(decision_->upstream);
      retries = upstream->retries.attempts;
      upstream_deadline_ = Clock::now() + upstream->timeout;
      avoid_ = nullptr;
    } else {
      co_return f;
    }
    finish_upstream(false);
    from_upstream_.consume(from_upstream_.size());  // what is left of a dropped answer
    status_ = 0;
    request_pending_ = true;
  }
  Failure relayed = co_await relay_response();
  report_endpoint(relayed);
  co_return relayed;
}

void Exchange::report_endpoint(Failure failure) {
  bool failed = true;
  switch (failure) {
    case Failure::None: failed = status_ >= 500; break;
    case Failure::Connect:
    case Failure::Reset:
    case Failure::Timeout:
    case Failure::Protocol:
    case Failure::Status5xx: break;
    default: return;  // not the endpoint's doing (the client's, or no endpoint at all)
  }
  client_.worker.report_outcome(*generation_, decision_->upstream, *endpoint_, failed);
}

Task<Exchange::Failure> Exchange::attempt() {
  if (Failure f = co_await open_upstream(); f != Failure::None) co_return f;
  Failure f = co_await send_request();
  if (f != Failure::None) co_return f;
  co_return co_await read_response_head();
}

void Exchange::record_attempt(Failure failure) {
  const int final_status = status_;
  status_ = failure == Failure::Status5xx ? status_ : failure == Failure::Timeout ? 504 : 502;
  record(failure);
  status_ = final_status;
}

bool Exchange::listed(const std::vector<config::FailureKind>& on, Failure failure) {
  config::FailureKind kind;
  switch (failure) {
    case Failure::Connect: kind = config::FailureKind::ConnectFailure; break;
    case Failure::Reset: kind = config::FailureKind::Reset; break;
    case Failure::Timeout: kind = config::FailureKind::Timeout; break;
    case Failure::Status5xx: kind = config::FailureKind::Status5xx; break;
    default: return false;
  }
  return std::find(on.begin(), on.end(), kind) != on.end();
}

Task<Exchange::Failure> Exchange::open_upstream() {
  const auto& upstream = generation_->snapshot().config->upstreams[decision_->upstream];
  const Clock::time_point wait_until = Clock::now() + upstream.connect_timeout;
  for (;;) {
    std::optional<Stream> idle;
    const std::vector<bool>* usable = client_.worker.usable(*generation_, decision_->upstream);
    switch (pool_->acquire(endpoint_, idle, avoid_, usable)) {
      case UpstreamPool::Grant::NoEndpoint:
        co_return Failure::NoEndpoint;
      case UpstreamPool::Grant::Full:
        if (Failure f = co_await wait_for_slot(wait_until); f != Failure::None) co_return f;
        continue;
      case UpstreamPool::Grant::Idle:
        upstream_ = std::move(idle);
        client_.upstream = &*upstream_;
        reused_ = true;
        co_return Failure::None;
      case UpstreamPool::Grant::Open:
        break;
    }
    reused_ = false;
    upstream_.emplace(client_.worker.executor());
    client_.upstream = &*upstream_;
    client_.arm(Phase::Connect, std::min<Clock::duration>(upstream.connect_timeout,
                                                          until_upstream_deadline()));
    auto [ec] = co_await upstream_->socket().async_connect(endpoint_->target->address, use_tuple);
    if (!ec && !endpoint_->target->tls_name.empty()) {  // https://: the same deadline covers TLS
      const auto& tls = generation_->snapshot().upstream_tls[decision_->upstream];
      ec = co_await upstream_->client_handshake(tls, endpoint_->target->tls_name);
    }
    if (ec) {
      const bool timed_out = Clock::now() >= upstream_deadline_;
      finish_upstream(false);
      co_return timed_out ? Failure::Timeout : Failure::Connect;
    }
    boost::system::error_code ignored;
    upstream_->socket().non_blocking(true, ignored);
    upstream_->socket().set_option(tcp::no_delay(true), ignored);
    if (!upstream_->tls()) readiness::watch_peer_close(upstream_->socket());
    co_return Failure::None;
  }
}

Task<Exchange::Failure> Exchange::wait_for_slot(Clock::time_point until) {
  if (Clock::now() >= until) co_return Failure::PoolFull;
  if (!slot_timer_) slot_timer_.emplace(client_.worker.executor());
  slot_timer_->expires_at(until);
  pool_->wait(*slot_timer_);
  auto [ec] = co_await slot_timer_->async_wait(use_tuple);
  pool_->stop_waiting(*slot_timer_);
  // Cancelled means a connection was freed: try again. Expired means we waited long enough.
  co_return ec == net::error::operation_aborted ? Failure::None : Failure::PoolFull;
}

Task<Exchange::Failure> Exchange::send_request() {
  client_.arm(Phase::Upstream, until_upstream_deadline());
  if (framing_ == http::Framing::None) co_return co_await write_upstream({});
  if (expect_continue_) {
    expect_continue_ = false;
    const auto ec = co_await write_all(client_.stream, http::kContinue);
    if (ec) co_return Failure::ClientGone;
  }
  if (framing_ == http::Framing::Length) co_return co_await send_length_body();
  co_return co_await send_chunked_body();
}

Task<Exchange::Failure> Exchange::send_length_body() {
  uint64_t remaining = content_length_;
  while (remaining > 0) {
    if (client_.in.empty()) {
      if (Failure f = co_await read_client(Phase::Body); f != Failure::None) co_return f;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, client_.in.size()));
    capture_for_mirror(client_.in.data().substr(0, take));
    if (Failure f = co_await write_upstream(client_.in.data().substr(0, take)); f != Failure::None) {
      co_return f;
    }
    client_.in.consume(take);
    remaining -= take;
  }
  body_done_ = true;
  if (request_pending_) co_return co_await write_upstream({});
  co_return Failure::None;
}

Task<Exchange::Failure> Exchange::send_chunked_body() {
  const auto& limits = generation_->snapshot().config->limits;
  http::ChunkedDecoder decoder(limits.max_request_line_bytes, limits.max_request_header_bytes);
  for (;;) {
    if (client_.in.empty()) {
      if (Failure f = co_await read_client(Phase::Body); f != Failure::None) co_return f;
    }
    auto step = decoder.next(client_.in.data());
    if (step.status == http::ChunkedDecoder::Status::Error) co_return Failure::BadBody;
    if (decoder.body_bytes() > limits.max_request_body_bytes) co_return Failure::TooLarge;
    if (step.status == http::ChunkedDecoder::Status::Data) {
      char line[24];
      auto size = http::chunk_size_line(step.data.size(), line);
      capture_for_mirror(size, step.data, "\r\n");
      if (Failure f = co_await write_upstream(size, step.data, "\r\n"); f != Failure::None) co_return f;
    }
    client_.in.consume(step.consumed);  // NeedMore consumed it all: the decoder keeps partial lines
    if (step.status == http::ChunkedDecoder::Status::Done) {
      body_done_ = true;
      capture_for_mirror(http::kLastChunk);
      co_return co_await write_upstream(http::kLastChunk);
    }
  }
}

Task<Exchange::Failure> Exchange::read_client(Phase phase) {
  const auto& limits = generation_->snapshot().config->limits;
  client_.arm(phase, std::min<Clock::duration>(limits.request_body_timeout, until_upstream_deadline()));
  size_t room = 0;
  char* at = client_.in.prepare(room);
  auto [ec, n] = co_await client_.stream.read_some(net::buffer(at, room));
  if (ec && is_end_of_stream(ec)) co_return Failure::ShortBody;
  if (ec) {
    if (!client_.deadline.fired()) co_return Failure::ClientGone;
    co_return Clock::now() >= upstream_deadline_ ? Failure::Timeout : Failure::ClientTimeout;
  }
  client_.in.commit(n);
  co_return Failure::None;
}

Task<Exchange::Failure> Exchange::write_upstream(std::string_view a, std::string_view b,
                                                 std::string_view c) {
  client_.arm(Phase::Upstream, until_upstream_deadline());
  std::array<std::string_view, 4> pieces{};
  size_t i = 0;
  if (request_pending_) pieces[i++] = request_head_;
  pieces[i++] = a;
  pieces[i++] = b;
  pieces[i] = c;
  request_pending_ = false;
  auto ec = co_await write_all(*upstream_, pieces);
  co_return ec ? upstream_error(ec) : Failure::None;
}

Task<Exchange::Failure> Exchange::read_upstream() {
  size_t room = 0;
  char* at = from_upstream_.prepare(room, 1, 2 * BufferPool::kBlockSize + 65536);
  auto [ec, n] = co_await upstream_->read_some(net::buffer(at, room));
  if (ec) co_return upstream_error(ec);
  from_upstream_.commit(n);
  co_return Failure::None;
}

Task<Exchange::Failure> Exchange::read_response_head() {
  const http::Limits limits{8192, 65536, 200};
  http::ResponseHead& response = client_.worker.response_scratch();
  for (;;) {
    http::ParseError error;
    auto status = http::parse_response(from_upstream_.data(), limits, head_request_, response, error);
    if (status == http::ParseStatus::Error) co_return Failure::Protocol;
    if (status == http::ParseStatus::Complete) {
      if (response.status >= 100 && response.status < 200) {
        if (response.status == 101) co_return Failure::Protocol;  // we never ask to upgrade
        from_upstream_.consume(response.head_bytes);  // interim responses are not forwarded
        continue;
      }
      break;
    }
    client_.arm(Phase::Upstream, until_upstream_deadline());
    if (Failure f = co_await read_upstream(); f != Failure::None) co_return f;
  }
  // Build the client's head now: `response` views the buffer, which the next read may move.
  status_ = response.status;
  response_framing_ = response.framing;
  response_length_ = response.content_length;
  upstream_keep_alive_ = response.keep_alive;
  client_framing_ = http::client_framing(response, minor_version_);
  keep_alive_ = client_keep_alive_ && client_framing_ != http::ClientFraming::Close && body_done_ &&
                !client_.worker.draining();
  http::write_response_head(response, client_framing_, request_id_, keep_alive_, minor_version_,
                      response_head_, extra_fields_);
  from_upstream_.consume(response.head_bytes);
  response_pending_ = true;
  co_return Failure::None;
}

Task<Exchange::Failure> Exchange::relay_response() {
  const http::ClientFraming framing = client_framing_;
  switch (response_framing_) {
    case http::Framing::None:
      break;
    case http::Framing::Length: {
      uint64_t remaining = response_length_;
      while (remaining > 0) {
        if (from_upstream_.empty()) {
          if (Failure f = co_await read_upstream(); f != Failure::None) co_return f;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining, from_upstream_.size()));
        if (Failure f = co_await write_client(from_upstream_.data().substr(0, take)); f != Failure::None) {
          co_return f;
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
  if (response_pending_) {
    if (Failure f = co_await write_client({}); f != Failure::None) co_return f;
  }
  response_done_ = true;
  co_return Failure::None;
}

Task<Exchange::Failure> Exchange::relay_chunked(http::ClientFraming framing) {
  http::ChunkedDecoder decoder;
  for (;;) {
    if (from_upstream_.empty()) {
      if (Failure f = co_await read_upstream(); f != Failure::None) co_return f;
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
      if (framing == http::ClientFraming::Chunked) co_return co_await write_client(http::kLastChunk);
      co_return Failure::None;
    }
  }
}

Task<Exchange::Failure> Exchange::relay_until_close(http::ClientFraming framing) {
  const bool chunked = framing == http::ClientFraming::Chunked;
  for (;;) {
    if (from_upstream_.empty()) {
      Failure f = co_await read_upstream();
      if (f == Failure::Reset) break;  // the close that ends this body
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

Task<Exchange::Failure> Exchange::write_client(std::string_view a, std::string_view b,
                                               std::string_view c) {
  client_.arm(Phase::Upstream, until_upstream_deadline());
  std::array<std::string_view, 4> pieces{};
  size_t i = 0;
  if (response_pending_) pieces[i++] = response_head_;
  pieces[i++] = a;
  pieces[i++] = b;
  pieces[i] = c;
  response_pending_ = false;
  response_started_ = true;
  bytes_sent_ += a.size() + b.size() + c.size();
  auto ec = co_await write_all(client_.stream, pieces);
  if (!ec) co_return Failure::None;
  co_return client_.deadline.fired() ? Failure::Timeout : Failure::ClientGone;
}

Task<bool> Exchange::answer(Failure failure) {
  finish_upstream(false);
  if (failure == Failure::ClientGone || response_started_) {
    record(failure);  // measured with the status already sent (or none)
    log_access();
    co_return false;
  }
  int status = 502;
  switch (failure) {
    case Failure::NoRoute: status = 404; break;
    case Failure::TooLarge: status = 413; break;
    case Failure::BadBody:
    case Failure::ShortBody: status = 400; break;
    case Failure::ClientTimeout: status = 408; break;
    case Failure::NoEndpoint:
    case Failure::PoolFull: status = 503; break;
    case Failure::Timeout: status = 504; break;
    default: status = 502; break;
  }
  status_ = status;
  record(failure);
  log_access();
  // The connection stays usable only when the request was read to its end.
  const bool keep = keep_alive_ && body_done_ && !client_.worker.draining();
  auto ec = co_await write_all(client_.stream, http::canned_response(status, !keep));
  co_return keep && !ec;
}

void Exchange::finish_upstream(bool reusable) {
  client_.upstream = nullptr;
  if (!upstream_) return;
  if (reusable) {
    pool_->release(*endpoint_, std::move(*upstream_));
  } else {
    boost::system::error_code ignored;
    upstream_->socket().close(ignored);
    pool_->closed(*endpoint_);
  }
  upstream_.reset();
}

Exchange::Failure Exchange::upstream_error(const boost::system::error_code& ec) const {
  if (client_.deadline.fired() || ec == net::error::operation_aborted) {
    return Clock::now() >= upstream_deadline_ ? Failure::Timeout : Failure::ClientGone;
  }
  return Failure::Reset;
}

Clock::duration Exchange::until_upstream_deadline() const {
  return std::max<Clock::duration>(upstream_deadline_ - Clock::now(), Clock::duration::zero());
}

}  // namespace vane::proxy
