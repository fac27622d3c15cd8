// A Clock that tests move by hand: now() stays put until advance(), which rings, in time order and
// each at its own time, every alarm that falls due on the way. Deterministic; the test's thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "control/clock.hpp"

namespace vane::control {

template <class Std>
class ManualClock final : public Clock<Std> {
 public:
  using TimePoint = typename Clock<Std>::TimePoint;

  explicit ManualClock(TimePoint start = TimePoint{} + std::chrono::hours(1)) : now_(start) {}

  TimePoint now() const override { return now_; }

  std::unique_ptr<Alarm> wake_at(TimePoint at, std::function<void()> wake) override {
    const Key key{at, set_++};
    alarms_.emplace(key, std::move(wake));
    return std::make_unique<ManualAlarm>(*this, key);
  }

  /// Moves the time on by `by`, ringing each alarm that falls due on the way at its own time
  /// (an alarm set while ringing rings too when it is due by then). A ringing alarm may advance
  /// the clock itself (a measurement that takes time).
  void advance(typename Std::duration by) {
    const TimePoint until = now_ + by;
    while (!alarms_.empty() && alarms_.begin()->first.first <= std::max(now_, until)) {
      now_ = std::max(now_, alarms_.begin()->first.first);
      auto wake = std::move(alarms_.begin()->second);
      alarms_.erase(alarms_.begin());
      ++rung_;
      wake();
    }
    now_ = std::max(now_, until);
  }

  /// Alarms set and neither rung nor cancelled.
  size_t pending() const { return alarms_.size(); }
  /// The time of the earliest pending alarm; unset when none is.
  std::optional<TimePoint> next_alarm() const {
    if (alarms_.empty()) return std::nullopt;
    return alarms_.begin()->first.first;
  }
  /// Alarms ever set, and ever rung.
  uint64_t alarms_set() const { return set_; }
  uint64_t rung() const { return rung_; }

 private:
  using Key = std::pair<TimePoint, uint64_t>;  ///< time, then order of setting

  class ManualAlarm final : public Alarm {
   public:
    ManualAlarm(ManualClock& clock, Key key) : clock_(clock), key_(key) {}
    ~ManualAlarm() override { clock_.alarms_.erase(key_); }

   private:
    ManualClock& clock_;
    Key key_;
  };

  TimePoint now_;
  uint64_t set_ = 0;
  uint64_t rung_ = 0;
  std::map<Key, std::function<void()>> alarms_;
};

}  // namespace vane::control
