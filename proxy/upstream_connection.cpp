#include "proxy/upstream_connection.hpp"

#include <algorithm>

#include "proxy/h2/h2_upstream.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {

UpstreamConnection::UpstreamConnection(Downstream& client, Generation& generation)
    : client_(client), generation_(generation) {}

UpstreamConnection::~UpstreamConnection() { release(false); }

bool UpstreamConnection::open_now(uint32_t upstream, const UpstreamPool::Endpoint* avoid, Failure& f) {
  const bool h2 = generation_.snapshot().config->upstreams[upstream].protocol == config::Protocol::H2;
  pool_ = &generation_.pool(upstream);
  std::optional<Stream> idle;
  std::shared_ptr<H2Upstream> session;
  const std::vector<bool>* usable = client_.worker.usable(generation_, upstream);
  grant_ = h2 ? pool_->acquire(endpoint_, session, avoid, usable)
              : pool_->acquire(endpoint_, idle, avoid, usable);
  f = Failure::None;
  switch (grant_) {
    case UpstreamPool::Grant::NoEndpoint:
      f = Failure::NoEndpoint;
      return true;
    case UpstreamPool::Grant::Idle:
      reused_ = true;
      if (h2) {
        open_stream(std::move(session));
      } else {
        stream_ = std::move(idle);
        client_.upstream = &*stream_;
      }
      return true;
    case UpstreamPool::Grant::Full:
    case UpstreamPool::Grant::Open:
      break;
  }
  return false;
}

Task<Failure> UpstreamConnection::open(uint32_t upstream, const UpstreamPool::Endpoint* avoid,
                                       Clock::time_point deadline) {
  const auto& config = generation_.snapshot().config->upstreams[upstream];
  const bool h2 = config.protocol == config::Protocol::H2;
  const Clock::time_point wait_until = Clock::now() + config.connect_timeout;
  while (grant_ == UpstreamPool::Grant::Full) {
    if (Failure f = co_await wait_for_slot(wait_until); f != Failure::None) co_return f;
    Failure f = Failure::None;
    if (open_now(upstream, avoid, f)) co_return f;
  }
  reused_ = false;
  const Failure f = co_await connect(upstream, deadline, h2);
  if (!h2) co_return f;
  if (f != Failure::None) {
    pool_->add_session(*endpoint_, nullptr);
    co_return f;
  }
  client_.upstream = nullptr;
  auto session = std::make_shared<H2Upstream>(client_.worker, std::move(*stream_), config.timeout);
  stream_.reset();
  session->start(*pool_, *endpoint_);
  pool_->add_session(*endpoint_, session);
  open_stream(std::move(session));
  co_return Failure::None;
}

void UpstreamConnection::open_stream(std::shared_ptr<H2Upstream> session) {
  session_ = std::move(session);
  pipe_ = session_->open_stream();
  stream_.emplace(*pipe_, client_.worker.executor(), false);
  client_.upstream = &*stream_;
}

// Connected here rather than in a coroutine of its own: no extra frame per new connection.
Task<Failure> UpstreamConnection::connect(uint32_t upstream, Clock::time_point deadline, bool h2) {
  const auto& config = generation_.snapshot().config->upstreams[upstream];
  stream_.emplace(client_.worker.executor());
  client_.upstream = &*stream_;
  const auto left = std::max<Clock::duration>(deadline - Clock::now(), Clock::duration::zero());
  client_.arm(Phase::Connect, std::min<Clock::duration>(config.connect_timeout, left));
  auto [ec] = co_await stream_->socket().async_connect(endpoint_->target->address, use_tuple);
  if (!ec && !endpoint_->target->tls_name.empty()) {  // https://: the same deadline covers TLS
    const auto& tls = generation_.snapshot().upstream_tls[upstream];
    ec = co_await stream_->client_handshake(tls, endpoint_->target->tls_name, h2);
  }
  if (ec) {
    const bool timed_out = Clock::now() >= deadline;
    release(false);
    co_return timed_out ? Failure::Timeout : Failure::Connect;
  }
  set_up_socket();
  co_return Failure::None;
}

void UpstreamConnection::set_up_socket() {
  boost::system::error_code ignored;
  stream_->socket().non_blocking(true, ignored);
  stream_->socket().set_option(tcp::no_delay(true), ignored);
  if (!stream_->tls()) readiness::watch_peer_close(stream_->socket());
}

Task<Failure> UpstreamConnection::wait_for_slot(Clock::time_point until) {
  if (Clock::now() >= until) co_return Failure::PoolFull;
  if (!slot_timer_) slot_timer_.emplace(client_.worker.executor());
  slot_timer_->expires_at(until);
  pool_->wait(*slot_timer_);
  auto [ec] = co_await slot_timer_->async_wait(use_tuple);
  pool_->stop_waiting(*slot_timer_);
  // Cancelled means a connection was freed: try again. Expired means we waited long enough.
  co_return ec == net::error::operation_aborted ? Failure::None : Failure::PoolFull;
}

void UpstreamConnection::release(bool reusable) {
  client_.upstream = nullptr;
  if (pipe_) {  // the connection stays with the pool; only this stream ends
    stream_.reset();
    session_->close_stream(std::move(pipe_));
    session_.reset();
    return;
  }
  if (!stream_) return;
  if (reusable) {
    pool_->release(*endpoint_, std::move(*stream_));
  } else {
    boost::system::error_code ignored;
    stream_->socket().close(ignored);
    pool_->closed(*endpoint_);
  }
  stream_.reset();
}

}  // namespace vane::proxy
