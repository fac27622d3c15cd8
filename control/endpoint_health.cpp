#include "control/endpoint_health.hpp"

#include <algorithm>

namespace vane::control {

EndpointHealth::EndpointHealth(size_t endpoints, std::optional<config::HealthCheck> check,
                               EjectionPolicy policy)
    : states_(endpoints), checked_(check.has_value()), policy_(policy) {
  if (check) {
    healthy_threshold_ = std::max<uint32_t>(check->healthy_threshold, 1);
    unhealthy_threshold_ = std::max<uint32_t>(check->unhealthy_threshold, 1);
  }
  policy_.failures = std::max<uint32_t>(policy_.failures, 1);
}

bool EndpointHealth::probe_passed(size_t i, TimePoint now) {
  State& s = states_[i];
  settle(s, now);
  const bool was_usable = usable(i, now);
  const bool was_passed = s.ever_passed;
  s.ever_passed = true;
  if (s.probe != Probe::Unhealthy || ++s.streak >= healthy_threshold_) {
    s.probe = Probe::Healthy;
    s.streak = 0;
  }
  if (s.ejected) {  // a passing probe ends an ejection
    s.ejected = false;
    s.ejected_until = now;
    s.failures = 0;
  }
  return was_usable != usable(i, now) || !was_passed;
}

bool EndpointHealth::probe_failed(size_t i, TimePoint now) {
  State& s = states_[i];
  settle(s, now);
  const bool was_usable = usable(i, now);
  if (s.probe == Probe::Unhealthy) {
    s.streak = 0;
  } else if (++s.streak >= unhealthy_threshold_) {
    s.probe = Probe::Unhealthy;
    s.streak = 0;
  }
  return was_usable != usable(i, now);
}

bool EndpointHealth::passive_failure(size_t i, TimePoint now) {
  State& s = states_[i];
  settle(s, now);
  if (s.ejected) return false;
  s.failures = std::min(s.failures + 1, policy_.failures);
  // Stays at the limit when the half cap refuses: the next failure tries again.
  if (s.failures < policy_.failures) return false;
  const bool was_usable = usable(i, now);
  if (ejected_count(now) >= states_.size() / 2) return false;
  eject(s, now);
  return was_usable;
}

void EndpointHealth::passive_success(size_t i) {
  State& s = states_[i];
  if (!s.ejected) s.failures = 0;
}

bool EndpointHealth::tick(TimePoint now) {
  bool changed = false;
  for (State& s : states_) {
    const bool was_ejected = s.ejected;
    settle(s, now);
    changed = changed || was_ejected != s.ejected;
  }
  return changed;
}

std::optional<EndpointHealth::TimePoint> EndpointHealth::next_expiry() const {
  std::optional<TimePoint> next;
  for (const State& s : states_) {
    if (s.ejected && (!next || s.ejected_until < *next)) next = s.ejected_until;
  }
  return next;
}

bool EndpointHealth::ejected(size_t i, TimePoint now) const {
  return states_[i].ejected && states_[i].ejected_until > now;
}

bool EndpointHealth::usable(size_t i, TimePoint now) const {
  return states_[i].probe != Probe::Unhealthy && !ejected(i, now);
}

bool EndpointHealth::any_usable(TimePoint now) const {
  for (size_t i = 0; i < states_.size(); ++i) {
    if (usable(i, now)) return true;
  }
  return false;
}

bool EndpointHealth::any_passed_probe() const {
  return std::any_of(states_.begin(), states_.end(), [](const State& s) { return s.ever_passed; });
}

std::vector<bool> EndpointHealth::usable_mask(TimePoint now) const {
  std::vector<bool> mask(states_.size());
  for (size_t i = 0; i < states_.size(); ++i) mask[i] = usable(i, now);
  return mask;
}

void EndpointHealth::settle(State& s, TimePoint now) {
  if (!s.ejected || s.ejected_until > now) return;
  s.ejected = false;
  s.failures = 0;
}

void EndpointHealth::eject(State& s, TimePoint now) {
  // Back in for `max` since the last ejection ended: start again from `base`.
  if (s.ejections > 0 && now - s.ejected_until >= policy_.max) s.ejections = 0;
  std::chrono::milliseconds length = policy_.base;
  for (uint32_t n = 0; n < s.ejections && length < policy_.max; ++n) length *= 2;
  length = std::min(length, policy_.max);
  s.ejected = true;
  s.ejected_until = now + length;
  s.failures = 0;
  ++s.ejections;
}

size_t EndpointHealth::ejected_count(TimePoint now) const {
  size_t count = 0;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (ejected(i, now)) ++count;
  }
  return count;
}

}  // namespace vane::control
