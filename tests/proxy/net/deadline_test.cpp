// Deadline and DeadlineWheel: arming files a deadline by its time, the worker's tick fires what is
// due, drain fires what is idle, and a destroyed Deadline leaves the wheel by itself. The wheel is
// checked against a plain scan of every deadline on random schedules. Explicit time points only.
#include "proxy/net/deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <random>
#include <vector>

namespace vane::proxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);

/// The owner a Deadline calls back: counts the calls it received.
struct Owner {
  int expired = 0;
  static void on_expire(void* self) { ++static_cast<Owner*>(self)->expired; }
};

/// A deadline together with its owner, so each test reads which ones fired.
struct Conn {
  Owner owner;
  Deadline deadline{&Owner::on_expire, &owner};
};

TEST(Deadline, StartsDisarmed) {
  Conn c;
  EXPECT_EQ(c.deadline.at(), Clock::time_point::max());
  EXPECT_FALSE(c.deadline.fired());
  EXPECT_FALSE(c.deadline.idle());
  EXPECT_EQ(c.owner.expired, 0);
}

TEST(Deadline, ArmAtStoresTheTimePoint) {
  Conn c;
  c.deadline.arm_at(t0 + seconds(5));
  EXPECT_EQ(c.deadline.at(), t0 + seconds(5));
  EXPECT_FALSE(c.deadline.fired());
  c.deadline.arm_at(t0 + seconds(1));  // re-arming replaces, earlier or later
  EXPECT_EQ(c.deadline.at(), t0 + seconds(1));
}

TEST(Deadline, ArmIsRelativeToNow) {
  Conn c;
  const auto before = Clock::now();
  c.deadline.arm(seconds(10));
  const auto after = Clock::now();
  EXPECT_GE(c.deadline.at(), before + seconds(10));
  EXPECT_LE(c.deadline.at(), after + seconds(10));
}

TEST(Deadline, DisarmClearsTheTimeAndTheFiredFlag) {
  Conn c;
  c.deadline.arm_at(t0);
  c.deadline.disarm();
  EXPECT_EQ(c.deadline.at(), Clock::time_point::max());
  c.deadline.fire();
  ASSERT_TRUE(c.deadline.fired());
  c.deadline.disarm();
  EXPECT_FALSE(c.deadline.fired());
}

TEST(Deadline, FireCallsTheOwnerOnceAndDisarms) {
  Conn c;
  c.deadline.arm_at(t0);
  c.deadline.fire();
  EXPECT_TRUE(c.deadline.fired());
  EXPECT_EQ(c.owner.expired, 1);
  EXPECT_EQ(c.deadline.at(), Clock::time_point::max());
}

TEST(Deadline, ArmingAgainClearsFired) {
  Conn c;
  c.deadline.fire();
  ASSERT_TRUE(c.deadline.fired());
  c.deadline.arm_at(t0 + seconds(1));
  EXPECT_FALSE(c.deadline.fired());
  c.deadline.fire();
  ASSERT_TRUE(c.deadline.fired());
  c.deadline.arm(seconds(1));
  EXPECT_FALSE(c.deadline.fired());
}

TEST(Deadline, IdleFlag) {
  Conn c;
  c.deadline.set_idle(true);
  EXPECT_TRUE(c.deadline.idle());
  c.deadline.set_idle(false);
  EXPECT_FALSE(c.deadline.idle());
}

TEST(DeadlineWheel, EmptyUntilAdded) {
  DeadlineWheel list;
  EXPECT_TRUE(list.empty());
  Conn c;
  list.add(c.deadline);
  EXPECT_FALSE(list.empty());
}

TEST(DeadlineWheel, ExpireFiresOnlyDueDeadlines) {
  DeadlineWheel list;
  Conn past, exact, future, disarmed;
  past.deadline.arm_at(t0 - milliseconds(1));
  exact.deadline.arm_at(t0);
  future.deadline.arm_at(t0 + milliseconds(1));
  for (Conn* c : {&past, &exact, &future, &disarmed}) list.add(c->deadline);

  list.expire(t0);
  EXPECT_EQ(past.owner.expired, 1);
  EXPECT_EQ(exact.owner.expired, 1);  // due at `now` counts as passed
  EXPECT_EQ(future.owner.expired, 0);
  EXPECT_EQ(disarmed.owner.expired, 0);
  EXPECT_TRUE(past.deadline.fired());
  EXPECT_TRUE(exact.deadline.fired());
  EXPECT_FALSE(future.deadline.fired());
  EXPECT_FALSE(disarmed.deadline.fired());
}

