// Live reload from outside (SPEC §6, §7, issue #3): a load loop of several seconds sees no failed
// request and no dropped connection while the config changes twice (one of them an invalid file,
// which leaves the old config serving); a Kubernetes ConfigMap volume's atomic `..data` symlink
// swap reloads a vane that runs with --watch-config. (Reload errors and SIGHUP: see
// rollout_api_test.cpp.)
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/integration/harness.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view reload_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 2
upstreams:
{{upstreams}}
routes:
  - {name: app, match: {pathPrefix: /}, upstream: {{target}}}
)";

/// A config whose only route goes to `target`; `upstreams` are (name, address) pairs.
std::string config(const std::vector<std::pair<std::string, std::string>>& upstreams,
                   const std::string& target) {
  std::string list;
  for (const auto& [name, address] : upstreams)
    list += "  - {name: " + name + ", endpoints: [\"" + address + "\"]}\n";
  list.pop_back();
  return render(std::string(reload_yaml), {{"upstreams", list}, {"target", target}});
}

double reloads(uint16_t admin_port, const std::string& result) {
  return metric_sum(parse_metrics(scrape(admin_port)), "vane_config_reloads_total",
                    {{"result", result}});
}

/// Clients that keep sending requests until stopped: keep-alive connections (some requests slow,
/// so that some are in flight at every moment) and one client opening a connection per request.
/// Each response is counted under the phase in force while its request was sent and answered (one
/// that spans a change of phase counts as "spanning" under the later one), and a keep-alive
/// connection that vane closes counts as a failure. (load_loop.hpp's LoadLoop paces a steady
/// split for rollouts; this one pushes as hard as it can and tells the phases apart.)
class PhasedLoad {
 public:
  static constexpr int kPhases = 3;

  PhasedLoad(uint16_t port, int keep_alive_clients) {
    for (int c = 0; c < keep_alive_clients; ++c)
      threads_.emplace_back([this, port, c] { keep_alive(port, c); });
    threads_.emplace_back([this, port] { new_connections(port); });
  }
  ~PhasedLoad() { stop(); }

  void set_phase(int phase) { phase_.store(phase); }
  void stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  /// Responses of `phase` from `upstream` ("failed": anything but a complete 200 on an open
  /// connection).
  int count(int phase, const std::string& upstream) {
    std::lock_guard lock(mutex_);
    const auto it = counts_[phase].find(upstream);
    return it == counts_[phase].end() ? 0 : it->second;
  }
  int total() { return total_.load(); }
  std::string describe() {
    std::lock_guard lock(mutex_);
    std::string text;
    for (int p = 0; p < kPhases; ++p) {
      text += "phase " + std::to_string(p) + ": ";
      for (const auto& [who, n] : counts_[p]) text += who + "=" + std::to_string(n) + " ";
    }
    return text + failures_;
  }

 private:
  /// `phase`: the phase when the request was sent.
  void note(int phase, const Response& r, const std::string& what) {
    const bool ok = r.status == 200 && r.complete && !r.peer_closed;
    std::string who = ok ? r.header("X-Upstream").value_or("(none)") : "failed";
    if (const int now = phase_.load(); now != phase) {
      if (ok) who = "spanning " + who;
      phase = now;
    }
    std::lock_guard lock(mutex_);
    ++counts_[phase][who];
    ++total_;
    if (!ok && failures_.size() < 2000)
      failures_ += "\n  " + what + ": status " + std::to_string(r.status) +
                   (r.complete ? "" : " incomplete") + (r.peer_closed ? " closed" : "") +
                   (r.timed_out ? " timed out" : "");
  }

  void keep_alive(uint16_t port, int c) {
    std::unique_ptr<RawClient> client;
    for (uint64_t i = 0; !stop_.load(); ++i) {
      const int phase = phase_.load();
      const std::string target = i % 4 == 0 ? "/slow?delay_ms=40" : "/fast";
      Response r;
      try {
        if (!client) client = std::make_unique<RawClient>(port);
        if (client->send(request("GET", target, "app.test"))) r = client->read_response(5s);
      } catch (const std::exception&) {  // a refused connection: counted as failed
      }
      note(phase, r, "client " + std::to_string(c) + " " + target);
      if (r.status == 0 || r.peer_closed || !r.complete) client.reset();
    }
  }

