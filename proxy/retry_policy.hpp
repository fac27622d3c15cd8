// The tries of one proxied request (SPEC §3): after a failed attempt, whether to retry on another
// endpoint (`retries`), send a canary's failure once more to stable (`shield`), retry a stale
// pooled connection, or give up. Pure: a function of the request, the route's config and the
// tries so far, so tests drive it by table. One per request, on its worker thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "proxy/failure.hpp"
#include "proxy/http/message.hpp"

namespace vane::proxy {

/// What a request's head allows to be sent more than once; known before its body is read.
struct Replay {
  bool retry = false;  ///< idempotent, empty body: retries and the shield may send it again
  bool stale = false;  ///< no body at all: after a reset on a pooled connection, once more on a
                       ///< fresh one (the upstream cannot have acted on it; as nginx does)
};

/// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (SPEC §3, for retries and the shield).
bool is_idempotent(std::string_view method);
Replay replay_of(std::string_view method, http::Framing framing, uint64_t content_length);

class RetryPolicy {
 public:
  enum class Next : uint8_t {
    Fail,    ///< give up: the failure is the answer
    Stale,   ///< once more on a fresh connection; neither a retry nor the endpoint's fault
    Retry,   ///< once more on the same upstream, another endpoint when there is one
    Shield,  ///< the canary failed: once more on stable (upstream() is stable from now on)
  };

  /// `upstream` serves the first try. `shield` is the canary's shield and `stable` the upstream
  /// it falls back to; both null when the request went to no shielded canary.
  RetryPolicy(Replay replay, const config::Upstream& upstream, const config::Shield* shield,
              const config::Upstream* stable);

  /// The upstream the next try goes to.
  const config::Upstream& upstream() const { return *upstream_; }
  /// The budget of the tries from now on (the first, or the first on stable): a hanging canary
  /// costs a shielded request at most shield.timeout.
  config::Duration timeout() const;
  /// A 5xx answer is dropped (not relayed) because another try may do better.
  bool drops_5xx() const;
  /// After a failed try; `reused`: it ran on a kept-alive connection from the pool.
  Next next(Failure failure, bool reused);
  /// After a response that ended early (Reset, Protocol, Timeout) before any byte of it reached
  /// the client: it counts as a 5xx answer (SPEC §3) and as its own kind, whichever is listed.
  Next next_after_cut(Failure failure);

 private:
  /// Retries first, then the shield, for a failure of kind `failure` or of kind `also`.
  Next next_listed(Failure failure, Failure also);
  /// Whether `failure` is one of the kinds of a `retries.on` / `shield.on` list.
  static bool listed(const std::vector<config::FailureKind>& on, Failure failure);

  const config::Upstream* upstream_;
  const config::Shield* shield_;  ///< until it was used
  const config::Upstream* stable_;
  uint32_t retries_;  ///< left on upstream_
  bool stale_;        ///< the stale-connection try is still available
};

}  // namespace vane::proxy
