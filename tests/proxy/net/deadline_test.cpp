// Deadline and DeadlineList: arming is a store, the worker's tick fires what is due, drain fires
// what is idle, and a destroyed Deadline leaves the list by itself. Explicit time points only.
#include "proxy/net/deadline.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
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

TEST(DeadlineList, EmptyUntilAdded) {
  DeadlineList list;
  EXPECT_TRUE(list.empty());
  Conn c;
  list.add(c.deadline);
  EXPECT_FALSE(list.empty());
}

TEST(DeadlineList, ExpireFiresOnlyDueDeadlines) {
  DeadlineList list;
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

TEST(DeadlineList, AFiredDeadlineDoesNotFireAgainUntilRearmed) {
  DeadlineList list;
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

TEST(DeadlineList, DisarmedBeforeTheTickDoesNotFire) {
  DeadlineList list;
  Conn c;
  list.add(c.deadline);
  c.deadline.arm_at(t0);
  c.deadline.disarm();
  list.expire(t0 + seconds(3600));
  EXPECT_EQ(c.owner.expired, 0);
  EXPECT_FALSE(c.deadline.fired());
}

TEST(DeadlineList, ExpireInSteps) {
  // Ticks walk forward; each deadline fires on the first tick at or after it.
  DeadlineList list;
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

TEST(DeadlineList, NowIsTheLastTick) {
  // The coarse clock measures a wait as the ticks it spanned: none, nothing.
  DeadlineList list;
  list.expire(t0);
  EXPECT_EQ(list.now(), t0);
  const auto from = list.now();
  EXPECT_EQ(list.now() - from, milliseconds(0));
  list.expire(t0 + milliseconds(50));
  list.expire(t0 + milliseconds(100));
  EXPECT_EQ(list.now() - from, milliseconds(100));
}

TEST(DeadlineList, FireIdleFiresOnlyIdleOnes) {
  DeadlineList list;
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

TEST(DeadlineList, ADestroyedDeadlineIsNoLongerVisited) {
  DeadlineList list;
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

TEST(DeadlineList, EmptyAgainWhenEveryDeadlineIsDestroyed) {
  DeadlineList list;
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

TEST(DeadlineList, DestroyingTheListFirstIsSafe) {
  Conn c;
  {
    DeadlineList list;
    list.add(c.deadline);
  }
  c.deadline.arm_at(t0);  // still usable on its own
  c.deadline.fire();
  EXPECT_EQ(c.owner.expired, 1);
}

}  // namespace
}  // namespace vane::proxy
