#include "proxy/retry_policy.hpp"

#include <algorithm>

namespace vane::proxy {

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

Replay replay_of(std::string_view method, http::Framing framing, uint64_t content_length) {
  const bool no_body = framing == http::Framing::None;
  const bool empty_body = no_body || (framing == http::Framing::Length && content_length == 0);
  return Replay{is_idempotent(method) && empty_body, no_body};
}

RetryPolicy::RetryPolicy(Replay replay, const config::Upstream& upstream,
                         const config::Shield* shield, const config::Upstream* stable)
    : upstream_(&upstream),
      shield_(replay.retry && stable ? shield : nullptr),
      stable_(stable),
      retries_(replay.retry ? upstream.retries.attempts : 0),
      stale_(replay.stale) {}

config::Duration RetryPolicy::timeout() const {
  if (shield_ && listed(shield_->on, Failure::Timeout)) {
    return std::min(upstream_->timeout, shield_->timeout);
  }
  return upstream_->timeout;
}

bool RetryPolicy::drops_5xx() const {
  return (retries_ > 0 && listed(upstream_->retries.on, Failure::Status5xx)) ||
         (shield_ && listed(shield_->on, Failure::Status5xx));
}

RetryPolicy::Next RetryPolicy::next(Failure failure, bool reused) {
  // A kept-alive connection the upstream closed just before our request says nothing about the
  // endpoint: once, before the retries proper.
  if (reused && failure == Failure::Reset && stale_) {
    stale_ = false;
    return Next::Stale;
  }
  return next_listed(failure, Failure::None);
}

RetryPolicy::Next RetryPolicy::next_after_cut(Failure failure) {
  return next_listed(failure, Failure::Status5xx);
}

RetryPolicy::Next RetryPolicy::next_listed(Failure failure, Failure also) {
  const auto in = [&](const std::vector<config::FailureKind>& on) {
    return listed(on, failure) || listed(on, also);
  };
  if (retries_ > 0 && in(upstream_->retries.on)) {
    --retries_;
    return Next::Retry;
  }
  if (shield_ && in(shield_->on)) {
    shield_ = nullptr;  // once: stable's own failures are stable's answer
    upstream_ = stable_;
    retries_ = stable_->retries.attempts;
    return Next::Shield;
  }
  return Next::Fail;
}

bool RetryPolicy::listed(const std::vector<config::FailureKind>& on, Failure failure) {
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

}  // namespace vane::proxy
