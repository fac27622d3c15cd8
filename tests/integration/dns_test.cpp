// Endpoints given as DNS names, from outside (SPEC §2 `dnsRefresh`, issue #3): vane follows a
// name to its new address, keeps the last good addresses while the name does not resolve (and
// says so), spreads requests over every address of a name as it grows and shrinks (a Kubernetes
// headless Service), takes the same addresses in another order as no change, and after a reload
// still keeps the last good addresses and refreshes the new config's names.
//
// The names live in a hosts file of the test's own, which vane alone sees: vane runs in a mount
// namespace of its own where that file is mounted over the system's (the harness's
// `private_hosts`; it needs root, as CI has, and the tests skip otherwise). glibc's getaddrinfo
// reads the hosts file on every lookup. Two test upstreams share a port on two loopback addresses
// (127.0.0.2 and 127.0.0.3), so that one endpoint "NAME:PORT" can move between them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "tests/integration/harness.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

constexpr const char* kAddressA = "127.0.0.2";
constexpr const char* kAddressB = "127.0.0.3";
constexpr std::string_view kBaseHosts = "127.0.0.1 localhost\n";

/// The hosts file vane sees: localhost, then a line "ADDRESS NAME" per address of the test's
/// name. Rewritten in place, never replaced: the mount holds the file's inode, which a rename
/// would leave behind.
class PrivateHosts {
 public:
  explicit PrivateHosts(std::string name) : name_(std::move(name)), path_(dir_.path() / "hosts") {
    write_file(path_, std::string(kBaseHosts));
  }

  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }

  /// The name's addresses from now on, in this order (none: it no longer resolves).
  void set(const std::vector<std::string>& addresses) const {
    std::string text(kBaseHosts);
    for (const auto& address : addresses) text += address + " " + name_ + "\n";
    rewrite(text);
  }

 private:
  /// Writes only from the first byte that differs, then cuts the file to its new length: a lookup
  /// meanwhile sees the lines before the change as they were.
  void rewrite(const std::string& text) const {
    const std::string current = read_file(path_);
    size_t same = 0;
    while (same < text.size() && same < current.size() && text[same] == current[same]) ++same;
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path_.string());
    bool ok = true;
    for (size_t at = same; ok && at < text.size();) {
      const ssize_t n = ::pwrite(fd, text.data() + at, text.size() - at, static_cast<off_t>(at));
      ok = n > 0;
      if (ok) at += static_cast<size_t>(n);
    }
    ok = ok && ::ftruncate(fd, static_cast<off_t>(text.size())) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) throw std::system_error(saved, std::generic_category(), "write " + path_.string());
  }

  TempDir dir_;
  std::string name_;
  std::filesystem::path path_;
};

/// The addresses a program with `hosts` as its hosts file gets for the name (getent, in the same
/// private view as vane's), sorted; empty when the lookup fails.
std::vector<std::string> lookup(const PrivateHosts& hosts) {
  const CommandResult r = run_command({"getent", "ahostsv4", hosts.name()}, 10s, {}, hosts.path());
  std::set<std::string> addresses;  // a line per socket type: "127.0.0.2  STREAM NAME"
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (const std::string address = line.substr(0, line.find(' ')); !address.empty())
      addresses.insert(address);
  return {addresses.begin(), addresses.end()};
}

/// A name that stays on this machine: glibc's DNS backend never sends a name that is not a valid
/// host name (the underscore) to a server, so a name missing from the hosts file fails at once,
/// without a query leaving loopback.
std::string local_name(std::string_view role) { return "vane_dns_" + std::string(role) + ".test"; }

constexpr std::string_view dns_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: {{workers}}
upstreams:
  - {name: svc, endpoints: ["{{endpoint}}"], dnsRefresh: 1s}
{{more}}
routes:
  - {name: svc, match: {pathPrefix: /}, upstream: svc}
)";

/// Upstream svc on `endpoint`, refreshed every second; `more`: more upstreams.
std::string yaml(const std::string& endpoint, int workers = 2, const std::string& more = "") {
  return render(std::string(dns_yaml),
                {{"endpoint", endpoint}, {"workers", std::to_string(workers)}, {"more", more}});
}

/// Who answered each of `n` GETs, each on a connection of its own (so spread over vane's
/// workers): the upstream's name, or "status N" for anything but a complete 200.
std::vector<std::string> answers(uint16_t port, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const Response r = http_get(port, "/dns", "web.test");
    out.push_back(r.status == 200 && r.complete ? r.header("X-Upstream").value_or("(none)")
                                                : "status " + std::to_string(r.status));
  }
  return out;
}

