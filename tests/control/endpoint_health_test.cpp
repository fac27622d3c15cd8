// EndpointHealth: probe thresholds both ways, not-yet-probed endpoints taking traffic, passive
// ejection (count, reset, doubling, expiry, the half cap), probes ending ejections. Explicit time
// points only: nothing sleeps.
#include "control/endpoint_health.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace vane::control {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = EndpointHealth::TimePoint;
using Probe = EndpointHealth::Probe;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1000);

config::HealthCheck check(uint32_t healthy, uint32_t unhealthy) {
  config::HealthCheck c;
  c.healthy_threshold = healthy;
  c.unhealthy_threshold = unhealthy;
  return c;
}

/// Fails endpoint `i` passively `n` times at `now`; true when the last call reported a change.
bool fail(EndpointHealth& h, size_t i, int n, TimePoint now) {
  bool changed = false;
  for (int k = 0; k < n; ++k) changed = h.passive_failure(i, now);
  return changed;
}

// ---- active probes ----

struct ProbeCase {
  const char* name;
  uint32_t healthy;
  uint32_t unhealthy;
  const char* results;  ///< P = probe passed, F = probe failed
  const char* usable;   ///< after each result: 1 usable, 0 not
};

const ProbeCase kProbeCases[] = {
    {"unhealthy after three fails in a row", 2, 3, "FFF", "110"},
    {"stays out while failing", 2, 3, "FFFFF", "11000"},
    {"a pass breaks the fail streak", 2, 3, "FFPFF", "11111"},
    {"back after two passes in a row", 2, 3, "FFFPP", "11001"},
    {"a fail breaks the pass streak", 2, 3, "FFFPFPP", "1100001"},
    {"healthy then three fails", 2, 3, "PPFFF", "11110"},
    {"thresholds of one flip at once", 1, 1, "FPFP", "0101"},
    {"healthy threshold three", 3, 1, "FPPP", "0001"},
    {"threshold zero is taken as one", 0, 0, "FP", "01"},
};

TEST(EndpointHealth, ProbeThresholds) {
  for (const ProbeCase& c : kProbeCases) {
    SCOPED_TRACE(c.name);
    EndpointHealth h(1, check(c.healthy, c.unhealthy));
    const std::string results = c.results;
    for (size_t k = 0; k < results.size(); ++k) {
      const TimePoint now = t0 + seconds(static_cast<int64_t>(k));
      if (results[k] == 'P') {
        h.probe_passed(0, now);
      } else {
        h.probe_failed(0, now);
      }
      EXPECT_EQ(h.usable(0, now), c.usable[k] == '1') << "after result " << k;
    }
  }
}

TEST(EndpointHealth, NotYetProbedIsUsable) {
  EndpointHealth h(3, check(2, 3));
  EXPECT_TRUE(h.has_health_check());
  EXPECT_TRUE(h.any_usable(t0));
  EXPECT_EQ(h.usable_mask(t0), (std::vector<bool>{true, true, true}));
  EXPECT_EQ(h.state(0).probe, Probe::Unknown);
  EXPECT_FALSE(h.any_passed_probe());
}

TEST(EndpointHealth, ProbeMutatorsReportChanges) {
  EndpointHealth h(1, check(2, 2));
  EXPECT_TRUE(h.probe_passed(0, t0));   // first pass: ever_passed
  EXPECT_FALSE(h.probe_passed(0, t0));  // nothing new
  EXPECT_FALSE(h.probe_failed(0, t0));
  EXPECT_TRUE(h.probe_failed(0, t0));  // out
  EXPECT_FALSE(h.probe_passed(0, t0));
  EXPECT_TRUE(h.probe_passed(0, t0));  // back
}

TEST(EndpointHealth, AnyPassedProbe) {
  EndpointHealth h(2, check(2, 1));
  h.probe_failed(0, t0);
  h.probe_failed(1, t0);
  EXPECT_FALSE(h.any_passed_probe());
  EXPECT_FALSE(h.any_usable(t0));
  h.probe_passed(1, t0);
  EXPECT_TRUE(h.any_passed_probe());
  EXPECT_TRUE(h.state(1).ever_passed);
  EXPECT_FALSE(h.state(0).ever_passed);
  h.probe_failed(1, t0);
  EXPECT_TRUE(h.any_passed_probe());  // "has passed", not "passes now"
  EXPECT_FALSE(h.usable(1, t0));
}

TEST(EndpointHealth, WithoutHealthCheck) {
  EndpointHealth h(2, std::nullopt);
  EXPECT_FALSE(h.has_health_check());
  EXPECT_FALSE(h.any_passed_probe());
  EXPECT_TRUE(h.usable(0, t0));
  EXPECT_TRUE(fail(h, 0, 5, t0));
  EXPECT_FALSE(h.usable(0, t0));
  EXPECT_TRUE(h.usable(1, t0));
}

