// EtcdClient::watch against a real etcd member: every change under the prefix in order (values
// larger than a piece of the stream, a transaction's changes in one batch), a replay from a past
// revision, a compacted start revision reported, a cancel. Every wait is bounded.
#include "control/etcd_client.hpp"

#include "tests/control/etcd_test_fixture.hpp"
#include "tests/support/etcd_cluster.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using Kind = EtcdOp::Kind;
using Type = EtcdEvent::Type;

class EtcdClientWatchTest : public test::EtcdClientFixture {
 protected:
  int64_t revision() {
    const EtcdRange now = run(client.get("/"));
    EXPECT_TRUE(now.ok()) << now.error;
    return now.revision;
  }
  void stop(const std::shared_ptr<Watch>& watch) {
    watch->cancel->cancel();
    ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
    EXPECT_EQ(*watch->end, "cancelled");
  }

  support::EtcdCluster etcd{1};
  EtcdClient client{http, test::etcd_settings(etcd.endpoints())};
};

TEST_F(EtcdClientWatchTest, EveryChangeComesInOrder) {
  const int64_t from = revision() + 1;
  const auto watch = start_watch(client, "/w/", from);
  std::vector<std::pair<Type, std::string>> made;
  for (int i = 0; i < 20; ++i) {
    // 40 KB of base64 per event: a line of the stream spans several of the client's pieces.
    const std::string key = "/w/" + std::to_string(i % 7);
    const std::string value(30'000, static_cast<char>('a' + i));
    ASSERT_TRUE(run(client.put(key, value)).ok());
    made.emplace_back(Type::Put, key);
    if (i % 3 == 2) {
      ASSERT_TRUE(run(client.txn({}, {{Kind::Delete, key, "", 0}})).ok());
      made.emplace_back(Type::Delete, key);
    }
    ASSERT_TRUE(run(client.put("/x/outside", "v")).ok());  // not under the prefix
  }
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() >= made.size(); }, 10s))
      << watch->events.size() << " events; " << watch->end.value_or("running");
  ASSERT_EQ(watch->events.size(), made.size());
  int64_t last = from - 1;
  for (size_t i = 0; i < made.size(); ++i) {
    const EtcdEvent& event = watch->events[i];
    EXPECT_EQ(event.type, made[i].first) << i;
    EXPECT_EQ(event.kv.key, made[i].second) << i;
    EXPECT_GT(event.kv.mod_revision, last) << i;
    last = event.kv.mod_revision;
    if (event.type == Type::Put) {
      EXPECT_EQ(event.kv.value.size(), 30'000u) << i;
    }
  }
  EXPECT_EQ(watch->events[0].kv.value, std::string(30'000, 'a'));
  stop(watch);
}

TEST_F(EtcdClientWatchTest, ATransactionsChangesComeAsOneBatch) {
  const auto watch = start_watch(client, "/w/", revision() + 1);
  const EtcdTxn txn =
      run(client.txn({}, {{Kind::Put, "/w/a", "1", 0}, {Kind::Put, "/w/b", "2", 0}}));
  ASSERT_TRUE(txn.ok()) << txn.error;
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() >= 2; }));
  ASSERT_EQ(watch->batch_revisions.size(), 1u);
  EXPECT_EQ(watch->batch_revisions[0], txn.revision);
  EXPECT_EQ(watch->events[0].kv.mod_revision, txn.revision);
  EXPECT_EQ(watch->events[1].kv.mod_revision, txn.revision);
  stop(watch);
}

TEST_F(EtcdClientWatchTest, AStartRevisionReplaysWhatCameSince) {
  const EtcdTxn first = run(client.put("/w/a", "1"));
  const EtcdTxn second = run(client.put("/w/a", "2"));
  const EtcdTxn third = run(client.put("/w/b", "3"));
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  const auto watch = start_watch(client, "/w/", second.revision);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() >= 2; }));
  EXPECT_EQ(watch->events[0].kv.mod_revision, second.revision);
  EXPECT_EQ(watch->events[0].kv.value, "2");
  EXPECT_EQ(watch->events[0].kv.version, 2);
  EXPECT_EQ(watch->events[0].kv.create_revision, first.revision);
  EXPECT_EQ(watch->events[1].kv.value, "3");
  const EtcdTxn fourth = run(client.put("/w/c", "4"));  // and then what comes next
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() >= 3; }));
  EXPECT_EQ(watch->events[2].kv.mod_revision, fourth.revision);
  EXPECT_EQ(watch->events.size(), 3u);
  stop(watch);
}

TEST_F(EtcdClientWatchTest, ACompactedStartRevisionIsReported) {
  const EtcdTxn first = run(client.put("/w/a", "1"));
  ASSERT_TRUE(first.ok()) << first.error;
  ASSERT_TRUE(run(client.put("/w/a", "2")).ok());
  const EtcdTxn last = run(client.put("/w/a", "3"));
  etcd.compact(last.revision);
  const auto watch = start_watch(client, "/w/", first.revision);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(*watch->end, "compacted: " + std::to_string(last.revision));
  EXPECT_TRUE(watch->events.empty());
  // From the compacted revision on, the watch runs.
  const auto again = start_watch(client, "/w/", last.revision);
  ASSERT_TRUE(test::run_until(io, [&] { return again->events.size() == 1; }));
  EXPECT_EQ(again->events[0].kv.value, "3");
  stop(again);
}

TEST_F(EtcdClientWatchTest, AWatchOnADeadMemberEndsWithTheError) {
  const auto watch = start_watch(client, "/w/", revision() + 1);
  ASSERT_TRUE(run(client.put("/w/a", "1")).ok());
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() == 1; }));
  etcd.kill(0);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(watch->end->rfind("etcd " + etcd.endpoint(0) + " watch: cannot read the answer: ", 0),
            0u)
      << *watch->end;
}

}  // namespace
}  // namespace vane::control