TEST(DeadlineWheel, AFiredDeadlineDoesNotFireAgainUntilRearmed) {
  DeadlineWheel list;
  Conn c;
  list.add(c.deadline);
  c.deadline.arm_at(t0);
  list.expire(t0);
  list.expire(t0 + seconds(1));
  list.expire(t0 + seconds(100));
  EXPECT_EQ(c.owner.expired, 1);
  c.deadline.arm_at(t0 + seconds(200));
  list.expire(t0 + seconds(199));
  EXPECT_EQ(c.owner.expired, 1);
  list.expire(t0 + seconds(200));
  EXPECT_EQ(c.owner.expired, 2);
}

TEST(DeadlineWheel, DisarmedBeforeTheTickDoesNotFire) {
  DeadlineWheel list;
  Conn c;
  list.add(c.deadline);
  c.deadline.arm_at(t0);
  c.deadline.disarm();
  list.expire(t0 + seconds(3600));
  EXPECT_EQ(c.owner.expired, 0);
  EXPECT_FALSE(c.deadline.fired());
}

TEST(DeadlineWheel, ExpireInSteps) {
  // Ticks walk forward; each deadline fires on the first tick at or after it.
  DeadlineWheel list;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < 10; ++i) {
    conns.push_back(std::make_unique<Conn>());
    conns.back()->deadline.arm_at(t0 + milliseconds(100 * i));
    list.add(conns.back()->deadline);
  }
  for (int tick = 0; tick < 10; ++tick) {
    list.expire(t0 + milliseconds(100 * tick + 50));
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(conns[static_cast<size_t>(i)]->owner.expired, i <= tick ? 1 : 0)
          << "tick " << tick << " deadline " << i;
    }
  }
}

TEST(DeadlineWheel, NowIsTheLastTick) {
  // The coarse clock measures a wait as the ticks it spanned: none, nothing.
  DeadlineWheel list;
  list.expire(t0);
  EXPECT_EQ(list.now(), t0);
  const auto from = list.now();
  EXPECT_EQ(list.now() - from, milliseconds(0));
  list.expire(t0 + milliseconds(50));
  list.expire(t0 + milliseconds(100));
  EXPECT_EQ(list.now() - from, milliseconds(100));
}

TEST(DeadlineWheel, FireIdleFiresOnlyIdleOnes) {
  DeadlineWheel list;
  Conn idle_armed, idle_disarmed, busy_due, busy;
  idle_armed.deadline.arm_at(t0 + seconds(60));
  idle_armed.deadline.set_idle(true);
  idle_disarmed.deadline.set_idle(true);
  busy_due.deadline.arm_at(t0);
  busy.deadline.arm_at(t0 + seconds(60));
  for (Conn* c : {&idle_armed, &idle_disarmed, &busy_due, &busy}) list.add(c->deadline);

  list.fire_idle();
  EXPECT_EQ(idle_armed.owner.expired, 1);
  EXPECT_EQ(idle_disarmed.owner.expired, 1);
  EXPECT_EQ(busy_due.owner.expired, 0);  // drain is not a tick: due ones wait for expire()
  EXPECT_EQ(busy.owner.expired, 0);
  EXPECT_TRUE(idle_armed.deadline.fired());
  EXPECT_FALSE(busy.deadline.fired());
}

TEST(DeadlineWheel, ADestroyedDeadlineIsNoLongerVisited) {
  DeadlineWheel list;
  Conn keep_before, keep_after;
  keep_before.deadline.arm_at(t0);
  list.add(keep_before.deadline);
  int gone_expired = 0;
  {
    Owner gone_owner;
    Deadline gone(&Owner::on_expire, &gone_owner);
    gone.arm_at(t0);
    gone.set_idle(true);
    list.add(gone);
    keep_after.deadline.arm_at(t0);
    keep_after.deadline.set_idle(true);
    list.add(keep_after.deadline);
    list.expire(t0 - seconds(1));  // nothing due yet
    gone_expired = gone_owner.expired;
  }
  EXPECT_EQ(gone_expired, 0);
  // Visiting a destroyed Deadline would call through a dangling owner (ASan reports it) and would
  // be counted nowhere; the two survivors are visited as before.
  list.expire(t0);
  list.fire_idle();
  EXPECT_EQ(keep_before.owner.expired, 1);
  EXPECT_EQ(keep_after.owner.expired, 2);  // due at t0, then idle on drain
  EXPECT_FALSE(list.empty());
}

