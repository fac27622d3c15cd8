#include "proxy/net/deadline.hpp"

#include <algorithm>

namespace vane::proxy {

DeadlineWheel::~DeadlineWheel() {
  List all;
  for (List& slot : slots_) detach(slot, all);
  detach(parked_, all);
  while (!all.empty()) {
    all.front().wheel_ = nullptr;
    all.pop_front();
  }
}

void DeadlineWheel::expire(Clock::time_point now) {
  now_ = now;
  // From the last tick's slot (partly walked then) to this tick's (walked again next tick); a
  // worker stalled for more than a turn walks each slot once.
  const int64_t last = std::max(slot_of(now), cursor_);
  const int64_t first = std::max(cursor_, last - static_cast<int64_t>(kSlots) + 1);
  cursor_ = last;
  List walk;
  for (int64_t slot = first; slot <= last; ++slot) {
    detach(slots_[static_cast<size_t>(slot) % kSlots], walk);
    while (!walk.empty()) {
      Deadline& d = walk.front();
      walk.pop_front();
      if (d.at_ <= now) {
        d.fire();
      } else {
        file(d);  // later in this slot, or a turn (or more) ahead
      }
    }
  }
}

void DeadlineWheel::fire_idle() {
  List walk;
  for (List& slot : slots_) detach(slot, walk);
  detach(parked_, walk);
  while (!walk.empty()) {
    Deadline& d = walk.front();
    walk.pop_front();
    if (d.idle_) {
      d.fire();
    } else {
      file(d);
    }
  }
}

bool DeadlineWheel::empty() const {
  return parked_.empty() &&
         std::all_of(slots_.begin(), slots_.end(), [](const List& slot) { return slot.empty(); });
}

}  // namespace vane::proxy
