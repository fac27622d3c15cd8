// Mirror routes (SPEC §3): matching stable-bound requests are copied to the canary with
// `X-Vane-Mirror: 1` at the route's percentage; the client never waits for a copy nor sees its
// answer; copies over maxMirrorInFlight are dropped and counted; other requests are not copied.
// The canary here is a recording upstream of the test's own, so it can hang and show each copy.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// An HTTP/1.1 origin on 127.0.0.1:0 that records every request (head and body) and answers
/// each after `delay` (0: at once) with 200 and `X-Upstream: NAME`. One thread of its own.
class RecordingUpstream {
 public:
  struct Seen {
    std::string method, target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    Clock::time_point at;  ///< when the whole request had arrived
    std::optional<std::string> header(std::string_view name) const {
      for (const auto& [n, v] : headers)
        if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
      return std::nullopt;
    }
  };

  explicit RecordingUpstream(std::string name) : name_(std::move(name)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 128) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("RecordingUpstream: cannot listen");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~RecordingUpstream() {
    stop_ = true;
    thread_.join();
    for (auto& c : conns_) ::close(c.fd);
    ::close(listener_);
  }

  RecordingUpstream(const RecordingUpstream&) = delete;
  RecordingUpstream& operator=(const RecordingUpstream&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void set_delay(Millis delay) { delay_ms_ = delay.count(); }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return seen_.size();
  }
  /// Requests marked `X-Vane-Mirror: 1`.
  size_t mirrored() const {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count_if(seen_.begin(), seen_.end(), [](const Seen& s) {
      return s.header("X-Vane-Mirror") == std::optional<std::string>("1");
    }));
  }
  /// Most requests received and not yet answered at one time.
  size_t max_open() const { return max_open_; }

 private:
  struct Conn {
    int fd = -1;
    std::string in;
    std::deque<Clock::time_point> due;  ///< one answer per request received, in order
  };

  void run() {
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& c : conns_) fds.push_back({c.fd, POLLIN, 0});
      ::poll(fds.data(), fds.size(), 5);
      if (fds[0].revents & POLLIN) accept_all();
      for (size_t i = 1; i < fds.size(); ++i)
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_from(conns_[i - 1]);
      std::erase_if(conns_, [](const Conn& c) { return c.fd < 0; });
      answer_due();
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      conns_.push_back(Conn{fd, {}, {}});
    }
  }

  void read_from(Conn& c) {
    char buf[16384];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    if (n > 0) c.in.append(buf, static_cast<size_t>(n));
    while (auto request = take_request(c.in)) {
      c.due.push_back(Clock::now() + Millis(delay_ms_.load()));
      request->at = Clock::now();
      std::lock_guard lock(mutex_);
      seen_.push_back(std::move(*request));
      size_t open = 0;
      for (const auto& other : conns_) open += other.due.size();
      max_open_ = std::max<size_t>(max_open_, open);
    }
  }

  /// A complete request at the front of `in` (removed from it); nullopt until one is there.
  static std::optional<Seen> take_request(std::string& in) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    Seen seen;
    std::istringstream head(in.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    std::istringstream first(line);
    first >> seen.method >> seen.target;
    size_t length = 0;
    bool chunked = false;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      seen.headers.emplace_back(line.substr(0, colon), value);
      if (::strcasecmp(line.substr(0, colon).c_str(), "Content-Length") == 0) length = std::stoul(value);
      if (::strcasecmp(line.substr(0, colon).c_str(), "Transfer-Encoding") == 0) chunked = true;
    }
    size_t at = head_end + 4;
    if (chunked) {
      for (;;) {  // size CRLF data CRLF ... 0 CRLF CRLF (no trailers)
        const size_t eol = in.find("\r\n", at);
        if (eol == std::string::npos) return std::nullopt;
        const size_t size = std::stoul(in.substr(at, eol - at), nullptr, 16);
        if (in.size() < eol + 2 + size + 2) return std::nullopt;
        seen.body += in.substr(eol + 2, size);
        at = eol + 2 + size + 2;
        if (size == 0) break;
      }
    } else {
      if (in.size() < at + length) return std::nullopt;
      seen.body = in.substr(at, length);
      at += length;
    }
    in.erase(0, at);
    return seen;
  }

  void answer_due() {
    const auto now = Clock::now();
    const std::string answer =
        "HTTP/1.1 200 OK\r\nX-Upstream: " + name_ + "\r\nContent-Length: 3\r\n\r\nok\n";
    for (auto& c : conns_) {
      while (!c.due.empty() && c.due.front() <= now) {
        c.due.pop_front();
        (void)::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
    }
  }

  std::string name_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<size_t> max_open_{0};
  std::vector<Conn> conns_;  ///< the thread's own
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

RolloutSetup mirror_setup(const RecordingUpstream& canary, std::string_view percentage,
                          std::string_view match, std::string top_extra = "", int workers = 2) {
  RolloutSetup setup;
  setup.endpoints["v2"] = canary.address();
  setup.top_extra = std::move(top_extra);
  setup.workers = workers;
  setup.canary = render(R"(        steps:
          - setMirrorRoute:
              name: shadow
              percentage: {{percentage}}
              match:
{{match}}
          - pause: {}
)",
                        {{"percentage", std::string(percentage)}, {"match", std::string(match)}});
  return setup;
}

