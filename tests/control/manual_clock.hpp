// A Clock that tests move by hand: now() stays put until advance(), which rings, in time order,
// every alarm that has fallen due. Deterministic; the test's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "control/clock.hpp"

namespace vane::control {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(analysis::WallTime start) : now_(start) {}

  analysis::WallTime now() const override { return now_; }

  std::unique_ptr<Alarm> wake_at(analysis::WallTime at, std::function<void()> wake) override {
    const uint64_t id = next_id_++;
    alarms_.emplace(Key{at, id}, std::move(wake));
    return std::make_unique<ManualAlarm>(*this, Key{at, id});
  }

  /// Moves the time forward and rings what fell due, earliest first (an alarm set while ringing
  /// rings too when it is due by then).
  void advance(analysis::WallTime::duration by) {
    now_ += by;
    while (!alarms_.empty() && alarms_.begin()->first.first <= now_) {
      auto wake = std::move(alarms_.begin()->second);
      alarms_.erase(alarms_.begin());
      wake();
    }
  }

  /// Alarms set and not yet rung nor cancelled.
  size_t pending() const { return alarms_.size(); }
  /// The time of the earliest pending alarm; unset when none is.
  std::optional<analysis::WallTime> next_alarm() const {
    if (alarms_.empty()) return std::nullopt;
    return alarms_.begin()->first.first;
  }

 private:
  using Key = std::pair<analysis::WallTime, uint64_t>;  ///< time, then order of setting

  class ManualAlarm final : public Alarm {
   public:
    ManualAlarm(ManualClock& clock, Key key) : clock_(clock), key_(key) {}
    ~ManualAlarm() override { clock_.alarms_.erase(key_); }

   private:
    ManualClock& clock_;
    Key key_;
  };

  analysis::WallTime now_;
  uint64_t next_id_ = 0;
  std::map<Key, std::function<void()>> alarms_;
};

}  // namespace vane::control
