// The time a control-plane component goes by: what time it is, and a wake-up at a given time.
// The analysis runner reads the system clock (run and measurement times are shown to operators),
// the health monitor the steady clock (probe intervals, ejection ends). The process uses
// TimerClock (wake-ups through the control io_context's timers); tests move a manual clock
// instead (tests/control/manual_clock.hpp), so that no unit test waits on real time. Control
// thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "control/asio.hpp"

namespace vane::control {

/// A pending wake-up: destroying it cancels the wake-up if it has not come yet.
class Alarm {
 public:
  virtual ~Alarm() = default;
};

/// `Std` is std::chrono::system_clock or std::chrono::steady_clock.
template <class Std>
class Clock {
 public:
  using TimePoint = typename Std::time_point;

  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  /// Calls `wake` on the control thread once the clock reads `at` or later, never from inside
  /// this call, unless the Alarm is destroyed first. The clock must outlive the Alarm.
  virtual std::unique_ptr<Alarm> wake_at(TimePoint at, std::function<void()> wake) = 0;
};

/// `Std` itself; wake-ups are steady timers on `io` set for the time left until then.
template <class Std>
class TimerClock final : public Clock<Std> {
 public:
  using TimePoint = typename Clock<Std>::TimePoint;

  explicit TimerClock(boost::asio::io_context& io) : io_(io) {}
  TimePoint now() const override { return Std::now(); }
  std::unique_ptr<Alarm> wake_at(TimePoint at, std::function<void()> wake) override;

 private:
  boost::asio::io_context& io_;
};

extern template class TimerClock<std::chrono::system_clock>;
extern template class TimerClock<std::chrono::steady_clock>;

}  // namespace vane::control