TEST(DeadlineWheel, EmptyAgainWhenEveryDeadlineIsDestroyed) {
  DeadlineWheel list;
  {
    Conn a, b;
    list.add(a.deadline);
    list.add(b.deadline);
    EXPECT_FALSE(list.empty());
  }
  EXPECT_TRUE(list.empty());
  list.expire(t0);  // nothing to visit, nothing dangling
  list.fire_idle();
}

TEST(DeadlineWheel, DestroyingTheListFirstIsSafe) {
  Conn c;
  {
    DeadlineWheel list;
    list.add(c.deadline);
  }
  c.deadline.arm_at(t0);  // still usable on its own
  c.deadline.fire();
  EXPECT_EQ(c.owner.expired, 1);
}

TEST(DeadlineWheel, AFarDeadlineFiresOnTimeAfterManyTurns) {
  // Hours ahead: the slot is met once per turn (204.8 s) and kept until the time has come.
  DeadlineWheel wheel;
  Conn c;
  wheel.add(c.deadline);
  c.deadline.arm_at(t0 + std::chrono::hours(3) + milliseconds(10));
  for (auto now = t0; now < t0 + std::chrono::hours(3); now += milliseconds(50)) {
    wheel.expire(now);
    ASSERT_EQ(c.owner.expired, 0) << "fired early, " << (now - t0) / milliseconds(1) << " ms";
  }
  wheel.expire(t0 + std::chrono::hours(3));
  EXPECT_EQ(c.owner.expired, 0);
  wheel.expire(t0 + std::chrono::hours(3) + milliseconds(50));
  EXPECT_EQ(c.owner.expired, 1);
}

TEST(DeadlineWheel, AStallLongerThanATurnFiresEverythingDue) {
  DeadlineWheel wheel;
  Conn near, far, later;
  for (Conn* c : {&near, &far, &later}) wheel.add(c->deadline);
  wheel.expire(t0);
  near.deadline.arm_at(t0 + seconds(1));
  far.deadline.arm_at(t0 + seconds(500));
  later.deadline.arm_at(t0 + seconds(2000));
  wheel.expire(t0 + seconds(1000));  // one tick after several turns
  EXPECT_EQ(near.owner.expired, 1);
  EXPECT_EQ(far.owner.expired, 1);
  EXPECT_EQ(later.owner.expired, 0);
  wheel.expire(t0 + seconds(2000));
  EXPECT_EQ(later.owner.expired, 1);
}

/// An owner whose callback re-arms deadlines while the tick walks: its own, or another's.
struct Rearming {
  DeadlineWheel* wheel = nullptr;
  Deadline* self = nullptr;
  Deadline* other = nullptr;
  Clock::time_point other_at = Clock::time_point::max();
  std::vector<Clock::time_point> fired_at;
  static void on_expire(void* p) {
    auto& r = *static_cast<Rearming*>(p);
    r.fired_at.push_back(r.wheel->now());
    if (r.fired_at.size() < 3) r.self->arm_at(r.wheel->now() + seconds(1));
    if (r.other) r.other->arm_at(r.other_at);
  }
};

TEST(DeadlineWheel, ReArmedDuringTheTickMovesSafely) {
  DeadlineWheel wheel;
  Rearming a;
  Deadline da(&Rearming::on_expire, &a);
  Conn same_slot, moved_far;
  a.wheel = &wheel;
  a.self = &da;
  a.other = &moved_far.deadline;
  a.other_at = t0 + seconds(3600);
  for (Deadline* d : {&da, &same_slot.deadline, &moved_far.deadline}) wheel.add(*d);
  wheel.expire(t0 - milliseconds(50));
  da.arm_at(t0);
  same_slot.deadline.arm_at(t0 + milliseconds(1));      // walked after or before `da`
  moved_far.deadline.arm_at(t0 + milliseconds(2));  // moved by `da`'s callback before its turn
  wheel.expire(t0 + milliseconds(10));
  EXPECT_EQ(a.fired_at.size(), 1u);
  EXPECT_EQ(same_slot.owner.expired, 1);
  EXPECT_EQ(moved_far.owner.expired, 0);
  EXPECT_EQ(moved_far.deadline.at(), t0 + seconds(3600));
  for (auto now = t0 + milliseconds(50); now <= t0 + seconds(5); now += milliseconds(50)) {
    wheel.expire(now);
  }
  // Fired at t0 + 10 ms, re-armed 1 s on each time, fired on the first tick at or after that.
  ASSERT_EQ(a.fired_at.size(), 3u);
  EXPECT_EQ(a.fired_at[1], t0 + milliseconds(1050));
  EXPECT_EQ(a.fired_at[2], t0 + milliseconds(2050));
  wheel.expire(t0 + seconds(3600));
  EXPECT_EQ(moved_far.owner.expired, 1);
}