std::map<std::string, size_t> tally(const std::vector<std::string>& answers) {
  std::map<std::string, size_t> counts;
  for (const auto& who : answers) ++counts[who];
  return counts;
}

std::string describe(const std::vector<std::string>& answers) {
  std::string text;
  for (const auto& [who, n] : tally(answers)) text += who + ": " + std::to_string(n) + "; ";
  return text;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string why = private_hosts_unsupported(); !why.empty())
      GTEST_SKIP() << "vane cannot have a hosts file of its own here: " << why;
    hosts_.emplace(local_name("svc"));
    // The premise: a program in vane's view sees each in-place change of its hosts file at once
    // (through the mount, and no nscd cache).
    hosts_->set({kAddressA});
    const auto first = lookup(*hosts_);
    hosts_->set({kAddressB});
    const auto second = lookup(*hosts_);
    hosts_->set({});
    const auto third = lookup(*hosts_);
    if (first != std::vector<std::string>{kAddressA} ||
        second != std::vector<std::string>{kAddressB} || !third.empty())
      GTEST_SKIP() << "lookups do not follow the private hosts file on every change here (nscd?)";
    start_upstreams();
  }

  /// a on 127.0.0.2:P and b on 127.0.0.3:P (P: any port free on both).
  void start_upstreams() {
    for (int attempt = 0;; ++attempt) {
      a_.emplace("a", 200, 0, kAddressA);
      try {
        b_.emplace("b", 200, a_->port(), kAddressB);
        return;
      } catch (const std::exception&) {
        if (attempt == 4) throw;
      }
    }
  }

  const PrivateHosts& hosts() const { return *hosts_; }
  uint16_t port() const { return a_->port(); }
  std::string endpoint() const { return hosts_->name() + ":" + std::to_string(port()); }
  /// vane with the test's hosts file; the config is reloaded only when a test asks.
  VaneOptions options() const { return {{"--no-watch-config"}, hosts_->path()}; }

  /// Waits until a GET is answered by `who`.
  static bool answered_by(uint16_t vane_port, const std::string& who, Millis timeout = 10s) {
    return wait_until([&] { return answers(vane_port, 1).front() == who; }, timeout);
  }

 private:
  std::optional<PrivateHosts> hosts_;
  std::optional<TestUpstream> a_, b_;
};

TEST_F(DnsTest, FollowsANameAndKeepsTheLastGoodAddressesWhileItFails) {
  hosts().set({kAddressA});
  // The same name in a second upstream (no route): each keeps its own addresses, once.
  const std::string twin = "  - {name: twin, endpoints: [\"" + endpoint() + "\"]}";
  Vane vane(yaml(endpoint(), 2, twin), options());
  const auto before = answers(vane.port(), 20);
  EXPECT_EQ(tally(before)["a"], 20U) << describe(before);

  hosts().set({kAddressB});
  ASSERT_TRUE(answered_by(vane.port(), "b")) << "vane did not follow the name to its new address";
  const auto moved = answers(vane.port(), 100);
  EXPECT_EQ(tally(moved)["b"], 100U) << "every request after the move: " << describe(moved);

  // The name no longer resolves: every refresh fails, and vane keeps b (and warns each time,
  // for each upstream): the addresses do not change.
  const std::string failed = "cannot resolve upstream endpoint " + endpoint() + " (";
  const std::string changed = "upstream addresses changed";
  const size_t changes = occurrences(vane.log(), changed);
  hosts().set({});
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string log = vane.log();
        return occurrences(log, failed) >= 4 &&
               occurrences(log, "keeping its last good addresses") >= 4;
      },
      10s))
      << "no warning about two failed refreshes";
  EXPECT_EQ(occurrences(vane.log(), changed), changes) << "a failed lookup changed the addresses";
  const auto failing = answers(vane.port(), 100);
  EXPECT_EQ(tally(failing)["b"], 100U) << "while the name fails: " << describe(failing);

  // It resolves again, elsewhere: vane follows it.
  hosts().set({kAddressA});
  ASSERT_TRUE(answered_by(vane.port(), "a")) << "vane did not follow the name when it came back";
  const auto back = answers(vane.port(), 50);
  EXPECT_EQ(tally(back)["a"], 50U) << describe(back);
}

