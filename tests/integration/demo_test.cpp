// `vane demo` end to end (README's first command runs it): both acts, and its help.
#include <gtest/gtest.h>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

TEST(DemoTest, PromotesTheGoodCanaryAndAbortsTheBadOneByItself) {
  const CommandResult demo = run_command({vane_binary(), "demo", "--duration", "1"}, 120s);
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("shop-v2 passed every analysis and is now stable"), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("vane aborted shop-v3 by itself"), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("All traffic is back on shop-v2"), std::string::npos) << demo.out;
  EXPECT_NE(demo.out.find("measured success-rate = "), std::string::npos) << demo.out;
}

TEST(DemoTest, HelpExplainsTheActsAndOptions) {
  const CommandResult help = run_command({vane_binary(), "demo", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: vane demo"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--duration"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("Act 2"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace vane::it
