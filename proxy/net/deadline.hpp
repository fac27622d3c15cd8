// Per-connection deadlines enforced by one coarse timer per worker: arming moves an intrusive
// node between two lists, not an Asio timer per operation (which costs about 5 µs a request).
// The worker's DeadlineWheel hashes deadlines into slots by time, so its tick visits the slots
// that fell due, not every connection. The tick's time doubles as a coarse clock that costs
// nothing to read. Worker thread only.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include <boost/intrusive/list.hpp>

namespace vane::proxy {

using Clock = std::chrono::steady_clock;

class DeadlineWheel;

/// One connection's next deadline. When it passes, the worker's DeadlineWheel calls `expire`,
/// which cancels the connection's pending operations; the owner then sees `fired()`.
class Deadline : public boost::intrusive::list_base_hook<
                     boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Callback = void (*)(void* owner);

  Deadline(Callback expire, void* owner) : expire_(expire), owner_(owner) {}
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void arm(Clock::duration after) { arm_at(Clock::now() + after); }
  inline void arm_at(Clock::time_point at);
  void disarm() { arm_at(Clock::time_point::max()); }
  bool fired() const { return fired_; }
  /// An idle deadline (a keep-alive connection between requests) is fired early on drain.
  void set_idle(bool idle) { idle_ = idle; }
  bool idle() const { return idle_; }
  Clock::time_point at() const { return at_; }

  /// Called by the DeadlineWheel when `now` is past the deadline (or on drain, when idle).
  inline void fire();

 private:
  friend class DeadlineWheel;

  Clock::time_point at_ = Clock::time_point::max();
  DeadlineWheel* wheel_ = nullptr;  ///< the wheel it was added to, which files it by `at_`
  bool fired_ = false;
  bool idle_ = false;
  Callback expire_;
  void* owner_;
};

/// The worker's registered deadlines: a hashed timing wheel of kSlots slots kSlotWidth wide.
/// A deadline lives in the slot of its time's absolute slot number modulo kSlots; one more than
/// a revolution ahead shares a slot with nearer ones and is looked at (and put back) once per
/// revolution. A tick walks the slots from the last tick's up to its own: the cost follows what
/// fell due, plus the far deadlines met on the way. Disarmed and fired deadlines are parked.
class DeadlineWheel {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr Clock::duration kSlotWidth = std::chrono::milliseconds(50);  ///< 204.8 s a turn

  DeadlineWheel() = default;
  DeadlineWheel(const DeadlineWheel&) = delete;
  DeadlineWheel& operator=(const DeadlineWheel&) = delete;
  /// The deadlines stay usable on their own: they forget the wheel.
  ~DeadlineWheel();

  void add(Deadline& d) {
    d.wheel_ = this;
    file(d);
  }

  /// The time of the last tick: a clock at the tick's resolution, for measuring waits without a
  /// clock read (a wait that spans no tick measures 0; one that spans k ticks about k ticks).
  Clock::time_point now() const { return now_; }

  /// Fires every deadline that is due. Callbacks only cancel sockets (which posts completions,
  /// never runs a handler inline); a due slot is detached before its walk, so a deadline re-armed
  /// or destroyed meanwhile only leaves the walk.
  void expire(Clock::time_point now);

  /// Fires the deadlines of idle connections: they close at once when the worker drains. Visits
  /// every deadline (drain is rare).
  void fire_idle();

  /// No deadline registered. Visits every slot: for tests.
  bool empty() const;

 private:
  friend class Deadline;
  using List = boost::intrusive::list<Deadline, boost::intrusive::constant_time_size<false>>;

  static int64_t slot_of(Clock::time_point at) { return at.time_since_epoch() / kSlotWidth; }

  /// Links `d` where its time says: parked when it has none, the cursor's slot when it is due.
  void file(Deadline& d) {
    d.unlink();
    if (d.at_ == Clock::time_point::max()) {
      parked_.push_back(d);
      return;
    }
    const int64_t slot = std::max(slot_of(d.at_), cursor_);
    slots_[static_cast<size_t>(slot) % kSlots].push_back(d);
  }

  /// Empties `from` into `to`, for a walk that the lists' changes cannot disturb.
  static void detach(List& from, List& to) { to.splice(to.end(), from); }

  std::array<List, kSlots> slots_;
  List parked_;
  int64_t cursor_ = 0;  ///< the absolute slot of the last tick: every earlier one is empty
  Clock::time_point now_ = Clock::now();
};

void Deadline::arm_at(Clock::time_point at) {
  at_ = at;
  fired_ = false;
  if (wheel_) wheel_->file(*this);
}

void Deadline::fire() {
  at_ = Clock::time_point::max();
  fired_ = true;
  if (wheel_) wheel_->file(*this);
  expire_(owner_);
}

}  // namespace vane::proxy
