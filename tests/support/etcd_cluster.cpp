#include "tests/support/etcd_cluster.hpp"

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <boost/json.hpp>

namespace vane::support {
namespace {

using namespace std::chrono_literals;

/// A fresh directory on /dev/shm (a tmpfs: etcd's syncs cost nothing), else under /tmp.
std::filesystem::path make_temp_dir() {
  std::error_code ec;
  const std::filesystem::path base =
      std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
          ? std::filesystem::path("/dev/shm")
          : std::filesystem::temp_directory_path();
  std::string pattern = (base / "vane-etcd-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  }
  return pattern;
}

/// Ports free on loopback now, all different (held open together while they are picked).
std::vector<uint16_t> free_ports(size_t count) {
  std::vector<int> sockets;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::system_error(errno, std::generic_category(), "picking a free port");
    }
    sockets.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (const int fd : sockets) ::close(fd);
  return ports;
}

std::string last_lines(const std::string& text, size_t lines) {
  size_t at = text.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) {
    at = text.rfind('\n', at - 1);
  }
  return at == std::string::npos ? text : text.substr(at + 1);
}

}  // namespace

EtcdCluster::EtcdCluster(size_t members, std::optional<EtcdTlsFiles> tls)
    : dir_(make_temp_dir()), tls_(std::move(tls)) {
  // A port picked here may be taken by someone else before etcd binds it: then start again.
  for (int attempt = 1;; ++attempt) {
    members_.clear();
    const std::vector<uint16_t> ports = free_ports(2 * members);
    initial_cluster_.clear();
    for (size_t i = 0; i < members; ++i) {
      members_.push_back({"m" + std::to_string(i), ports[2 * i], ports[2 * i + 1], nullptr});
      initial_cluster_ += (i ? "," : "") + members_[i].name + "=http://127.0.0.1:" +
                          std::to_string(members_[i].peer_port);
    }
    std::vector<size_t> all;
    for (size_t i = 0; i < members; ++i) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_ / members_[i].name, ignored);  // a failed attempt's
      start(i);
      all.push_back(i);
    }
    const std::string why = await_healthy(all);
    if (why.empty()) return;
    if (attempt == 3) {
      const std::string logs = logs_tail();
      members_.clear();
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw std::runtime_error("etcd did not start: " + why + "\n" + logs);
    }
  }
}

EtcdCluster::~EtcdCluster() {
  members_.clear();  // killed and reaped
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string EtcdCluster::endpoint(size_t i) const {
  return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") +
         std::to_string(members_.at(i).client_port);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < members_.size(); ++i) out.push_back(endpoint(i));
  return out;
}

bool EtcdCluster::running(size_t i) {
  return members_.at(i).process && members_.at(i).process->running();
}

void EtcdCluster::kill(size_t i) { members_.at(i).process.reset(); }

void EtcdCluster::restart(size_t i) {
  kill(i);
  start(i);
  const std::string why = await_healthy({i});
  if (!why.empty()) throw std::runtime_error("etcd did not restart: " + why + "\n" + log(i));
}

void EtcdCluster::start(size_t i) {
  const Member& m = members_.at(i);
  const std::string client = endpoint(i);
  const std::string peer = "http://127.0.0.1:" + std::to_string(m.peer_port);
  // On an existing data dir etcd ignores the initial-cluster flags: a restart rejoins.
  std::vector<std::string> argv = {
      "etcd", "--name", m.name, "--data-dir", (dir_ / m.name).string(),
      "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
      "--initial-cluster", initial_cluster_, "--initial-cluster-state", "new",
      "--initial-cluster-token", "vane-test", "--logger", "zap", "--log-outputs", "stderr"};
  if (tls_) {
    argv.insert(argv.end(), {"--cert-file", tls_->cert_file, "--key-file", tls_->key_file,
                             "--trusted-ca-file", tls_->ca_file, "--client-cert-auth"});
  }
  members_.at(i).process = std::make_unique<ChildProcess>(argv, dir_ / (m.name + ".log"));
}

std::string EtcdCluster::await_healthy(const std::vector<size_t>& which) {
  const auto give_up = std::chrono::steady_clock::now() + kStartTimeout;
  std::vector<size_t> waiting = which;
  while (!waiting.empty()) {
    for (const size_t i : waiting) {
      if (!running(i)) return members_[i].name + " exited";
    }
    std::erase_if(waiting, [&](size_t i) { return healthy(i); });
    if (waiting.empty()) break;
    if (std::chrono::steady_clock::now() >= give_up) {
      return members_[waiting.front()].name + " did not answer within 20 s";
    }
    std::this_thread::sleep_for(50ms);  // a process starting has no event to await
  }
  return "";
}

pid_t EtcdCluster::pid(size_t i) const {
  const auto& process = members_.at(i).process;
  return process ? process->pid() : -1;
}

std::vector<std::string> EtcdCluster::etcdctl_args(size_t i) const {
  std::vector<std::string> args = {"--endpoints", endpoint(i), "--dial-timeout", "2s",
                                   "--command-timeout", "3s"};
  if (tls_) {
    args.insert(args.end(), {"--cacert", tls_->ca_file, "--cert", tls_->client_cert_file,
                             "--key", tls_->client_key_file});
  }
  return args;
}

bool EtcdCluster::healthy(size_t i) {
  // curl rather than etcdctl: a Go program's start costs more than the check itself.
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "2", endpoint(i) + "/health"};
  if (tls_) {
    argv.insert(argv.end(), {"--cacert", tls_->ca_file, "--cert", tls_->client_cert_file,
                             "--key", tls_->client_key_file});
  }
  const CommandOutput r = run_command(std::move(argv), 5s);
  return r.exit_code == 0 && r.out.find("\"health\":\"true\"") != std::string::npos;
}

size_t EtcdCluster::leader() {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!running(i)) continue;
    std::vector<std::string> argv = {"etcdctl"};
    const std::vector<std::string> args = etcdctl_args(i);
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"endpoint", "status", "-w", "json"});
    const CommandOutput r = run_command(std::move(argv), 10s);
    boost::system::error_code ec;
    const boost::json::value status = boost::json::parse(r.out, ec);
    if (r.exit_code != 0 || ec || !status.is_array() || status.get_array().empty()) continue;
    const boost::json::value* s = status.get_array()[0].find_pointer("/Status", ec);
    const boost::json::value* self = s ? s->find_pointer("/header/member_id", ec) : nullptr;
    const boost::json::value* leads = s ? s->find_pointer("/leader", ec) : nullptr;
    if (self && leads && *self == *leads) return i;
  }
  throw std::runtime_error("no etcd member says it leads");
}

void EtcdCluster::compact(int64_t revision) {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (!running(i)) continue;
    std::vector<std::string> argv = {"etcdctl"};
    const std::vector<std::string> args = etcdctl_args(i);
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"compact", std::to_string(revision)});
    const CommandOutput r = run_command(std::move(argv), 10s);
    if (r.exit_code != 0) throw std::runtime_error("etcdctl compact: " + r.out);
    return;
  }
  throw std::runtime_error("etcdctl compact: no member runs");
}

std::string EtcdCluster::log(size_t i) const {
  return read_text(dir_ / (members_.at(i).name + ".log"));
}

std::string EtcdCluster::logs_tail() const {
  std::string out;
  for (size_t i = 0; i < members_.size(); ++i) {
    out += "--- " + members_[i].name + ":\n" + last_lines(log(i), 15);
  }
  return out;
}

}  // namespace vane::support