constexpr std::string_view get_api_match = R"(                - method: {exact: GET}
                  path: {prefix: /api})";

void start_mirroring(RolloutRig& rig) {
  const Response reload = rig.set_desired("v2");
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 0, s)) << summary(s);
  const json::value routes = field(s, "mirrorRoutes");
  ASSERT_TRUE(routes.is_array() && routes.get_array().size() == 1) << json::serialize(routes);
  EXPECT_EQ(str(field(routes.get_array()[0], "name")), "shadow");
}

double mirror_requests(uint16_t admin) {
  return metric_sum(parse_metrics(scrape(admin)), "vane_requests_total", {{"target", "mirror"}});
}

/// Waits until the copies have stopped arriving: the canary's count of marked requests is
/// unchanged over 300 ms and equals what vane measured as target `mirror` (each copy is measured
/// once it is answered).
bool wait_copies_settled(const RecordingUpstream& canary, uint16_t admin, Millis timeout = 10s) {
  size_t last = SIZE_MAX;
  auto since = Clock::now();
  return wait_until(
      [&] {
        const size_t now_count = canary.mirrored();
        if (now_count != last) {
          last = now_count;
          since = Clock::now();
          return false;
        }
        return Clock::now() - since >= 300ms && mirror_requests(admin) == static_cast<double>(now_count);
      },
      timeout);
}

TEST(RolloutMirrorTest, HalfOfMatchingGetsAreCopiedAndClientsSeeOnlyStable) {
  RecordingUpstream canary("v2");
  RolloutRig rig(mirror_setup(canary, "50", get_api_match));
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));

  constexpr int n = 800;
  std::vector<std::string> extras;
  for (int i = 0; i < n; ++i) extras.push_back("X-Trace: t" + std::to_string(i) + "\r\n");
  std::vector<Response> responses;
  {
    // Each request has its own target, so every copy can be traced to it.
    RawClient client(rig.port());
    for (int i = 0; i < n; i += 50) {
      std::string pipeline;
      for (int j = i; j < i + 50; ++j)
        pipeline += request("GET", "/api/" + std::to_string(j) + "?echo=1", "web.test",
                            extras[static_cast<size_t>(j)]);
      ASSERT_TRUE(client.send(pipeline));
      for (int j = i; j < i + 50; ++j) responses.push_back(client.read_response());
    }
  }
  for (int i = 0; i < n; ++i) {
    const Response& r = responses[static_cast<size_t>(i)];
    ASSERT_EQ(side_of(r), "v1") << "request " << i;
    const auto echo = parse_echo(r.body);
    ASSERT_TRUE(echo) << r.body;
    EXPECT_EQ(echo->target, "/api/" + std::to_string(i) + "?echo=1");
    EXPECT_TRUE(echo->values("X-Vane-Mirror").empty()) << "stable got a mirror mark";
  }
  EXPECT_EQ(rig.v1().stats().requests, static_cast<uint64_t>(n));
  ASSERT_TRUE(wait_copies_settled(canary, rig.admin()))
      << "canary saw " << canary.mirrored() << " copies, vane measured " << mirror_requests(rig.admin());

  const auto seen = canary.seen();
  EXPECT_NEAR(static_cast<double>(seen.size()), n / 2.0, binomial_band(0.5, n));
  std::set<std::string> targets;
  for (const auto& s : seen) {
    EXPECT_EQ(s.method, "GET");
    EXPECT_EQ(s.header("X-Vane-Mirror").value_or("(none)"), "1") << s.target;
    EXPECT_TRUE(targets.insert(s.target).second) << "copied twice: " << s.target;
    const std::string index = s.target.substr(5, s.target.find('?') - 5);  // "/api/" N "?echo=1"
    EXPECT_EQ(s.header("X-Trace").value_or("(none)"), "t" + index) << "client headers lost";
  }
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_mirror_skipped_total"), 0);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"route", "web"}, {"target", "stable"}}), n);
}

