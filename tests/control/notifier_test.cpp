// One webhook's queue (SPEC §11) against a real loopback server: bodies delivered one at a time in
// order, the oldest dropped and counted when 1000 wait behind a receiver that never answers, and
// queuing never waiting; the filters; the slack text.
#include "control/notifier.hpp"

#include <gtest/gtest.h>

#include "control/event_log.hpp"
#include "control/http_client.hpp"
#include "control/notifications.hpp"
#include "tests/control/http_test_server.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control::test {
namespace {

config::Notifier spec_for(const TestServer& server) {
  config::Notifier spec;
  spec.name = "hook";
  spec.url = server.url("/hook");
  spec.timeout = std::chrono::seconds{30};
  return spec;
}

TEST(NotifierTest, DeliversInOrderOneAtATime) {
  net::io_context io;
  TestServer server(io, [](const Seen&) { return Reply{}; });
  HttpClient http(io);
  Notifier notifier(io, http, spec_for(server));
  for (int i = 0; i < 5; ++i) notifier.post("{\"n\":" + std::to_string(i) + "}");
  ASSERT_TRUE(run_until(io, [&] { return notifier.counts().sent == 5; }));
  ASSERT_EQ(server.seen().size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(server.seen()[static_cast<size_t>(i)].body, "{\"n\":" + std::to_string(i) + "}");
    EXPECT_EQ(server.seen()[static_cast<size_t>(i)].method, "POST");
  }
  EXPECT_EQ(notifier.counts().failed, 0u);
  EXPECT_EQ(notifier.counts().dropped, 0u);
}

TEST(NotifierTest, AFullQueueDropsTheOldestAndCountsIt) {
  net::io_context io;
  TestServer server(io, [](const Seen&) {
    Reply reply;
    reply.then = Reply::Then::Hang;
    return reply;
  });
  HttpClient http(io);
  Notifier notifier(io, http, spec_for(server));
  notifier.post("first");  // in flight: the receiver holds it
  ASSERT_TRUE(run_until(io, [&] { return server.seen().size() == 1; }));
  // 1000 wait behind it; two more push out the two oldest waiting ones. No post waits.
  for (size_t i = 0; i < Notifier::kQueueLimit + 2; ++i) notifier.post("queued " + std::to_string(i));
  EXPECT_EQ(notifier.counts().dropped, 2u);
  EXPECT_EQ(notifier.counts().sent, 0u);
  EXPECT_EQ(server.seen().size(), 1u) << "one delivery at a time";
}

TEST(NotifierTest, Filters) {
  net::io_context io;
  HttpClient http(io);
  config::Notifier spec;
  spec.name = "f";
  spec.url = "http://127.0.0.1:9/";
  spec.events = {config::Trigger::RolloutAborted};
  spec.rollouts = {"shop"};
  Notifier notifier(io, http, spec);
  EventRecord event;
  event.trigger = config::Trigger::RolloutAborted;
  event.rollout = "shop";
  EXPECT_TRUE(notifier.wants(event));
  event.rollout = "cart";
  EXPECT_FALSE(notifier.wants(event));
  event.rollout.reset();
  EXPECT_FALSE(notifier.wants(event)) << "with a rollout filter, events of no rollout are not sent";
  event.rollout = "shop";
  event.trigger = config::Trigger::RolloutCompleted;
  EXPECT_FALSE(notifier.wants(event));
  spec.events.clear();
  spec.rollouts.clear();
  notifier.set_spec(spec);
  event.rollout.reset();
  EXPECT_TRUE(notifier.wants(event)) << "no filter: every event";
}

TEST(NotifierTest, SlackText) {
  EventRecord event;
  event.trigger = config::Trigger::RolloutAborted;
  event.rollout = "shop";
  event.message = "aborted: too many 5xx";
  event.phase = "Degraded";
  event.stable = "v1";
  event.canary = "v2";
  EXPECT_EQ(slack_text(event),
            "vane: rollout *shop* on-rollout-aborted (Degraded; stable v1, canary v2): aborted: too many 5xx");
  EventRecord reload;
  reload.trigger = config::Trigger::ConfigReloaded;
  reload.message = "reloaded /etc/vane/vane.yaml";
  EXPECT_EQ(slack_text(reload), "vane: on-config-reloaded: reloaded /etc/vane/vane.yaml");
}

}  // namespace
}  // namespace vane::control::test
