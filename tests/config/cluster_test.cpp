// The `cluster` section (SPEC §9): values, defaults, each error at its value; and configDigest.
#include <unistd.h>

#include <array>

#include "tests/config/validate_cases.hpp"

namespace vane::config::test {
namespace {

std::shared_ptr<const Config> load_ok(const std::string& yaml) {
  LoadResult result = load_string(yaml, "vane.yaml");
  for (const Error& e : result.errors) ADD_FAILURE() << e.to_string();
  return result.config;
}

TEST(Cluster, EveryKey) {
  const auto c = load_ok(std::string(base) + R"(cluster:
  etcd:
    endpoints: ["http://127.0.0.1:2379", "https://etcd-1.etcd:2379"]
    prefix: /vane/prod-ingress
    dialTimeout: 500ms
    tls: {caFile: "", certFile: c.pem, keyFile: k.pem}
  replicaName: vane-0
  leaseTTL: 3s
  publishInterval: 250ms
)");
  ASSERT_TRUE(c && c->cluster);
  const Cluster& cl = *c->cluster;
  EXPECT_EQ(cl.etcd.endpoints,
            (std::vector<std::string>{"http://127.0.0.1:2379", "https://etcd-1.etcd:2379"}));
  EXPECT_EQ(cl.etcd.prefix, "/vane/prod-ingress");
  EXPECT_EQ(cl.etcd.dial_timeout, Duration(500));
  ASSERT_TRUE(cl.etcd.tls);
  EXPECT_EQ(cl.etcd.tls->cert_file, "c.pem");
  EXPECT_EQ(cl.etcd.tls->key_file, "k.pem");
  EXPECT_EQ(cl.replica_name, "vane-0");
  EXPECT_EQ(cl.lease_ttl, std::chrono::seconds(3));
  EXPECT_EQ(cl.publish_interval, Duration(250));
}

TEST(Cluster, DefaultsAndAbsence) {
  EXPECT_FALSE(load_ok(std::string(base))->cluster);
  const auto c = load_ok(std::string(base) + "cluster: {etcd: {endpoints: [\"http://e:2379\"]}}\n");
  ASSERT_TRUE(c && c->cluster);
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  EXPECT_EQ(c->cluster->replica_name, host.data());
  EXPECT_EQ(c->cluster->etcd.prefix, "/vane");
  EXPECT_EQ(c->cluster->etcd.dial_timeout, Duration(2000));
  EXPECT_FALSE(c->cluster->etcd.tls);
  EXPECT_EQ(c->cluster->lease_ttl, std::chrono::seconds(5));
  EXPECT_EQ(c->cluster->publish_interval, Duration(1000));
}

TEST(Cluster, Errors) {
  run({
      {"no etcd", std::string(base) + "cluster: {replicaName: a}\n",
       {"vane.yaml:3:10: cluster.etcd: is required"}},
      {"endpoints",
       std::string(base) +
           "cluster: {etcd: {endpoints: [\"127.0.0.1:2379\", \"http://x\", \"http://x:0\"]}}\n",
       {"vane.yaml:3:30: cluster.etcd.endpoints[0]: must be http://host:port or "
        "https://host:port",
        "vane.yaml:3:48: cluster.etcd.endpoints[1]: must be http://host:port or "
        "https://host:port (must be host:port ([v6]:port for IPv6))",
        "vane.yaml:3:60: cluster.etcd.endpoints[2]: must be http://host:port or "
        "https://host:port (port must be between 1 and 65535)"}},
      {"empty endpoints", std::string(base) + "cluster: {etcd: {endpoints: []}}\n",
       {"vane.yaml:3:29: cluster.etcd.endpoints: must not be empty"}},
      {"prefix, name, ttl, interval",
       std::string(base) + R"(cluster:
  etcd: {endpoints: ["http://e:1"], prefix: vane/, dialTimeout: 0s}
  replicaName: "vane 0"
  leaseTTL: 1500ms
  publishInterval: 10ms
)",
       {"vane.yaml:4:45: cluster.etcd.prefix: must start with / and not end with / (e.g. "
        "/vane/prod-ingress)",
        "vane.yaml:4:65: cluster.etcd.dialTimeout: must be greater than 0",
        "vane.yaml:5:16: cluster.replicaName: must be 1-253 characters of A-Z a-z 0-9 . _ -",
        "vane.yaml:6:13: cluster.leaseTTL: must be whole seconds, at least 2s",
        "vane.yaml:7:20: cluster.publishInterval: must be at least 100ms"}},
      {"ttl below 2s and a key file without its certificate",
       std::string(base) + "cluster: {etcd: {endpoints: [\"http://e:1\"], tls: {keyFile: k}}, "
                           "leaseTTL: 1s, foo: 1}\n",
       {"vane.yaml:3:50: cluster.etcd.tls.certFile: is required",
        "vane.yaml:3:75: cluster.leaseTTL: must be whole seconds, at least 2s",
        "vane.yaml:3:79: cluster.foo: unknown key"}},
  });
}

TEST(Cluster, DigestCoversRoutingAndRolloutsOnly) {
  const std::string routes = "routes: [{name: r, upstream: u}]\n";
  const auto a = load_ok(std::string(base) + routes);
  // Comments, layout, listeners, admin, limits and cluster do not count.
  const auto same = load_ok(R"(listeners: [{name: other, address: "127.0.0.1:0"}]
# a comment
upstreams:
  - {name: u, endpoints: ["127.0.0.1:1"]}
  - name: v
    endpoints: ["127.0.0.1:2"]
routes:
  - name: r
    upstream: u
admin: {address: "127.0.0.1:0"}
limits: {maxRequestHeaders: 10}
cluster: {etcd: {endpoints: ["http://e:1"]}, replicaName: x}
)");
  const auto other = load_ok(std::string(base) + "routes: [{name: r, upstream: v}]\n");
  ASSERT_TRUE(a && same && other);
  EXPECT_EQ(a->digest.size(), 16u);
  EXPECT_EQ(a->digest, same->digest);
  EXPECT_NE(a->digest, other->digest);
}

}  // namespace
}  // namespace vane::config::test