TEST(RolloutMirrorTest, OnlyMatchingRequestsAreCopied) {
  RecordingUpstream canary("v2");
  RolloutRig rig(mirror_setup(canary, "100", R"(                - method: {exact: GET}
                  path: {prefix: /api}
                - headers: {X-Shadow: {exact: "on"}})",
                              "limits: {maxMirrorBodyBytes: 1024}"));
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));

  struct Kind {
    std::string method, target, extra, body;
    bool chunked;
    bool mirrored;
  };
  const std::string small(1000, 's'), big(1500, 'b');
  const std::vector<Kind> kinds = {
      {"GET", "/api/a", "", "", false, true},
      {"GET", "/other/b", "", "", false, false},
      {"GET", "/ap", "", "", false, false},
      {"POST", "/api/c", "", "abc", false, false},               // method differs
      {"GET", "/other/d", "X-Shadow: on\r\n", "", false, true},  // second entry: entries OR
      {"POST", "/submit/e", "X-Shadow: on\r\n", small, false, true},
      {"POST", "/submit/f", "X-Shadow: on\r\n", small, true, true},
      {"POST", "/big/g", "X-Shadow: on\r\n", big, false, false},  // over maxMirrorBodyBytes
      {"POST", "/big/h", "X-Shadow: on\r\n", big, true, false},
      {"GET", "/other/i", "X-Shadow: off\r\n", "", false, false},
  };
  constexpr int each = 10;
  RawClient client(rig.port());
  for (const auto& k : kinds) {
    for (int i = 0; i < each; ++i) {
      std::string extra = k.extra, body = k.body;
      if (k.chunked) {  // in two chunks
        const size_t half = body.size() / 2;
        const auto hex = [](size_t n) {
          std::ostringstream out;
          out << std::hex << n;
          return out.str();
        };
        body = hex(half) + "\r\n" + k.body.substr(0, half) + "\r\n" + hex(body.size() - half) + "\r\n" +
               k.body.substr(half) + "\r\n0\r\n\r\n";
        extra += "Transfer-Encoding: chunked\r\n";
      } else if (!body.empty()) {
        extra += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      }
      ASSERT_TRUE(client.send(request(k.method, k.target + "?echo=1", "web.test", extra) + body));
      const Response r = client.read_response();
      ASSERT_EQ(side_of(r), "v1") << k.method << " " << k.target;
      const auto echo = parse_echo(r.body);
      ASSERT_TRUE(echo) << r.body;
      EXPECT_EQ(echo->body_bytes, k.body.size()) << "stable must get the whole body: " << k.target;
    }
  }
  ASSERT_TRUE(wait_copies_settled(canary, rig.admin()))
      << "canary saw " << canary.mirrored() << " copies, vane measured " << mirror_requests(rig.admin());
  std::map<std::string, int> copies;
  for (const auto& s : canary.seen()) {
    const std::string path = s.target.substr(0, s.target.find('?'));
    ++copies[s.method + " " + path];
    EXPECT_EQ(s.header("X-Vane-Mirror").value_or("(none)"), "1");
    for (const auto& k : kinds) {
      if (k.target == path) {
        EXPECT_EQ(s.body, k.body) << "the copy must carry the body: " << path;
      }
    }
  }
  for (const auto& k : kinds)
    EXPECT_EQ(copies[k.method + " " + k.target], k.mirrored ? each : 0) << k.method << " " << k.target;
  const double skipped =
      metric_sum(parse_metrics(scrape(rig.admin())), "vane_mirror_skipped_total", {{"rollout", "web"}});
  EXPECT_EQ(skipped, 2 * each) << "bodies over maxMirrorBodyBytes are counted";
}

