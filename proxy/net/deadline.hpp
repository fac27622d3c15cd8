// Per-connection deadlines enforced by one coarse timer per worker: arming is a store to an
// integer, not an Asio timer per operation (which costs about 5 µs a request). The tick's time
// doubles as a coarse clock that costs nothing to read. Worker thread only.
#pragma once

#include <chrono>

#include <boost/intrusive/list.hpp>

namespace vane::proxy {

using Clock = std::chrono::steady_clock;

/// One connection's next deadline. When it passes, the worker's DeadlineList calls `expire`,
/// which cancels the connection's pending operations; the owner then sees `fired()`.
class Deadline : public boost::intrusive::list_base_hook<
                     boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Callback = void (*)(void* owner);

  Deadline(Callback expire, void* owner) : expire_(expire), owner_(owner) {}

  void arm(Clock::duration after) { arm_at(Clock::now() + after); }
  void arm_at(Clock::time_point at) {
    at_ = at;
    fired_ = false;
  }
  void disarm() {
    at_ = Clock::time_point::max();
    fired_ = false;
  }
  bool fired() const { return fired_; }
  /// An idle deadline (a keep-alive connection between requests) is fired early on drain.
  void set_idle(bool idle) { idle_ = idle; }
  bool idle() const { return idle_; }
  Clock::time_point at() const { return at_; }

  /// Called by the DeadlineList when `now` is past the deadline.
  void fire() {
    at_ = Clock::time_point::max();
    fired_ = true;
    expire_(owner_);
  }

 private:
  Clock::time_point at_ = Clock::time_point::max();
  bool fired_ = false;
  bool idle_ = false;
  Callback expire_;
  void* owner_;
};

/// The worker's registered deadlines, scanned on each tick.
class DeadlineList {
 public:
  void add(Deadline& d) { list_.push_back(d); }

  /// The time of the last tick: a clock at the tick's resolution, for measuring waits without a
  /// clock read (a wait that spans no tick measures 0; one that spans k ticks about k ticks).
  Clock::time_point now() const { return now_; }

  /// Fires every deadline that is due. Callbacks only cancel sockets (which posts completions,
  /// never runs a handler inline), so no entry is unlinked during the scan.
  void expire(Clock::time_point now) {
    now_ = now;
    for (auto& d : list_) {
      if (d.at() <= now) d.fire();
    }
  }

  /// Fires the deadlines of idle connections: they close at once when the worker drains.
  void fire_idle() {
    for (auto& d : list_) {
      if (d.idle()) d.fire();
    }
  }

  bool empty() const { return list_.empty(); }

 private:
  boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>> list_;
  Clock::time_point now_ = Clock::now();
};

}  // namespace vane::proxy
