// Many idle keep-alive connections (issue #19): 20,000 clients (or as many as the hard open-files
// limit leaves room for) are each served once, then left idle; vane closes every one of them on
// limits.idleTimeout, not before, and keeps serving. The clients are one epoll loop on this
// thread. And vane raises its open-files limit at start.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr size_t kConnections = 20'000;
constexpr rlim_t kOtherFiles = 512;  // a process's descriptors besides the connections: ample
constexpr size_t kFewestConnections = 10'000;  // below this the test would say little
constexpr auto kIdleTimeout = 2s;
constexpr auto kTick = 50ms;  // vane's deadline tick: a deadline fires on the first tick past it

constexpr std::string_view idle_yaml = R"(
workers: 1
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
limits:
  idleTimeout: 2s
upstreams:
  - {name: single, endpoints: ["{{single}}"], maxConnectionsPerEndpoint: {{pool}}}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: single}
)";

/// The soft RLIMIT_NOFILE of this process, set for a scope and put back after.
class SoftFdLimit {
 public:
  explicit SoftFdLimit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit changed = saved_;
    changed.rlim_cur = soft;
    ok_ = ::setrlimit(RLIMIT_NOFILE, &changed) == 0;
  }
  ~SoftFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  SoftFdLimit(const SoftFdLimit&) = delete;
  SoftFdLimit& operator=(const SoftFdLimit&) = delete;
  bool ok() const { return ok_; }
  rlim_t hard() const { return saved_.rlim_max; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

rlim_t hard_fd_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_max;
}

/// "Max open files" of /proc/PID/limits: soft and hard, as written there.
std::pair<std::string, std::string> open_files_limit(pid_t pid) {
  for (const std::string& line : lines_of(read_file("/proc/" + std::to_string(pid) + "/limits"))) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(std::string_view("Max open files").size()));
    std::string soft, hard;
    fields >> soft >> hard;
    return {soft, hard};
  }
  return {};
}

/// One client connection of the fleet and what happened to it when.
struct Client {
  enum class State { Connecting, Reading, Idle, Closed };
  int fd = -1;
  State state = State::Connecting;
  std::string in;
  int status = 0;
  Clock::time_point sent, served, closed;
};

/// Parses a complete response in `in` (head, then Content-Length bytes): its status, 0 while
/// incomplete, -1 when it cannot be one.
int complete_status(const std::string& in) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  if (in.rfind("HTTP/1.1 ", 0) != 0) return -1;
  const size_t field = in.find("\r\ncontent-length: ");
  const size_t upper = in.find("\r\nContent-Length: ");
  const size_t at = field < end ? field : upper < end ? upper : std::string::npos;
  if (at == std::string::npos) return -1;
  const size_t length = std::stoul(in.substr(at + 18));
  if (in.size() < end + 4 + length) return 0;
  return std::stoi(in.substr(9, 3));
}

/// `count` connections to 127.0.0.1:`port`, at most `window` being set up at once: each sends
/// one GET and reads its answer, then waits (idle) until the peer closes it. Returns when every
/// one is closed or `limit` has passed.
std::vector<Client> run_fleet(uint16_t port, size_t count, size_t window, Millis limit) {
  std::vector<Client> clients(count);
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string get = request("GET", "/idle", "x.test");
  size_t next = 0, in_setup = 0, open = 0;
  const auto give_up = Clock::now() + limit;
  const auto close_client = [&](Client& c, Clock::time_point now) {
    if (c.state != Client::State::Idle) --in_setup;
    c.state = Client::State::Closed;
    c.closed = now;
    ::close(c.fd);
    --open;
  };
  std::vector<epoll_event> events(512);
  while (Clock::now() < give_up && (next < count || open > 0)) {
    while (next < count && in_setup < window) {
      Client& c = clients[next];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0) {
        ADD_FAILURE() << "socket " << next << ": " << std::strerror(errno);
        ::close(ep);
        return clients;
      }
      if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 &&
          errno != EINPROGRESS) {
        ADD_FAILURE() << "connect " << next << ": " << std::strerror(errno);
      }
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = next;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
      ++next, ++in_setup, ++open;
    }
    const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    const auto now = Clock::now();
    for (int e = 0; e < n; ++e) {
      Client& c = clients[events[static_cast<size_t>(e)].data.u64];
      if (c.state == Client::State::Closed) continue;
      if (c.state == Client::State::Connecting) {
        int error = 0;
        socklen_t size = sizeof error;
        ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &size);
        if (error != 0 || ::send(c.fd, get.data(), get.size(), MSG_NOSIGNAL) !=
                              static_cast<ssize_t>(get.size())) {
          close_client(c, now);  // counted as not served
          continue;
        }
        c.sent = now;
        c.state = Client::State::Reading;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = events[static_cast<size_t>(e)].data.u64;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        continue;
      }
      char buffer[4096];
      const ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        close_client(c, now);  // vane closed it (FIN or reset)
        continue;
      }
      if (c.state == Client::State::Idle) {
        c.status = -2;  // bytes on an idle connection: vane answered nothing asked
        continue;
      }
      c.in.append(buffer, static_cast<size_t>(got));
      c.status = complete_status(c.in);
      if (c.status != 0) {
        c.served = now;
        c.state = Client::State::Idle;
        --in_setup;
        std::string().swap(c.in);
      }
    }
  }
  for (Client& c : clients) {
    if (c.state != Client::State::Closed && c.fd >= 0) ::close(c.fd);
  }
  ::close(ep);
  return clients;
}

