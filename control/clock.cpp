#include "control/clock.hpp"

namespace vane::control {
namespace {

/// Owns the wake-up: once the alarm is gone, a timer completion already queued finds nothing to
/// call (cancelling the timer alone would not stop it).
struct TimerAlarm final : Alarm {
  TimerAlarm(net::io_context& io, std::function<void()> w)
      : timer(io), wake(std::make_shared<std::function<void()>>(std::move(w))) {}
  Timer timer;
  std::shared_ptr<std::function<void()>> wake;
};

}  // namespace

template <class Std>
std::unique_ptr<Alarm> TimerClock<Std>::wake_at(TimePoint at, std::function<void()> wake) {
  auto alarm = std::make_unique<TimerAlarm>(io_, std::move(wake));
  // A steady timer for the time left: the owner re-reads now() when woken, so a step of the
  // system clock meanwhile only moves the wake-up.
  alarm->timer.expires_after(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(at - now()));
  alarm->timer.async_wait([weak = std::weak_ptr(alarm->wake)](boost::system::error_code ec) {
    const auto call = weak.lock();
    if (!ec && call) (*call)();
  });
  return alarm;
}

template class TimerClock<std::chrono::system_clock>;
template class TimerClock<std::chrono::steady_clock>;

}  // namespace vane::control
