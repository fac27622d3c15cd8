#include "proxy/upstream_pool.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "proxy/h2/h2_upstream.hpp"
#include "proxy/net/readiness.hpp"

namespace vane::proxy {
namespace {

/// True when a kept-alive connection is still open and has nothing unread: an upstream that
/// closed an idle connection has left an EOF (or a reset, or a TLS close_notify) to read.
/// A plain connection known empty with no event since needs no peek: a close or stray bytes would
/// have come with an event (readiness.hpp).
bool still_open(Stream& stream) {
  Socket& socket = stream.socket();
  const bool plain = !stream.tls();
  if (plain && !readiness::maybe_readable(socket)) return true;
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  const bool open = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  if (open && plain) readiness::found_empty(socket);
  return open;
}

}  // namespace

UpstreamPool::UpstreamPool(const std::vector<ResolvedEndpoint>& endpoints, uint32_t limit)
    : limit_(std::max<uint32_t>(limit, 1)) {
  endpoints_.reserve(endpoints.size());
  for (uint32_t i = 0; i < endpoints.size(); ++i) {
    if (endpoints[i].resolved) endpoints_.push_back(Endpoint{&endpoints[i], i, {}, 0, 0, {}});
  }
}

UpstreamPool::~UpstreamPool() { clear_idle(); }

template <class Take>
UpstreamPool::Grant UpstreamPool::pick(Endpoint*& endpoint, const Endpoint* avoid,
                                       const std::vector<bool>* usable, Take take) {
  if (endpoints_.empty()) return Grant::NoEndpoint;
  const size_t start = next_++ % endpoints_.size();
  bool any_usable = false;
  // Two passes: the endpoint to avoid only when nothing else could serve.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      auto& candidate = endpoints_[(start + i) % endpoints_.size()];
      if ((&candidate == avoid) != (pass == 1)) continue;
      if (usable && candidate.index < usable->size() && !(*usable)[candidate.index]) continue;
      any_usable = true;
      if (auto grant = take(candidate); grant != Grant::Full) {
        endpoint = &candidate;
        return grant;
      }
    }
    if (!avoid) break;
  }
  return any_usable ? Grant::Full : Grant::NoEndpoint;
}

UpstreamPool::Grant UpstreamPool::acquire(Endpoint*& endpoint, std::optional<Stream>& socket,
                                          const Endpoint* avoid, const std::vector<bool>* usable) {
  return pick(endpoint, avoid, usable, [&](Endpoint& candidate) { return take(candidate, socket); });
}

UpstreamPool::Grant UpstreamPool::acquire(Endpoint*& endpoint, std::shared_ptr<H2Upstream>& session,
                                          const Endpoint* avoid, const std::vector<bool>* usable) {
  return pick(endpoint, avoid, usable, [&](Endpoint& candidate) { return take(candidate, session); });
}

UpstreamPool::Grant UpstreamPool::take(Endpoint& candidate, std::shared_ptr<H2Upstream>& session) {
  for (const auto& open : candidate.sessions) {
    if (open->available()) {
      session = open;
      return Grant::Idle;
    }
  }
  if (candidate.connecting > 0) return Grant::Full;  // its streams will do: wait for it
  if (candidate.open < limit_) {
    ++candidate.open;
    ++candidate.connecting;
    return Grant::Open;
  }
  return Grant::Full;
}

void UpstreamPool::add_session(Endpoint& endpoint, std::shared_ptr<H2Upstream> session) {
  --endpoint.connecting;
  if (session) endpoint.sessions.push_back(std::move(session));
  wake_all();  // every request that waited for it; or, failed, one of them tries anew
}

void UpstreamPool::session_ended(Endpoint& endpoint, H2Upstream& session) {
  auto& sessions = endpoint.sessions;
  const auto it = std::find_if(sessions.begin(), sessions.end(),
                               [&](const auto& s) { return s.get() == &session; });
  if (it == sessions.end()) return;
  sessions.erase(it);
  closed(endpoint);
}

UpstreamPool::Grant UpstreamPool::take(Endpoint& candidate, std::optional<Stream>& socket) {
  while (!candidate.idle.empty()) {
    Stream s = std::move(candidate.idle.back());
    candidate.idle.pop_back();
    if (still_open(s)) {
      socket.emplace(std::move(s));
      return Grant::Idle;
    }
    --candidate.open;  // dropped: closed by the upstream while idle
  }
  if (candidate.open < limit_) {
    ++candidate.open;
    return Grant::Open;
  }
  return Grant::Full;
}

void UpstreamPool::release(Endpoint& endpoint, Stream socket) {
  endpoint.idle.push_back(std::move(socket));
  wake_one();
}

void UpstreamPool::closed(Endpoint& endpoint) {
  --endpoint.open;
  wake_one();
}

void UpstreamPool::clear_idle() {
  for (auto& endpoint : endpoints_) {
    endpoint.open -= static_cast<uint32_t>(endpoint.idle.size());
    endpoint.idle.clear();
    // HTTP/2 connections: no request uses them any more. Each ends on its own; dropped here, so
    // that none outlives the worker's io_context through this pool.
    for (auto& session : endpoint.sessions) {
      session->detach();
      session->close();
    }
    endpoint.open -= static_cast<uint32_t>(endpoint.sessions.size());
    endpoint.sessions.clear();
  }
}

void UpstreamPool::stop_waiting(Timer& timer) {
  auto it = std::find(waiters_.begin(), waiters_.end(), &timer);
  if (it != waiters_.end()) waiters_.erase(it);
}

void UpstreamPool::wake_all() {
  for (Timer* timer : waiters_) timer->cancel();
  waiters_.clear();
}

void UpstreamPool::wake_one() {
  if (waiters_.empty()) return;
  Timer* timer = waiters_.front();
  waiters_.erase(waiters_.begin());
  timer->cancel();
}

}  // namespace vane::proxy