// Each side holds one descriptor per connection, so a hard limit of 20,000 (CI's) leaves room for
// 20,000 - kOtherFiles: the test runs with that many rather than not at all, and says so.
TEST(IdleConnections, AsManyAsTwentyThousandAreServedThenClosedOnIdleTimeout) {
  if (hard_fd_limit() < kFewestConnections + kOtherFiles) {
    GTEST_SKIP() << "the hard open-files limit " << hard_fd_limit() << " leaves room for fewer than "
                 << kFewestConnections << " connections (raise it: ulimit -Hn)";
  }
  const size_t connections = std::min<size_t>(kConnections, hard_fd_limit() - kOtherFiles);
  if (connections < kConnections) {
    std::cout << connections << " connections, not " << kConnections << ": the hard open-files limit is "
              << hard_fd_limit() << "\n";
  }
  SoftFdLimit fds(connections + kOtherFiles);
  ASSERT_TRUE(fds.ok()) << std::strerror(errno);
  TestUpstream single{"single"};
  Vane vane{render(std::string(idle_yaml), {{"single", single.address()}, {"pool", "256"}})};

  const auto clients = run_fleet(vane.port(), connections, 200, 60s);

  size_t served = 0, closed = 0, early = 0, late = 0;
  Millis earliest = Millis::max(), latest = Millis::zero();
  for (const Client& c : clients) {
    if (c.status == 200) ++served;
    if (c.state != Client::State::Closed || c.status != 200) continue;
    ++closed;
    // vane's idle wait starts between the request's send and the answer's arrival here.
    const auto after_sent = std::chrono::duration_cast<Millis>(c.closed - c.sent);
    const auto after_served = std::chrono::duration_cast<Millis>(c.closed - c.served);
    earliest = std::min(earliest, after_sent);
    latest = std::max(latest, after_served);
    if (after_sent < kIdleTimeout - kTick) ++early;
    if (after_served > kIdleTimeout + 2s) ++late;
  }
  std::cout << served << " served, " << closed << " closed by vane: the first "
            << earliest.count() << " ms after its request, the last " << latest.count()
            << " ms after its answer\n";
  EXPECT_EQ(served, connections) << "each connection is served its request first";
  EXPECT_EQ(closed, served) << "every served connection is closed by vane while idle";
  EXPECT_EQ(early, 0U) << "closed before idleTimeout; earliest " << earliest.count()
                       << " ms after its request";
  EXPECT_EQ(late, 0U) << "closed more than 2 s past idleTimeout; latest " << latest.count()
                      << " ms after its answer";

  RawClient fresh(vane.port());
  ASSERT_TRUE(fresh.send(request("GET", "/after", "x.test")));
  EXPECT_EQ(fresh.read_response().status, 200) << "vane still serves after the idle closes";
  EXPECT_EQ(vane.log().find("is below the"), std::string::npos) << vane.log();
}

TEST(IdleConnections, VaneRaisesItsOpenFilesLimitAndWarnsWhenItFallsShort) {
  constexpr rlim_t kLow = 256;
  if (hard_fd_limit() <= kLow) GTEST_SKIP() << "the hard open-files limit is " << kLow << " or less";
  TestUpstream single{"single"};
  // A pool vane could never hold open: the limit vane gets is short of it, which it says.
  const std::string yaml =
      render(std::string(idle_yaml), {{"single", single.address()}, {"pool", "4000000000"}});
  std::unique_ptr<Vane> vane;
  {
    SoftFdLimit low(kLow);  // inherited by vane's process
    ASSERT_TRUE(low.ok()) << std::strerror(errno);
    vane = std::make_unique<Vane>(yaml);
  }
  const auto [soft, hard] = open_files_limit(vane->pid());
  EXPECT_EQ(hard, std::to_string(hard_fd_limit()));
  EXPECT_EQ(soft, hard) << "vane raises its soft limit to the hard one";
  const std::string log = vane->log();
  EXPECT_NE(log.find("open files limit " + hard + " (raised from 256)"), std::string::npos) << log;
  EXPECT_NE(log.find("open files limit " + hard + " is below the "), std::string::npos) << log;
  RawClient client(vane->port());
  ASSERT_TRUE(client.send(request("GET", "/", "x.test")));
  EXPECT_EQ(client.read_response().status, 200) << "a warning, not a failure";
}

}  // namespace
}  // namespace vane::it