TEST(RolloutMirrorTest, OnlyRequestsThatWentToStableAreCopied) {
  RecordingUpstream canary("v2");
  RolloutSetup setup;
  setup.endpoints["v2"] = canary.address();
  setup.canary = R"(        steps:
          - setWeight: 50
          - setMirrorRoute:
              name: shadow
              match: [{path: {prefix: /api}}]
          - pause: {}
)";
  RolloutRig rig(setup);
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 50, s)) << summary(s);

  constexpr int n = 200;
  std::set<std::string> to_stable, to_canary;
  RawClient client(rig.port());
  for (int i = 0; i < n; ++i) {
    const std::string target = "/api/" + std::to_string(i);
    ASSERT_TRUE(client.send(request("GET", target, "web.test")));
    const std::string side = side_of(client.read_response());
    ASSERT_TRUE(side == "v1" || side == "v2") << side;
    (side == "v1" ? to_stable : to_canary).insert(target);
  }
  ASSERT_TRUE(wait_copies_settled(canary, rig.admin()))
      << "canary saw " << canary.mirrored() << " copies, vane measured " << mirror_requests(rig.admin());
  std::set<std::string> copied, direct;
  for (const auto& seen : canary.seen())
    (seen.header("X-Vane-Mirror") ? copied : direct).insert(seen.target);
  EXPECT_EQ(copied, to_stable) << "percentage defaults to 100: every stable-bound request, only those";
  EXPECT_EQ(direct, to_canary);
  EXPECT_EQ(canary.count(), static_cast<size_t>(n)) << "one request per target at the canary";
}

TEST(RolloutMirrorTest, AbortStopsMirroring) {
  RecordingUpstream canary("v2");
  RolloutRig rig(mirror_setup(canary, "100", get_api_match));
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));
  EXPECT_EQ(send_requests(rig.port(), 30, "/api/before").count("v1"), 30);
  ASSERT_TRUE(wait_copies_settled(canary, rig.admin()));
  ASSERT_EQ(canary.count(), 30U) << "percentage 100 copies every matching request";

  const Response abort = admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/abort");
  ASSERT_EQ(abort.status, 200) << abort.body;
  EXPECT_EQ(field(parse_json(abort.body), "mirrorRoutes"), json::value(json::array{}));
  EXPECT_EQ(send_requests(rig.port(), 30, "/api/after").count("v1"), 30);
  ASSERT_TRUE(wait_copies_settled(canary, rig.admin()));
  EXPECT_EQ(canary.count(), 30U) << "copies after the abort";
}

