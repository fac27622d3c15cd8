// EtcdClient against a real 3-member etcd cluster whose first endpoint is killed (reads fail
// over and are sent again, writes fail over without being sent again, a member restarted on its
// data dir catches up) or left without a leader (its watch ends), and against a member that
// requires a client certificate (mutual TLS).
// Every wait is bounded.
#include "control/etcd_client.hpp"

#include "tests/control/etcd_test_fixture.hpp"
#include "tests/proxy/net/tls_test_files.hpp"
#include "tests/support/etcd_cluster.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;

class EtcdClientClusterTest : public test::EtcdClientFixture {
 protected:
  /// The cluster's endpoints with a follower first: killing it leaves a leader in place.
  std::vector<std::string> follower_first() {
    const size_t leader = etcd.leader();
    const size_t first = leader == 0 ? 1 : 0;
    std::vector<std::string> endpoints = {etcd.endpoint(first)};
    for (size_t i = 0; i < etcd.size(); ++i) {
      if (i != first) endpoints.push_back(etcd.endpoint(i));
    }
    first_ = first;
    return endpoints;
  }

  support::EtcdCluster etcd{3};
  size_t first_ = 0;  ///< the member of the first endpoint
};

TEST_F(EtcdClientClusterTest, AReadFailsOverToTheNextMemberAndIsSentAgainThere) {
  const std::vector<std::string> endpoints = follower_first();
  EtcdClient client(http, test::etcd_settings(endpoints));
  const EtcdTxn put = run(client.put("/c/a", "1"));
  ASSERT_TRUE(put.ok()) << put.error;
  EXPECT_EQ(client.endpoint(), endpoints[0]);
  etcd.kill(first_);
  const EtcdRange got = run(client.get("/c/a"));
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(got.kvs[0].value, "1");
  EXPECT_EQ(client.endpoint(), endpoints[1]);
  const EtcdTxn next = run(client.put("/c/a", "2"));  // the next calls go there too
  EXPECT_TRUE(next.ok()) << next.error;
  EXPECT_EQ(client.endpoint(), endpoints[1]);
}

TEST_F(EtcdClientClusterTest, AWriteFailsOverButIsNeverSentAgain) {
  const std::vector<std::string> endpoints = follower_first();
  EtcdClient client(http, test::etcd_settings(endpoints));
  etcd.kill(first_);
  const EtcdTxn lost = run(client.put("/c/b", "1"));
  EXPECT_EQ(lost.error.rfind("etcd " + endpoints[0] + " kv/put: cannot connect to ", 0), 0u)
      << lost.error;
  EXPECT_EQ(client.endpoint(), endpoints[1]);
  EXPECT_TRUE(run(client.get("/c/b")).kvs.empty());  // not sent to the next member either
  const EtcdTxn put = run(client.put("/c/b", "2"));  // the caller's own retry goes there
  ASSERT_TRUE(put.ok()) << put.error;
  EXPECT_EQ(run(client.get("/c/b")).kvs.at(0).value, "2");
}

TEST_F(EtcdClientClusterTest, AMemberRestartedOnItsDataDirCatchesUp) {
  const std::vector<std::string> endpoints = follower_first();
  EtcdClient client(http, test::etcd_settings({endpoints[1]}));
  ASSERT_TRUE(run(client.put("/c/before", "1")).ok());
  etcd.kill(first_);
  ASSERT_TRUE(run(client.put("/c/during", "2")).ok());
  etcd.restart(first_);
  EtcdClient restarted(http, test::etcd_settings({endpoints[0]}));
  const EtcdRange got = run(restarted.get_prefix("/c/"));
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.kvs.size(), 2u);
  EXPECT_EQ(got.kvs[0].key, "/c/before");
  EXPECT_EQ(got.kvs[1].key, "/c/during");
}