  void new_connections(uint16_t port) {
    while (!stop_.load()) {
      const int phase = phase_.load();
      Response r;
      try {
        r = http_get(port, "/new", "app.test");
      } catch (const std::exception&) {  // a refused connection: counted as failed
      }
      note(phase, r, "new connection");
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<int> phase_{0};
  std::atomic<int> total_{0};
  std::mutex mutex_;
  std::map<std::string, int> counts_[kPhases];
  std::string failures_;
  std::vector<std::thread> threads_;
};

TEST(ReloadTest, ReloadsUnderLoadFailNoRequest) {
  TestUpstream one("one"), two("two"), three("three");
  const std::string first = config({{"one", one.address()}, {"two", two.address()}}, "one");
  // `one` goes away: its requests in flight finish on the old generation, which then drains.
  const std::string second = config({{"two", two.address()}, {"three", three.address()}}, "two");
  const std::string invalid = config({{"two", two.address()}}, "nowhere");
  VaneRun vane(first, {"--no-watch-config"});

  PhasedLoad load(vane.port(), 3);
  const auto started = Clock::now();
  auto elapsed_and = [&](Millis at_least, const std::function<bool()>& condition) {
    return wait_until([&] { return Clock::now() - started >= at_least && condition(); }, 20s);
  };
  ASSERT_TRUE(elapsed_and(1s, [&] { return load.count(0, "one") >= 100; })) << load.describe();

  load.set_phase(1);
  write_file(vane.config_path(), second);
  const Response applied = admin_call(vane.admin_port(), "POST", "/api/v1/reload");
  ASSERT_EQ(applied.status, 200) << applied.body;
  ASSERT_TRUE(elapsed_and(2s, [&] { return load.count(1, "two") >= 100; })) << load.describe();

  load.set_phase(2);
  write_file(vane.config_path(), invalid);
  const Response rejected = admin_call(vane.admin_port(), "POST", "/api/v1/reload");
  EXPECT_EQ(rejected.status, 400) << rejected.body;
  EXPECT_NE(rejected.body.find("nowhere"), std::string::npos) << rejected.body;
  ASSERT_TRUE(elapsed_and(3500ms, [&] { return load.count(2, "two") >= 100; })) << load.describe();
  load.stop();

  EXPECT_GE(Clock::now() - started, 3s);
  for (int phase = 0; phase < PhasedLoad::kPhases; ++phase)
    EXPECT_EQ(load.count(phase, "failed"), 0) << "phase " << phase << ": " << load.describe();
  EXPECT_EQ(load.count(0, "two") + load.count(0, "three"), 0) << load.describe();
  EXPECT_EQ(load.count(2, "one") + load.count(2, "three"), 0)
      << "the rejected file must leave the second config serving: " << load.describe();
  EXPECT_GT(load.total(), 300) << load.describe();
  EXPECT_EQ(reloads(vane.admin_port(), "success"), 1);
  EXPECT_EQ(reloads(vane.admin_port(), "failure"), 1);
}

/// A directory laid out as the kubelet writes a ConfigMap volume: the data in a timestamped
/// directory, `..data` a symlink to it, and `vane.yaml` a symlink to `..data/vane.yaml`. An update
/// writes a new timestamped directory, points `..data_tmp` at it and renames that over `..data`
/// (one atomic step), then deletes the old directory.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_);
  }

  void publish(const std::string& yaml) {
    const std::string name = "..2024_05_01_12_00_" + std::to_string(++version_) + ".000000001";
    fs::create_directory(dir_ / name);
    write_file(dir_ / name / "vane.yaml", yaml);
    fs::create_directory_symlink(name, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    if (!fs::is_symlink(dir_ / "vane.yaml"))
      fs::create_symlink("..data/vane.yaml", dir_ / "vane.yaml");
    if (!current_.empty()) fs::remove_all(dir_ / current_);
    current_ = name;
  }

  fs::path file() const { return dir_ / "vane.yaml"; }

 private:
  fs::path dir_;
  std::string current_;
  int version_ = 0;
};

/// `vane run -c VOLUME/vane.yaml` (watching the config: the default) in a directory of its own.
class WatchingVane {
 public:
  WatchingVane(const TempDir& dir, const fs::path& config) {
    const auto ready = dir.path() / "ready.json";
    process_ = std::make_unique<Process>(
        std::vector<std::string>{vane_binary(), "run", "-c", config.string(), "--ready-file",
                                 ready.string()},
        dir.path(), dir.path() / "vane.stdout", dir.path() / "vane.stderr");
    log_ = dir.path() / "vane.stderr";
    json::value info;
    wait_until(
        [&] {
          info = parse_json(read_file(ready));
          return !process_->running() || info.is_object();
        },
        10s);
    if (!info.is_object()) throw std::runtime_error("vane did not start:\n" + read_file(log_));
    admin_ = port_of(field(info, "admin"));
    port_ = port_of(field(field(info, "listeners"), "public"));
  }
  ~WatchingVane() {
    if (::testing::Test::HasFailure())
      std::cerr << "---- vane stderr ----\n" << read_file(log_) << "----\n";
  }

