// EtcdClient against a real etcd member (tests/support/etcd_cluster): keys and values of any
// bytes, prefix ranges, transactions comparing create/mod revisions, versions and values,
// fencing by a lease's key, and leases granted, kept alive, revoked and expiring. Watches are in
// etcd_client_watch_test.cpp, failover and TLS in etcd_client_cluster_test.cpp. Every wait is
// bounded.
#include "control/etcd_client.hpp"

#include "tests/control/etcd_test_fixture.hpp"
#include "tests/support/etcd_cluster.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using Target = EtcdCompare::Target;
using Kind = EtcdOp::Kind;

/// Every byte value, and then some: what keys and values may hold.
std::string all_bytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  return bytes + "\r\n\"\\{}";
}

class EtcdClientTest : public test::EtcdClientFixture {
 protected:
  support::EtcdCluster etcd{1};
  EtcdClient client{http, test::etcd_settings(etcd.endpoints())};
};

TEST(EtcdPrefixEnd, IsThePrefixWithItsLastByteOneHigher) {
  EXPECT_EQ(prefix_end("/vane/x/"), "/vane/x0");
  EXPECT_EQ(prefix_end("a\xff"), "b");
  EXPECT_EQ(prefix_end(std::string("a\xfe\xff\xff")), "a\xff");
  EXPECT_EQ(prefix_end("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST_F(EtcdClientTest, KeysAndValuesMayHoldAnyBytes) {
  const std::string key = "/vane/test/" + all_bytes();
  const std::string value = all_bytes() + all_bytes();
  const EtcdTxn put = run(client.put(key, value));
  ASSERT_TRUE(put.ok()) << put.error;
  EXPECT_TRUE(put.succeeded);
  EXPECT_GT(put.revision, 1);
  const EtcdRange got = run(client.get(key));
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(got.kvs[0].key, key);
  EXPECT_EQ(got.kvs[0].value, value);
  EXPECT_EQ(got.kvs[0].create_revision, put.revision);
  EXPECT_EQ(got.kvs[0].mod_revision, put.revision);
  EXPECT_EQ(got.kvs[0].version, 1);
  EXPECT_EQ(got.kvs[0].lease, 0);
  EXPECT_EQ(got.revision, put.revision);
  const EtcdTxn again = run(client.put(key, ""));  // an empty value, which etcd omits
  ASSERT_TRUE(again.ok()) << again.error;
  const EtcdRange now = run(client.get(key));
  ASSERT_EQ(now.kvs.size(), 1u);
  EXPECT_EQ(now.kvs[0].value, "");
  EXPECT_EQ(now.kvs[0].version, 2);
  EXPECT_EQ(now.kvs[0].create_revision, put.revision);
  EXPECT_EQ(now.kvs[0].mod_revision, again.revision);
  EXPECT_EQ(client.endpoint(), etcd.endpoint(0));
}

TEST_F(EtcdClientTest, AMissingKeyIsAnEmptyRange) {
  const EtcdRange got = run(client.get("/vane/test/none"));
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_TRUE(got.kvs.empty());
  EXPECT_GE(got.revision, 1);
}

TEST_F(EtcdClientTest, APrefixRangeHoldsItsKeysOnly) {
  for (const char* key : {"/p/b", "/p/a", "/p0", "/o", "/p/\xff"}) {
    ASSERT_TRUE(run(client.put(key, key)).ok());
  }
  const EtcdRange got = run(client.get_prefix("/p/"));
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.kvs.size(), 3u);
  EXPECT_EQ(got.kvs[0].key, "/p/a");  // by key
  EXPECT_EQ(got.kvs[1].key, "/p/b");
  EXPECT_EQ(got.kvs[2].key, "/p/\xff");
  EXPECT_EQ(got.kvs[2].value, "/p/\xff");
  EXPECT_EQ(run(client.get_prefix("")).kvs.size(), 5u);  // every key
}

TEST_F(EtcdClientTest, ATransactionRunsItsSuccessOrItsFailureOps) {
  const EtcdTxn created = run(client.txn({{"/t/lock", Target::Create, 0, ""}},  // absent
                                         {{Kind::Put, "/t/lock", "me", 0}}));
  ASSERT_TRUE(created.ok()) << created.error;
  EXPECT_TRUE(created.succeeded);
  const EtcdTxn taken = run(client.txn({{"/t/lock", Target::Create, 0, ""}},
                                       {{Kind::Put, "/t/lock", "other", 0}},
                                       {{Kind::Put, "/t/lost", "other", 0}}));
  ASSERT_TRUE(taken.ok()) << taken.error;
  EXPECT_FALSE(taken.succeeded);
  EXPECT_EQ(run(client.get("/t/lock")).kvs.at(0).value, "me");
  EXPECT_EQ(run(client.get("/t/lost")).kvs.at(0).value, "other");
  const std::vector<EtcdCompare> held = {{"/t/lock", Target::Create, created.revision, ""},
                                         {"/t/lock", Target::Mod, created.revision, ""},
                                         {"/t/lock", Target::Version, 1, ""},
                                         {"/t/lock", Target::Value, 0, "me"}};
  const EtcdTxn fenced = run(client.txn(held, {{Kind::Put, "/t/state", "1", 0}}));
  ASSERT_TRUE(fenced.ok()) << fenced.error;
  EXPECT_TRUE(fenced.succeeded);
  EXPECT_GT(fenced.revision, taken.revision);
  for (size_t wrong = 0; wrong < held.size(); ++wrong) {
    std::vector<EtcdCompare> compare = held;
    compare[wrong].number += 1;
    compare[wrong].value += "x";
    const EtcdTxn refused = run(client.txn(compare, {{Kind::Put, "/t/state", "2", 0}}));
    ASSERT_TRUE(refused.ok()) << refused.error;
    EXPECT_FALSE(refused.succeeded) << "comparison " << wrong;
  }
  EXPECT_EQ(run(client.get("/t/state")).kvs.at(0).value, "1");
}

TEST_F(EtcdClientTest, DeleteOpsRemoveAKeyOrAPrefix) {
  for (const char* key : {"/d/a", "/d/b", "/d0", "/e"}) ASSERT_TRUE(run(client.put(key, "v")).ok());
  const EtcdTxn deleted =
      run(client.txn({}, {{Kind::DeletePrefix, "/d/", "", 0}, {Kind::Delete, "/e", "", 0}}));
  ASSERT_TRUE(deleted.ok()) << deleted.error;
  EXPECT_TRUE(deleted.succeeded);
  const EtcdRange left = run(client.get_prefix(""));
  ASSERT_EQ(left.kvs.size(), 1u);
  EXPECT_EQ(left.kvs[0].key, "/d0");
}

TEST_F(EtcdClientTest, ATransactionFencedOnALeaseKeyFailsOnceTheLeaseIsRevoked) {
  const EtcdLease lease = run(client.grant(10s));
  ASSERT_TRUE(lease.ok()) << lease.error;
  EXPECT_NE(lease.id, 0);
  EXPECT_EQ(lease.ttl, 10);
  const EtcdTxn leader = run(client.put("/f/leader", "me", lease.id));
  ASSERT_TRUE(leader.ok()) << leader.error;
  EXPECT_EQ(run(client.get("/f/leader")).kvs.at(0).lease, lease.id);
  const std::vector<EtcdCompare> fence = {{"/f/leader", Target::Create, leader.revision, ""}};
  EXPECT_TRUE(run(client.txn(fence, {{Kind::Put, "/f/state", "1", 0}})).succeeded);
  EXPECT_EQ(run(client.revoke(lease.id)), "");
  EXPECT_TRUE(run(client.get("/f/leader")).kvs.empty());  // the lease took its key along
  const EtcdTxn late = run(client.txn(fence, {{Kind::Put, "/f/state", "2", 0}}));
  ASSERT_TRUE(late.ok()) << late.error;
  EXPECT_FALSE(late.succeeded);
  EXPECT_EQ(run(client.get("/f/state")).kvs.at(0).value, "1");
  const std::string again = run(client.revoke(lease.id));
  EXPECT_EQ(again, "etcd " + etcd.endpoint(0) +
                       " lease/revoke: etcdserver: requested lease not found (code 5)");
}

TEST_F(EtcdClientTest, AKeptAliveLeaseKeepsItsKeysAndAnExpiredOneDeletesThem) {
  const EtcdLease lease = run(client.grant(2s));  // etcd's shortest here (1.5 election timeouts)
  ASSERT_TRUE(lease.ok()) << lease.error;
  ASSERT_TRUE(run(client.put("/l/member", "me", lease.id)).ok());
  const auto watch = start_watch(client, "/l/", run(client.get("/l/member")).revision + 1);
  const auto granted = std::chrono::steady_clock::now();
  // Renewed past its TTL, the key stays.
  while (std::chrono::steady_clock::now() - granted < 3s) {
    const EtcdLease renewed = run(client.keepalive(lease.id));
    ASSERT_TRUE(renewed.ok()) << renewed.error;
    EXPECT_EQ(renewed.id, lease.id);
    EXPECT_EQ(renewed.ttl, 2);
    pass(500ms);  // TTL/4 between renewals
  }
  EXPECT_EQ(run(client.get("/l/member")).kvs.size(), 1u);
  EXPECT_TRUE(watch->events.empty());
  // Left alone, it expires: the watch shows its key deleted.
  ASSERT_TRUE(test::run_until(io, [&] { return !watch->events.empty(); }, 10s));
  EXPECT_EQ(watch->events[0].type, EtcdEvent::Type::Delete);
  EXPECT_EQ(watch->events[0].kv.key, "/l/member");
  const EtcdLease gone = run(client.keepalive(lease.id));
  ASSERT_TRUE(gone.ok()) << gone.error;
  EXPECT_LE(gone.ttl, 0);
  watch->cancel->cancel();
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
  EXPECT_EQ(*watch->end, "cancelled");
}

}  // namespace
}  // namespace vane::control