TEST(RolloutMirrorTest, HangingCanaryNeverDelaysClientsAndSkipsAreCounted) {
  RecordingUpstream canary("v2");
  canary.set_delay(5s);
  constexpr int in_flight = 4, n = 40;
  RolloutRig rig(mirror_setup(canary, "100", get_api_match,
                              "limits: {maxMirrorInFlight: " + std::to_string(in_flight) + "}",
                              1));  // maxMirrorInFlight is per worker
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));

  RawClient client(rig.port());
  const auto start = Clock::now();
  Clock::duration slowest{};
  for (int i = 0; i < n; ++i) {
    const auto sent = Clock::now();
    ASSERT_TRUE(client.send(request("GET", "/api/" + std::to_string(i), "web.test")));
    const Response r = client.read_response(2s);
    slowest = std::max(slowest, Clock::now() - sent);
    ASSERT_EQ(side_of(r), "v1") << "request " << i;
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_LT(slowest, 1s) << "a client waited for its mirror copy";
  ASSERT_LT(elapsed, 4s) << "too slow to test the in-flight limit: copies may have finished";

  EXPECT_TRUE(wait_until([&] { return canary.count() == in_flight; }, 2s))
      << "canary got " << canary.count() << " copies; expected " << in_flight << " in flight";
  double skipped = 0;
  const std::map<std::string, std::string> labels{{"rollout", "web"}};  // the reason is vane's word
  EXPECT_TRUE(wait_until(
      [&] {
        skipped = metric_sum(parse_metrics(scrape(rig.admin())), "vane_mirror_skipped_total", labels);
        return skipped == n - in_flight;
      },
      2s))
      << "vane_mirror_skipped_total{rollout=\"web\"} = " << skipped << ", expected "
      << n - in_flight;
  EXPECT_LE(canary.max_open(), static_cast<size_t>(in_flight));
}

TEST(RolloutMirrorTest, TheCopyLeavesOnlyOnceTheClientHasItsAnswer) {
  // The copy must not compete with the answer (SPEC §3: the client never waits for it), so vane
  // sends it when the answer is out. Stable takes 300 ms here: a copy sent along with the request
  // would reach the canary at once.
  RecordingUpstream canary("v2");
  RolloutRig rig(mirror_setup(canary, "100", get_api_match));
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));
  RawClient client(rig.port());
  const auto sent = Clock::now();
  ASSERT_TRUE(client.send(request("GET", "/api/slow?delay_ms=300", "web.test")));
  const Response r = client.read_response(5s);
  ASSERT_EQ(side_of(r), "v1");
  ASSERT_TRUE(wait_until([&] { return canary.mirrored() == 1; }, 5s));
  const auto copy = canary.seen().front();
  EXPECT_GE(copy.at - sent, 300ms) << "the copy reached the canary before stable had answered";
}

TEST(RolloutMirrorTest, TheInFlightLimitHoldsForCopiesWaitingOnTheirAnswers) {
  // Copies leave after their answers, so the limit is checked then too: clients whose answers
  // are all still pending must not each send a copy once they have them.
  RecordingUpstream canary("v2");
  canary.set_delay(5s);  // copies stay in flight for the rest of the test
  constexpr int in_flight = 2, clients = 6;
  RolloutRig rig(mirror_setup(canary, "100", get_api_match,
                              "limits: {maxMirrorInFlight: " + std::to_string(in_flight) + "}", 1));
  ASSERT_NO_FATAL_FAILURE(start_mirroring(rig));
  std::vector<std::unique_ptr<RawClient>> open;
  for (int i = 0; i < clients; ++i) {  // stable answers each after 300 ms: all are pending at once
    open.push_back(std::make_unique<RawClient>(rig.port()));
    ASSERT_TRUE(open.back()->send(request("GET", "/api/" + std::to_string(i) + "?delay_ms=300", "web.test")));
  }
  for (auto& client : open) ASSERT_EQ(side_of(client->read_response(5s)), "v1");
  double skipped = 0;
  const std::map<std::string, std::string> labels{{"rollout", "web"}};
  EXPECT_TRUE(wait_until(
      [&] {
        skipped = metric_sum(parse_metrics(scrape(rig.admin())), "vane_mirror_skipped_total", labels);
        return skipped == clients - in_flight;
      },
      2s))
      << "vane_mirror_skipped_total{rollout=\"web\"} = " << skipped;
  EXPECT_TRUE(wait_until([&] { return canary.count() == in_flight; }, 2s)) << canary.count();
  EXPECT_LE(canary.max_open(), static_cast<size_t>(in_flight)) << "more copies in flight than the limit";
}

}  // namespace
}  // namespace vane::it