  uint16_t port() const { return port_; }
  uint16_t admin() const { return admin_; }

 private:
  static uint16_t port_of(const json::value& address) {
    const std::string text = str(address);
    return static_cast<uint16_t>(std::stoul(text.substr(text.rfind(':') + 1)));
  }

  std::unique_ptr<Process> process_;
  fs::path log_;
  uint16_t admin_ = 0;
  uint16_t port_ = 0;
};

std::string served_by(uint16_t port) {
  return http_get(port, "/who", "app.test").header("X-Upstream").value_or("(none)");
}

TEST(ReloadTest, ConfigMapSymlinkSwapReloads) {
  TestUpstream one("one"), two("two");
  const std::vector<std::pair<std::string, std::string>> upstreams{{"one", one.address()},
                                                                    {"two", two.address()}};
  TempDir dir;
  ConfigMapVolume volume(dir.path() / "config");
  volume.publish(config(upstreams, "one"));
  WatchingVane vane(dir, volume.file());
  EXPECT_EQ(served_by(vane.port()), "one");

  volume.publish(config(upstreams, "two"));
  EXPECT_TRUE(wait_until([&] { return served_by(vane.port()) == "two"; }, 5s))
      << "the swap of ..data was not seen";
  EXPECT_EQ(reloads(vane.admin(), "success"), 1);

  volume.publish(config(upstreams, "nowhere"));
  EXPECT_TRUE(wait_until([&] { return reloads(vane.admin(), "failure") == 1; }, 5s))
      << "an invalid file behind the swap should be a failed reload";
  EXPECT_EQ(served_by(vane.port()), "two") << "the old config must keep serving";

  volume.publish(config(upstreams, "one"));
  EXPECT_TRUE(wait_until([&] { return served_by(vane.port()) == "one"; }, 5s))
      << "a good file after a bad one must apply";
  EXPECT_EQ(reloads(vane.admin(), "success"), 2);
}

/// What building a large config freed is given back to the system (control/heap_release.hpp):
/// tcmalloc kept the pages of the YAML tree and of a replaced generation, and vane stayed at the
/// peak of its start-up or of its last reload. Where vane allocates with tcmalloc only.
TEST(ReloadTest, WhatALargeConfigsBuildFreedIsGivenBack) {
  // A sanitizer's allocator replaces tcmalloc, and building 100,000 routes under it can outlast
  // the harness's start-up wait on a busy machine: the test would say nothing there.
  if (vane_sanitized()) GTEST_SKIP() << "a sanitized vane allocates without tcmalloc";
  TestUpstream upstream("u");
  std::string yaml = R"(listeners: [{name: public, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
workers: 1
upstreams: [{name: u, endpoints: [")" + upstream.address() + R"("]}]
routes:
)";
  for (int i = 0; i < 100000; ++i) {
    const std::string n = std::to_string(i);
    yaml += "  - {name: r" + n + ", match: {host: h" + n + ".test}, upstream: u}\n";
  }
  Vane vane(yaml, VaneOptions{{"--no-watch-config"}, {}});
  if (read_file("/proc/" + std::to_string(vane.pid()) + "/maps").find("libtcmalloc") == std::string::npos) {
    GTEST_SKIP() << "this vane allocates without tcmalloc (VANE_TCMALLOC=OFF)";
  }
  const auto resident = [&] { return proc_status_kib(vane.pid(), "VmRSS"); };
  const auto peak = [&] { return proc_status_kib(vane.pid(), "VmHWM"); };
  // Given back: below two thirds of the peak (it stayed within a few % of it before).
  const auto given_back = [&] { return wait_until([&] { return resident() * 3 < peak() * 2; }, 10s); };
  EXPECT_TRUE(given_back()) << "after the start: " << resident() << " KiB resident, peak " << peak();
  for (int reload = 0; reload < 2; ++reload) {
    const Response r = admin_call(vane.admin_port(), "POST", "/api/v1/reload", "", 30s);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(given_back()) << "after reload " << reload + 1 << ": " << resident() << " KiB resident, peak "
                              << peak();
  }
}

}  // namespace
}  // namespace vane::it
