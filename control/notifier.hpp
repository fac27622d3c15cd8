// One webhook of `notifications` (SPEC §11): a queue of at most 1000 bodies (when full the oldest
// is dropped and counted), delivered one at a time in order by the control plane's HTTP client,
// each tried up to five times (again 1, 2, 4 and 8 s after a failed attempt: a non-2xx answer, a
// timeout, no connection). Queuing never waits: a slow or hanging receiver delays only its own
// queue, never a rollout or a request. Control thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"

namespace vane::control {

class HttpClient;
struct EventRecord;

class Notifier {
 public:
  static constexpr size_t kQueueLimit = 1000;
  static constexpr int kAttempts = 5;

  struct Counts {
    uint64_t sent = 0;
    uint64_t failed = 0;   ///< after the last attempt
    uint64_t dropped = 0;  ///< from a full queue
  };

  /// `io` and `http` must outlive every delivery (the control thread's).
  Notifier(boost::asio::io_context& io, HttpClient& http, config::Notifier spec);
  /// Stops: the call in flight is cancelled, the queue dropped.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  const config::Notifier& spec() const;
  /// A reloaded spec of the same name: what is queued goes to it.
  void set_spec(config::Notifier spec);
  /// Whether `event` passes the `events` and `rollouts` filters.
  bool wants(const EventRecord& event) const;
  /// Queues a body to POST; starts delivering when idle.
  void post(std::string body);
  const Counts& counts() const;

  struct State;  ///< notifier.cpp

 private:
  std::shared_ptr<State> state_;  ///< shared with the delivering coroutine
};

}  // namespace vane::control
