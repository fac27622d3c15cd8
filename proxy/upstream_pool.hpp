// A worker's connections to one upstream: round-robin over its usable endpoints, idle keep-alive
// connections per endpoint, a connection limit per endpoint, and the requests waiting for a free
// slot. Worker thread only: no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"
#include "proxy/config_snapshot.hpp"

namespace vane::proxy {

class H2Upstream;

class UpstreamPool {
 public:
  struct Endpoint {
    const ResolvedEndpoint* target;
    uint32_t index = 0;        ///< of `target` in ConfigSnapshot::endpoints[upstream] (health indices)
    std::vector<Stream> idle;  ///< most recently used last
    uint32_t open = 0;         ///< connections counted against the limit, idle ones included
    uint64_t success_batch = 0;  ///< the worker's outcome batch that last got a success from here
    /// HTTP/2 connections (`protocol: h2`), shared by requests: each counts in `open`.
    std::vector<std::shared_ptr<H2Upstream>> sessions;
    /// HTTP/2 connections being made: requests wait for one rather than each make their own.
    uint32_t connecting = 0;
  };

  enum class Grant {
    Idle,        ///< `socket` holds a kept-alive connection (h2: `session` can take a stream)
    Open,        ///< a slot was reserved: connect, then release() or closed()
    Full,        ///< every endpoint is at its limit: wait()
    NoEndpoint,  ///< no usable endpoint
  };

  /// `limit` is this worker's share of maxConnectionsPerEndpoint.
  UpstreamPool(const std::vector<ResolvedEndpoint>& endpoints, uint32_t limit);
  UpstreamPool(UpstreamPool&&) = default;
  /// clear_idle().
  ~UpstreamPool();

  /// Picks the next usable endpoint round-robin; on another endpoint only when that one is full.
  /// `avoid` (a retry's failed endpoint) is taken only when no other endpoint can serve.
  /// `usable` (indexed by Endpoint::index; null: all) is the health snapshot's row for this
  /// upstream: an endpoint it marks false is skipped, and none usable is NoEndpoint.
  Grant acquire(Endpoint*& endpoint, std::optional<Stream>& socket,
                const Endpoint* avoid = nullptr, const std::vector<bool>* usable = nullptr);

  /// The same for an HTTP/2 upstream: an open connection with room for another stream, or a
  /// slot for a new connection (add_session() once connected).
  Grant acquire(Endpoint*& endpoint, std::shared_ptr<H2Upstream>& session,
                const Endpoint* avoid = nullptr, const std::vector<bool>* usable = nullptr);
  /// An HTTP/2 connection granted by acquire() (Grant::Open) is ready, or (null) failed.
  void add_session(Endpoint& endpoint, std::shared_ptr<H2Upstream> session);
  /// An HTTP/2 connection ended (its slot is free).
  void session_ended(Endpoint& endpoint, H2Upstream& session);
  /// A stream of an HTTP/2 connection ended: a waiting request may take its place.
  void stream_freed() { wake_one(); }

  /// A connection that may be reused goes back to its endpoint's idle list.
  void release(Endpoint& endpoint, Stream socket);
  /// A connection of `endpoint` was closed (or its connect failed).
  void closed(Endpoint& endpoint);

  /// Requests waiting for a slot: each parks a timer that release()/closed() cancel to wake it.
  void wait(Timer& timer) { waiters_.push_back(&timer); }
  void stop_waiting(Timer& timer);

  size_t endpoint_count() const { return endpoints_.size(); }
  /// Closes every idle connection, and every HTTP/2 connection (before the pool, or the worker's
  /// io_context, goes away: no request uses it any more).
  void clear_idle();

 private:
  void wake_one();
  void wake_all();
  /// Round-robin over the usable endpoints, `avoid` last; `take(endpoint)` grants or says Full.
  template <class Take>
  Grant pick(Endpoint*& endpoint, const Endpoint* avoid, const std::vector<bool>* usable, Take take);
  Grant take(Endpoint& candidate, std::optional<Stream>& socket);
  Grant take(Endpoint& candidate, std::shared_ptr<H2Upstream>& session);

  std::vector<Endpoint> endpoints_;
  uint32_t limit_;
  size_t next_ = 0;
  std::vector<Timer*> waiters_;  ///< oldest first; short, so erasing the front is cheap
};

}  // namespace vane::proxy