// ---- passive ejection ----

TEST(EndpointHealth, EjectedAfterFiveConsecutiveFailures) {
  EndpointHealth h(3, std::nullopt);
  EXPECT_FALSE(fail(h, 0, 4, t0));
  EXPECT_TRUE(h.usable(0, t0));
  EXPECT_TRUE(h.passive_failure(0, t0));
  EXPECT_FALSE(h.usable(0, t0));
  EXPECT_TRUE(h.ejected(0, t0));
  EXPECT_EQ(h.usable_mask(t0), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(h.next_expiry(), t0 + seconds(30));
}

TEST(EndpointHealth, SuccessResetsTheCount) {
  EndpointHealth h(3, std::nullopt);
  fail(h, 0, 4, t0);
  h.passive_success(0);
  EXPECT_FALSE(fail(h, 0, 4, t0));
  EXPECT_TRUE(h.usable(0, t0));
  EXPECT_TRUE(h.passive_failure(0, t0));
  EXPECT_FALSE(h.usable(0, t0));
}

TEST(EndpointHealth, FailuresWhileEjectedAreIgnored) {
  EndpointHealth h(3, std::nullopt);
  fail(h, 0, 5, t0);
  EXPECT_FALSE(fail(h, 0, 20, t0 + seconds(10)));
  EXPECT_EQ(h.next_expiry(), t0 + seconds(30));  // not extended
  EXPECT_EQ(h.state(0).ejections, 1u);
}

TEST(EndpointHealth, EjectionExpires) {
  EndpointHealth h(3, std::nullopt);
  fail(h, 0, 5, t0);
  EXPECT_FALSE(h.usable(0, t0 + seconds(30) - milliseconds(1)));
  EXPECT_TRUE(h.usable(0, t0 + seconds(30)));  // lazily, before any tick
  EXPECT_FALSE(h.tick(t0 + seconds(29)));
  EXPECT_TRUE(h.tick(t0 + seconds(30)));
  EXPECT_FALSE(h.tick(t0 + seconds(31)));
  EXPECT_EQ(h.next_expiry(), std::nullopt);
  // The count starts again from zero after an ejection.
  EXPECT_FALSE(fail(h, 0, 4, t0 + seconds(31)));
  EXPECT_TRUE(h.usable(0, t0 + seconds(31)));
}

TEST(EndpointHealth, ExpiryWithoutTickStillResetsTheCount) {
  EndpointHealth h(3, std::nullopt);
  fail(h, 0, 5, t0);
  const TimePoint later = t0 + seconds(40);
  EXPECT_FALSE(h.passive_failure(0, later));  // one failure, not a sixth
  EXPECT_TRUE(h.usable(0, later));
}

TEST(EndpointHealth, EjectionDoublesOnRepeat) {
  // Each repeat right after the previous one ended: 30, 60, 120, 240, then the 300 s cap.
  const int64_t expected[] = {30, 60, 120, 240, 300, 300};
  EndpointHealth h(3, std::nullopt);
  TimePoint now = t0;
  for (int64_t length : expected) {
    SCOPED_TRACE(length);
    EXPECT_TRUE(fail(h, 0, 5, now));
    ASSERT_TRUE(h.next_expiry().has_value());
    EXPECT_EQ(*h.next_expiry() - now, seconds(length));
    now = *h.next_expiry();
    EXPECT_TRUE(h.tick(now));
  }
}

TEST(EndpointHealth, DoublingStartsOverAfterAQuietSpell) {
  EndpointHealth h(3, std::nullopt);
  fail(h, 0, 5, t0);                     // 30 s
  fail(h, 0, 5, t0 + seconds(30));       // 60 s, ends at t0 + 90 s
  const TimePoint almost = t0 + seconds(90) + seconds(299);
  fail(h, 0, 5, almost);  // within 300 s of the last ejection's end: 120 s
  EXPECT_EQ(*h.next_expiry() - almost, seconds(120));
  const TimePoint quiet = almost + seconds(120) + seconds(300);
  fail(h, 0, 5, quiet);  // back in for 300 s: from 30 s again
  EXPECT_EQ(*h.next_expiry() - quiet, seconds(30));
}

TEST(EndpointHealth, CustomPolicy) {
  EndpointHealth h(2, std::nullopt, EjectionPolicy{2, milliseconds(100), milliseconds(250)});
  EXPECT_TRUE(fail(h, 0, 2, t0));
  EXPECT_EQ(*h.next_expiry(), t0 + milliseconds(100));
  fail(h, 0, 2, t0 + milliseconds(100));
  EXPECT_EQ(*h.next_expiry(), t0 + milliseconds(300));
  fail(h, 0, 2, t0 + milliseconds(300));
  EXPECT_EQ(*h.next_expiry(), t0 + milliseconds(550));  // 400 capped to 250
}

struct CapCase {
  size_t endpoints;
  size_t max_ejected;
};

TEST(EndpointHealth, NeverMoreThanHalfEjected) {
  const CapCase cases[] = {{1, 0}, {2, 1}, {3, 1}, {4, 2}, {5, 2}};
  for (const CapCase& c : cases) {
    SCOPED_TRACE(c.endpoints);
    EndpointHealth h(c.endpoints, std::nullopt);
    for (size_t i = 0; i < c.endpoints; ++i) fail(h, i, 10, t0);
    size_t ejected = 0;
    for (size_t i = 0; i < c.endpoints; ++i) ejected += h.ejected(i, t0) ? 1u : 0u;
    EXPECT_EQ(ejected, c.max_ejected);
    EXPECT_TRUE(h.any_usable(t0));
  }
}

TEST(EndpointHealth, SingleEndpointIsNeverEjected) {
  EndpointHealth h(1, std::nullopt);
  EXPECT_FALSE(fail(h, 0, 1000, t0));
  EXPECT_TRUE(h.usable(0, t0));
  EXPECT_EQ(h.next_expiry(), std::nullopt);
}

TEST(EndpointHealth, RefusedByTheCapThenEjectedWhenThereIsRoom) {
  EndpointHealth h(2, std::nullopt);
  fail(h, 0, 5, t0);
  EXPECT_FALSE(fail(h, 1, 5, t0));  // the cap (1 of 2) is used by endpoint 0
  EXPECT_TRUE(h.usable(1, t0));
  const TimePoint later = t0 + seconds(30);
  h.tick(later);
  EXPECT_TRUE(h.passive_failure(1, later));  // still failing: one more failure is enough
  EXPECT_FALSE(h.usable(1, later));
  EXPECT_TRUE(h.usable(0, later));
}

TEST(EndpointHealth, PassingProbeEndsAnEjection) {
  EndpointHealth h(3, check(2, 3));
  h.probe_passed(0, t0);
  fail(h, 0, 5, t0);
  EXPECT_FALSE(h.usable(0, t0 + seconds(1)));
  EXPECT_TRUE(h.probe_passed(0, t0 + seconds(1)));
  EXPECT_TRUE(h.usable(0, t0 + seconds(1)));
  EXPECT_FALSE(h.ejected(0, t0 + seconds(1)));
  EXPECT_EQ(h.next_expiry(), std::nullopt);
  // The repeat still doubles: the probe ended the ejection, it did not forgive it.
  fail(h, 0, 5, t0 + seconds(2));
  EXPECT_EQ(*h.next_expiry() - (t0 + seconds(2)), seconds(60));
}

TEST(EndpointHealth, FailingProbeDoesNotEndAnEjection) {
  EndpointHealth h(3, check(2, 3));
  fail(h, 0, 5, t0);
  EXPECT_FALSE(h.probe_failed(0, t0 + seconds(1)));
  EXPECT_TRUE(h.ejected(0, t0 + seconds(1)));
}

TEST(EndpointHealth, ProbeUnhealthyAndEjectedComeBackOnlyWhenBothClear) {
  EndpointHealth h(3, check(1, 1));
  fail(h, 0, 5, t0);
  h.probe_failed(0, t0);
  EXPECT_FALSE(h.usable(0, t0 + seconds(31)));  // ejection over, probe still failing
  EXPECT_TRUE(h.probe_passed(0, t0 + seconds(32)));
  EXPECT_TRUE(h.usable(0, t0 + seconds(32)));
}

TEST(EndpointHealth, RestoreCarriesState) {
  EndpointHealth a(2, check(2, 3));
  a.probe_passed(1, t0);
  fail(a, 1, 5, t0);
  EndpointHealth b(2, check(2, 3));
  b.restore(0, a.state(1));
  EXPECT_EQ(b.state(0), a.state(1));
  EXPECT_TRUE(b.any_passed_probe());
  EXPECT_FALSE(b.usable(0, t0));
}

// ---- the snapshot the workers read ----

TEST(HealthSnapshot, Queries) {
  proxy::HealthSnapshot s;
  s.usable = {{true, false}, {}};
  s.passed_probe = {true, false};
  s.ready = {true, false};
  EXPECT_TRUE(s.usable_endpoint(0, 0));
  EXPECT_FALSE(s.usable_endpoint(0, 1));
  EXPECT_TRUE(s.usable_endpoint(0, 2));  // newer config than the snapshot: usable
  EXPECT_TRUE(s.usable_endpoint(5, 0));
  EXPECT_TRUE(s.upstream_ready(0));
  EXPECT_FALSE(s.upstream_ready(1));
  EXPECT_FALSE(s.upstream_ready(2));
  EXPECT_TRUE(s.any_usable(0));
  EXPECT_FALSE(s.any_usable(1));
  EXPECT_TRUE(s.any_usable(2));
}

}  // namespace
}  // namespace vane::control