/// The reference: today's plain scan over every deadline, kept beside the wheel's deadlines.
struct Reference {
  struct Entry {
    Clock::time_point at = Clock::time_point::max();
    bool idle = false;
    bool fired = false;
    int expired = 0;
  };
  std::vector<Entry> entries;
  void fire(Entry& e) {
    e.at = Clock::time_point::max();
    e.fired = true;
    ++e.expired;
  }
  void expire(Clock::time_point now) {
    for (Entry& e : entries) {
      if (e.at <= now) fire(e);
    }
  }
  void fire_idle() {
    for (Entry& e : entries) {
      if (e.idle) fire(e);
    }
  }
};

TEST(DeadlineWheel, MatchesAPlainScanOnRandomSchedules) {
  constexpr size_t kCount = 400;
  std::mt19937_64 random(19);  // fixed: a failure replays
  const auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(random);
  };
  DeadlineWheel wheel;
  Reference reference;
  reference.entries.resize(kCount);
  std::vector<std::unique_ptr<Conn>> conns(kCount);
  for (auto& c : conns) {
    c = std::make_unique<Conn>();
    wheel.add(c->deadline);
  }
  auto now = t0;
  wheel.expire(now);
  size_t fired = 0;
  for (int tick = 0; tick < 20000; ++tick) {
    for (int64_t ops = pick(0, 12); ops > 0; --ops) {
      const auto i = static_cast<size_t>(pick(0, kCount - 1));
      Conn& c = *conns[i];
      Reference::Entry& e = reference.entries[i];
      const int64_t kind = pick(0, 99);
      if (kind < 55) {  // a request's next wait: mostly near, sometimes past, sometimes hours
        const int64_t reach = kind < 5 ? 8'000'000 : kind < 15 ? 400'000 : 3'000;
        const auto at = now + milliseconds(pick(-100, reach));
        c.deadline.arm_at(at);
        e.at = at;
        e.fired = false;
      } else if (kind < 70) {
        c.deadline.disarm();
        e.at = Clock::time_point::max();
        e.fired = false;
      } else if (kind < 90) {
        const bool idle = kind < 80;
        c.deadline.set_idle(idle);
        e.idle = idle;
      } else if (kind < 92) {  // a connection closes, a new one takes its place
        conns[i] = std::make_unique<Conn>();
        wheel.add(conns[i]->deadline);
        e = Reference::Entry{};
      }
    }
    // Ticks 50 ms apart with jitter; now and then a stall, now and then a drain.
    const int64_t step = pick(0, 999);
    now += step < 2 ? milliseconds(pick(200'000, 900'000)) : milliseconds(pick(30, 80));
    if (step == 999) {
      wheel.fire_idle();
      reference.fire_idle();
    }
    wheel.expire(now);
    reference.expire(now);
    for (size_t i = 0; i < kCount; ++i) {
      const Conn& c = *conns[i];
      const Reference::Entry& e = reference.entries[i];
      ASSERT_EQ(c.owner.expired, e.expired) << "tick " << tick << " deadline " << i;
      ASSERT_EQ(c.deadline.fired(), e.fired) << "tick " << tick << " deadline " << i;
      ASSERT_EQ(c.deadline.at(), e.at) << "tick " << tick << " deadline " << i;
    }
  }
  for (const auto& e : reference.entries) fired += static_cast<size_t>(e.expired);
  EXPECT_GT(fired, 1000u);  // the schedule did fire: the comparison meant something
}

}  // namespace
}  // namespace vane::proxy
