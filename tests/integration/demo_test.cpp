// `vane demo` end to end (README's first command runs it): both acts, and its help.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

TEST(DemoTest, PromotesTheGoodCanaryAndAbortsTheBadOneByItself) {
  TempDir dir;
  Process demo({vane_binary(), "demo", "--duration", "1"}, dir.path(), dir.path() / "out", dir.path() / "err");
  // The dashboard's URL comes first, and it serves while the demo runs.
  std::string out;
  uint16_t admin = 0;
  constexpr std::string_view kDashboard = "dashboard: http://127.0.0.1:";
  ASSERT_TRUE(wait_until([&] {
    out = read_file(dir.path() / "out");
    const size_t at = out.find(kDashboard);
    if (at == std::string::npos || out.find('\n', at) == std::string::npos) return false;
    admin = static_cast<uint16_t>(std::stoul(out.substr(at + kDashboard.size())));
    return true;
  }, 20s)) << out << read_file(dir.path() / "err");
  RawClient page(admin);
  ASSERT_TRUE(page.send(request("GET", "/", "127.0.0.1", "Connection: close\r\n")));
  const Response r = page.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<!doctype html>"), std::string::npos) << r.body;
  ASSERT_TRUE(wait_until([&] {
    RawClient api(admin);
    if (!api.send(request("GET", "/api/v1/rollouts/shop/series", "127.0.0.1", "Connection: close\r\n"))) return false;
    return api.read_response().body.find("\"rps\":") != std::string::npos;
  }, 5s));

  ASSERT_EQ(demo.wait_exit(120s), 0) << read_file(dir.path() / "out") << read_file(dir.path() / "err");
  out = read_file(dir.path() / "out");
  EXPECT_NE(out.find("shop-v2 passed every analysis and is now stable"), std::string::npos) << out;
  EXPECT_NE(out.find("vane aborted shop-v3 by itself"), std::string::npos) << out;
  EXPECT_NE(out.find("All traffic is back on shop-v2"), std::string::npos) << out;
  EXPECT_NE(out.find("measured success-rate = "), std::string::npos) << out;
}

TEST(DemoTest, WithExperimentAnExperimentCatchesWhatTheWarmStableLetThrough) {
  TempDir dir;
  Process demo({vane_binary(), "demo", "--duration", "1", "--experiment"}, dir.path(),
               dir.path() / "out", dir.path() / "err");
  ASSERT_EQ(demo.wait_exit(110s), 0) << read_file(dir.path() / "out") << read_file(dir.path() / "err");
  const std::string out = read_file(dir.path() / "out");
  EXPECT_NE(out.find("vane aborted shop-v3 by itself"), std::string::npos) << out;
  EXPECT_NE(out.find("The analysis against the warm stable passed"), std::string::npos) << out;
  EXPECT_NE(out.find("experiment fresh-baseline analysis latency Failed"), std::string::npos) << out;
  EXPECT_NE(out.find("experiment fresh-baseline: baseline=20 canary=20"), std::string::npos) << out;
}

TEST(DemoTest, HelpExplainsTheActsAndOptions) {
  const CommandResult help = run_command({vane_binary(), "demo", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: vane demo"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--duration"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Act 2"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--experiment"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace vane::it
