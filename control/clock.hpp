// The time the analysis runner goes by: what time it is, and a wake-up at a given time. The
// process uses TimerClock (the system clock, waking through the control io_context's timers);
// tests drive a manual clock instead, so that no unit test waits on real time. Control thread.
#pragma once

#include <functional>
#include <memory>

#include "analysis/judge.hpp"
#include "control/asio.hpp"

namespace vane::control {

/// A pending wake-up: destroying it cancels the wake-up if it has not come yet.
class Alarm {
 public:
  virtual ~Alarm() = default;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual analysis::WallTime now() const = 0;
  /// Calls `wake` on the control thread once the clock reads `at` or later, never from inside
  /// this call, unless the Alarm is destroyed first. The clock must outlive the Alarm.
  virtual std::unique_ptr<Alarm> wake_at(analysis::WallTime at, std::function<void()> wake) = 0;
};

/// The system clock; wake-ups are steady timers on `io` set for the time left until then.
class TimerClock final : public Clock {
 public:
  explicit TimerClock(boost::asio::io_context& io) : io_(io) {}
  analysis::WallTime now() const override;
  std::unique_ptr<Alarm> wake_at(analysis::WallTime at, std::function<void()> wake) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace vane::control
