// Real etcd members for tests (Debian's etcd-server, /usr/bin/etcd): a single member or a
// cluster on loopback, on free ports, in a temporary directory (on /dev/shm when there is one:
// no disk syncs), each started and then awaited until it answers (bounded). A member can be
// killed (SIGKILL) and restarted on its data dir, as a crash would leave it. Peers speak plain
// HTTP; clients plain HTTP, or TLS with a client certificate required when tls is given. Used by
// tests/control and tests/integration, on the test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace vane::support {

/// Certificates for a TLS cluster: the members' own (valid for 127.0.0.1) and the CA clients'
/// certificates must chain to; what the fixture presents itself when it checks on a member.
struct EtcdTlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string client_cert_file;
  std::string client_key_file;
};

class EtcdCluster {
 public:
  /// How long a member may take to answer after it starts.
  static constexpr std::chrono::seconds kStartTimeout{20};

  /// Starts `members` members and waits until each answers; throws (with the logs' tails) when
  /// they do not.
  explicit EtcdCluster(size_t members = 1, std::optional<EtcdTlsFiles> tls = std::nullopt);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  size_t size() const { return members_.size(); }
  /// The client URL of member `i`: "http://127.0.0.1:PORT" (https with tls).
  std::string endpoint(size_t i) const;
  std::vector<std::string> endpoints() const;

  bool running(size_t i);
  /// The process of member `i` (to freeze it with SIGSTOP, say); -1 when it is not running.
  pid_t pid(size_t i) const;
  /// SIGKILL: the member stops at once, as in a crash.
  void kill(size_t i);
  /// Starts member `i` again on its data dir and ports, and waits until it answers (throws
  /// when it does not).
  void restart(size_t i);
  /// Whether member `i` answers its health check now (it has a leader).
  bool healthy(size_t i);
  /// The index of the member that leads now, as the running members say (throws when none knows).
  size_t leader();
  /// Compacts the store up to `revision` (etcdctl compact); throws when that fails.
  void compact(int64_t revision);
  /// What member `i` logged.
  std::string log(size_t i) const;

 private:
  struct Member {
    std::string name;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    std::unique_ptr<ChildProcess> process;
  };

  void start(size_t i);
  /// Waits until every member in `which` answers or one exits; "" or why not.
  std::string await_healthy(const std::vector<size_t>& which);
  std::vector<std::string> etcdctl_args(size_t i) const;
  std::string logs_tail() const;

  std::filesystem::path dir_;
  std::optional<EtcdTlsFiles> tls_;
  std::vector<Member> members_;
  std::string initial_cluster_;
};

}  // namespace vane::support