TEST_F(DnsTest, SpreadsOverEveryAddressOfANameAsItGrowsAndShrinks) {
  // A second name that never resolves: its warning marks each refresh, even one that changes
  // nothing. One worker: its round-robin alternates between the addresses request by request.
  const std::string probe = local_name("probe") + ":" + std::to_string(port());
  hosts().set({kAddressA});
  const std::string probe_upstream = "  - {name: probe, endpoints: [\"" + probe + "\"], dnsRefresh: 1s}";
  Vane vane(yaml(endpoint(), 1, probe_upstream), options());
  const std::string refreshed = "cannot resolve upstream endpoint " + probe;
  auto await_refreshes = [&](size_t n) {
    const size_t seen = occurrences(vane.log(), refreshed);
    return wait_until([&] { return occurrences(vane.log(), refreshed) >= seen + n; }, 10s);
  };
  EXPECT_EQ(tally(answers(vane.port(), 10))["a"], 10U);

  hosts().set({kAddressA, kAddressB});  // scaled up
  ASSERT_TRUE(answered_by(vane.port(), "b")) << "vane did not pick up the name's second address";
  const auto both = answers(vane.port(), 40);
  EXPECT_EQ(tally(both)["a"], 20U) << describe(both);
  EXPECT_EQ(tally(both)["b"], 20U) << describe(both);

  // The same addresses in the other order (as a DNS server rotating its answers gives them):
  // no change, so nothing is rebuilt. Two refreshes: the second one began after the swap.
  const std::string changed = "upstream addresses changed";
  const size_t changes = occurrences(vane.log(), changed);
  hosts().set({kAddressB, kAddressA});
  ASSERT_TRUE(await_refreshes(2)) << "vane stopped refreshing";
  EXPECT_EQ(occurrences(vane.log(), changed), changes)
      << "the same addresses in another order were taken as a change";
  const auto swapped = answers(vane.port(), 40);
  EXPECT_EQ(tally(swapped)["a"], 20U) << describe(swapped);
  EXPECT_EQ(tally(swapped)["b"], 20U) << describe(swapped);

  const size_t before_shrink = occurrences(vane.log(), changed);
  hosts().set({kAddressB});  // scaled down
  ASSERT_TRUE(wait_until([&] { return occurrences(vane.log(), changed) > before_shrink; }, 10s))
      << "vane did not notice the name lost an address";
  // The line is logged before the new addresses are posted to the worker: two answers in a row
  // from b (never while it alternates between two addresses) say the worker has them.
  ASSERT_TRUE(wait_until([&] { return tally(answers(vane.port(), 2))["b"] == 2; }, 10s))
      << "the worker did not take the name's one address";
  const auto one = answers(vane.port(), 40);
  EXPECT_EQ(tally(one)["b"], 40U) << describe(one);
}

TEST_F(DnsTest, AReloadKeepsTheLastGoodAddressesAndRefreshesTheNewNames) {
  // First no name at all (so nothing to refresh), then a reload to the name.
  hosts().set({kAddressA});
  Vane vane(yaml(std::string(kAddressA) + ":" + std::to_string(port())), options());
  EXPECT_EQ(tally(answers(vane.port(), 10))["a"], 10U);
  write_file(vane.config_path(), yaml(endpoint()));
  const Response reloaded = admin_call(vane.admin_port(), "POST", "/api/v1/reload");
  ASSERT_EQ(reloaded.status, 200) << reloaded.body;
  EXPECT_EQ(tally(answers(vane.port(), 10))["a"], 10U);

  hosts().set({kAddressB});
  ASSERT_TRUE(answered_by(vane.port(), "b")) << "the reloaded config's name is never refreshed";

  // A reload while the name does not resolve: the last good addresses stay.
  hosts().set({});
  const Response again = admin_call(vane.admin_port(), "POST", "/api/v1/reload");
  ASSERT_EQ(again.status, 200) << again.body;
  const std::string log = vane.log();
  EXPECT_NE(log.find("cannot resolve upstream endpoint " + endpoint()), std::string::npos) << log;
  EXPECT_NE(log.find("keeping its last good addresses"), std::string::npos) << log;
  const auto after = answers(vane.port(), 50);
  EXPECT_EQ(tally(after)["b"], 50U) << "after a reload with the name failing: " << describe(after);
}

}  // namespace
}  // namespace vane::it
