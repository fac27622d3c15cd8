// Whether each endpoint of one upstream may take traffic (SPEC §3 "Health"): active probe results
// with healthy/unhealthy thresholds, and passive ejection after consecutive failures. Pure state:
// no I/O, time passed in. Owned by the HealthMonitor on the control thread; the data plane reads
// only the HealthSnapshot (proxy/health_snapshot.hpp) built from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "config/config.hpp"
#include "proxy/health_snapshot.hpp"

namespace vane::control {

/// Passive ejection (SPEC §3): `failures` consecutive failures eject an endpoint for `base`,
/// doubled on each repeat up to `max`. An endpoint that stays in for `max` after its last ejection
/// ended starts again from `base`.
struct EjectionPolicy {
  uint32_t failures = 5;
  std::chrono::milliseconds base{30'000};
  std::chrono::milliseconds max{300'000};
};

class EndpointHealth {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  /// Active probe state of one endpoint. Unknown (not probed yet) takes traffic like Healthy.
  ///
  ///   Unknown ---- a pass -------------------------> Healthy
  ///      |                                            |   ^
  ///      | unhealthyThreshold        unhealthyThreshold|   | healthyThreshold
  ///      | fails in a row                fails in a row|   | passes in a row
  ///      +-----------------------------> Unhealthy <--+   |
  ///                                         +-------------+
  enum class Probe : uint8_t { Unknown, Healthy, Unhealthy };

  struct State {
    Probe probe = Probe::Unknown;
    uint32_t streak = 0;        ///< consecutive probe results against `probe`
    bool ever_passed = false;   ///< some probe of this endpoint has passed
    uint32_t failures = 0;      ///< consecutive passive failures
    uint32_t ejections = 0;     ///< ejections so far: the next lasts base × 2^ejections
    bool ejected = false;       ///< an ejection not yet settled (see ejected())
    TimePoint ejected_until{};  ///< end of the current (or last) ejection
    bool operator==(const State&) const = default;
  };

  /// `check`: the upstream's healthCheck (nullopt: passive ejection only).
  EndpointHealth(size_t endpoints, std::optional<config::HealthCheck> check,
                 EjectionPolicy policy = {});

  // The mutators that return bool return true when what a snapshot shows changed: usable() of
  // some endpoint at `now`, or ever_passed.

  bool probe_passed(size_t i, TimePoint now);  ///< also ends an ejection
  bool probe_failed(size_t i, TimePoint now);
  /// A 5xx answer, connect failure, reset or timeout of a request sent to endpoint `i`.
  /// Ignored while `i` is ejected (requests that were in flight when it went out).
  bool passive_failure(size_t i, TimePoint now);
  void passive_success(size_t i);
  /// Settles the ejections that ended by `now` (their failure count starts again from zero).
  /// True when one did: usable() has changed since the last mutation.
  bool tick(TimePoint now);
  /// When the earliest running ejection ends; nullopt when none runs.
  std::optional<TimePoint> next_expiry() const;

  /// Healthy or not yet probed, and not ejected.
  bool usable(size_t i, TimePoint now) const;
  bool ejected(size_t i, TimePoint now) const;
  bool any_usable(TimePoint now) const;
  bool any_passed_probe() const;
  bool has_health_check() const { return checked_; }
  std::vector<bool> usable_mask(TimePoint now) const;
  size_t size() const { return states_.size(); }

  /// For carrying an endpoint's history over a reload.
  const State& state(size_t i) const { return states_[i]; }
  void restore(size_t i, const State& state) { states_[i] = state; }

 private:
  void settle(State& s, TimePoint now);
  void eject(State& s, TimePoint now);
  size_t ejected_count(TimePoint now) const;

  std::vector<State> states_;
  bool checked_;
  uint32_t healthy_threshold_ = 1;
  uint32_t unhealthy_threshold_ = 1;
  EjectionPolicy policy_;
};

}  // namespace vane::control