TEST_F(EtcdClientClusterTest, WithEveryMemberGoneEachCallSaysWhichOneFailed) {
  EtcdClient client(http, test::etcd_settings(etcd.endpoints(), 1s));
  for (size_t i = 0; i < etcd.size(); ++i) etcd.kill(i);
  const EtcdRange got = run(client.get("/c/a"));  // tried twice: the first two endpoints
  EXPECT_EQ(got.error.rfind("etcd " + etcd.endpoint(1) + " kv/range: cannot connect to ", 0), 0u)
      << got.error;
  EXPECT_EQ(client.endpoint(), etcd.endpoint(2));
  const EtcdLease lease = run(client.grant(5s));
  EXPECT_EQ(lease.error.rfind("etcd " + etcd.endpoint(2) + " lease/grant: ", 0), 0u)
      << lease.error;
  EXPECT_EQ(client.endpoint(), etcd.endpoint(0));  // round and round
}

TEST_F(EtcdClientClusterTest, AWatchOnAMemberThatLosesItsLeaderEndsAndFailsOver) {
  const std::vector<std::string> endpoints = follower_first();
  EtcdClient client(http, test::etcd_settings(endpoints));
  const EtcdTxn put = run(client.put("/c/w", "1"));
  ASSERT_TRUE(put.ok()) << put.error;
  const auto watch = start_watch(client, "/c/", put.revision);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() == 1; }));
  for (size_t i = 0; i < etcd.size(); ++i) {
    if (i != first_) etcd.kill(i);  // the member watched is alone: no quorum, no leader
  }
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }, 20s));
  EXPECT_EQ(*watch->end, "etcd " + endpoints[0] + " watch: etcdserver: no leader (code 14)");
  EXPECT_EQ(client.endpoint(), endpoints[1]);
  // A call there is refused at once, not left to time out.
  EtcdClient alone(http, test::etcd_settings({endpoints[0]}, 10s));
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(run(alone.get("/c/w")).error,
            "etcd " + endpoints[0] + " kv/range: etcdserver: no leader (code 14)");
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s);
}

class EtcdClientTlsTest : public test::EtcdClientFixture {
 protected:
  EtcdClientTlsTest()
      : server_(files_.issue("etcd", {"IP:127.0.0.1", "DNS:localhost"})),
        client_(files_.issue("vane", {})),
        etcd_(1, support::EtcdTlsFiles{files_.ca_file(), server_.cert, server_.key, client_.cert,
                                       client_.key}) {}

  config::Etcd settings(bool with_cert) const {
    config::Etcd settings = test::etcd_settings(etcd_.endpoints());
    settings.tls = config::EtcdTls{files_.ca_file(), with_cert ? client_.cert : "",
                                   with_cert ? client_.key : ""};
    return settings;
  }

  proxy::test::TlsFiles files_;
  proxy::test::TlsFiles::Pair server_;
  proxy::test::TlsFiles::Pair client_;
  support::EtcdCluster etcd_;
};

TEST_F(EtcdClientTlsTest, AClientCertificateOpensTheDoor) {
  ASSERT_EQ(etcd_.endpoint(0).rfind("https://", 0), 0u);
  EtcdClient client(http, settings(true));
  const EtcdTxn put = run(client.put("/tls/a", "1"));
  ASSERT_TRUE(put.ok()) << put.error;
  const EtcdRange got = run(client.get("/tls/a"));
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.kvs.at(0).value, "1");
  const auto watch = start_watch(client, "/tls/", put.revision);
  ASSERT_TRUE(test::run_until(io, [&] { return watch->events.size() == 1; }));
  watch->cancel->cancel();
  ASSERT_TRUE(test::run_until(io, [&] { return watch->end.has_value(); }));
}

TEST_F(EtcdClientTlsTest, WithoutOneTheCallFails) {
  EtcdClient client(http, settings(false));
  const EtcdRange got = run(client.get("/tls/a"));
  EXPECT_EQ(got.error.rfind("etcd " + etcd_.endpoint(0) + " kv/range: ", 0), 0u) << got.error;
  EXPECT_FALSE(got.ok());
  config::Etcd untrusted = settings(true);
  untrusted.tls->ca_file.clear();  // the system's store does not know the test CA
  EtcdClient other(http, untrusted);
  const EtcdRange refused = run(other.get("/tls/a"));
  EXPECT_NE(refused.error.find("TLS handshake with 127.0.0.1:"), std::string::npos)
      << refused.error;
}

}  // namespace
}  // namespace vane::control
