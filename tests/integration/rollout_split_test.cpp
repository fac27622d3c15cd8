// Where rollout traffic goes (SPEC §3): the canary's weight (random, and with decimals), header
// routes before the weight (exact and regex values), and stickiness by cookie (set when absent)
// and by header (users on the canary stay there as the weight grows).
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// Starts the canary v2 and waits for its first pause (step 1) at `weight`.
void start_canary(RolloutRig& rig, double weight) {
  const Response reload = rig.set_desired("v2");
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, weight, s)) << summary(s);
}

/// `n` requests split at `weight` percent: within ±`tolerance` points, every one answered, and
/// the upstreams saw exactly what the client counted.
void expect_split(RolloutRig& rig, int n, double weight, double tolerance) {
  const SideCounts c = send_requests(rig.port(), n);
  EXPECT_EQ(c.count("v1") + c.count("v2"), n) << c.describe();
  const double share = 100.0 * c.count("v2") / n;
  EXPECT_NEAR(share, weight, tolerance) << c.describe();
  EXPECT_EQ(rig.v1().stats().requests, static_cast<uint64_t>(c.count("v1")));
  EXPECT_EQ(rig.v2().stats().requests, static_cast<uint64_t>(c.count("v2")));
  EXPECT_EQ(rig.v3().stats().requests, 0U);
}

TEST(RolloutSplitTest, TwentyPercentOfFiveThousandRequestsGoToTheCanary) {
  RolloutRig rig;
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, 20));
  expect_split(rig, 5000, 20, 2);  // ±2 points: ±3.5 sigma
}

TEST(RolloutSplitTest, DecimalWeightTwelveAndAHalfPercent) {
  RolloutSetup setup;
  setup.canary = R"(        steps:
          - setWeight: 12.5
          - pause: {}
)";
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, 12.5));
  EXPECT_EQ(num(field(field(rig.status(), "weights"), "stable")), 87.5);
  expect_split(rig, 5000, 12.5, 2);  // ±2 points: ±4.3 sigma
}

TEST(RolloutSplitTest, BeforeTheRolloutEverythingGoesToStable) {
  RolloutRig rig;
  const SideCounts c = send_requests(rig.port(), 300);
  EXPECT_EQ(c.count("v1"), 300) << c.describe();
}

constexpr std::string_view header_route_steps = R"(        steps:
          - setHeaderRoute:
              name: beta
              match:
                - headerName: X-Beta
                  headerValue: {exact: "yes"}
                - headerName: X-Group
                  headerValue: {regex: "^team-[0-9]+$"}
          - pause: {}
          - setWeight: 10
          - pause: {}
          - setHeaderRoute: {name: beta}
          - pause: {}
)";

class RolloutHeaderRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(start_canary(rig_, 0));
    const json::value routes = field(rig_.status(), "headerRoutes");
    ASSERT_TRUE(routes.is_array() && routes.get_array().size() == 1) << json::serialize(routes);
    EXPECT_EQ(str(field(routes.get_array()[0], "name")), "beta");
    EXPECT_EQ(field(routes.get_array()[0], "suspended"), json::value(false));
  }

  /// Every one of `n` requests with `extra` lands on `side`.
  void expect_all(std::string_view extra, const std::string& side, int n = 100) {
    const SideCounts c = send_requests(rig_.port(), n, "/h", extra);
    EXPECT_EQ(c.count(side), n) << "with header lines [" << extra << "]: " << c.describe();
  }

  RolloutRig rig_{[] {
    RolloutSetup s;
    s.canary = std::string(header_route_steps);
    return s;
  }()};
};

TEST_F(RolloutHeaderRouteTest, ExactMatchGoesToTheCanaryAtWeightZero) {
  expect_all("X-Beta: yes\r\n", "v2");
  expect_all("x-beta: yes\r\n", "v2");  // field names are case-insensitive
  expect_all("", "v1", 200);
  expect_all("X-Beta: no\r\n", "v1");
  expect_all("X-Beta: yes-please\r\n", "v1");  // exact, not prefix
  expect_all("X-Other: yes\r\n", "v1");
}

TEST_F(RolloutHeaderRouteTest, RegexMatch) {
  expect_all("X-Group: team-42\r\n", "v2");
  expect_all("X-Group: team-7\r\nX-Beta: no\r\n", "v2");  // entries OR
  expect_all("X-Group: team-x\r\n", "v1");
  expect_all("X-Group: team-\r\n", "v1");
  expect_all("X-Group: ateam-1\r\n", "v1");
  expect_all("X-Group: team-1a\r\n", "v1");
}

TEST_F(RolloutHeaderRouteTest, HeaderRouteStaysAlongsideTheWeight) {
  ASSERT_EQ(admin_call(rig_.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 3, 10, s)) << summary(s);
  expect_all("X-Beta: yes\r\n", "v2", 200);
  const SideCounts c = send_requests(rig_.port(), 1000, "/h");
  EXPECT_EQ(c.count("v1") + c.count("v2"), 1000) << c.describe();
  EXPECT_NEAR(c.count("v2"), 100, binomial_band(0.1, 1000)) << c.describe();
}

TEST_F(RolloutHeaderRouteTest, AStepWithTheNameAndNoMatchRemovesTheRoute) {
  json::value s;
  ASSERT_EQ(admin_call(rig_.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 3, 10, s)) << summary(s);
  ASSERT_EQ(admin_call(rig_.admin(), "POST", "/api/v1/rollouts/web/promote").status, 200);
  ASSERT_TRUE(wait_phase(rig_.admin(), "Paused", 5, 10, s)) << summary(s);
  EXPECT_EQ(field(s, "headerRoutes"), json::value(json::array{})) << summary(s);
  const SideCounts c = send_requests(rig_.port(), 1000, "/h", "X-Beta: yes\r\n");
  EXPECT_EQ(c.count("v1") + c.count("v2"), 1000) << c.describe();
  EXPECT_NEAR(c.count("v2"), 100, binomial_band(0.1, 1000)) << "by weight only now: " << c.describe();
}

TEST_F(RolloutHeaderRouteTest, AbortRemovesTheHeaderRoute) {
  const Response abort = admin_call(rig_.admin(), "POST", "/api/v1/rollouts/web/abort");
  ASSERT_EQ(abort.status, 200) << abort.body;
  const json::value s = parse_json(abort.body);
  EXPECT_EQ(field(s, "headerRoutes"), json::value(json::array{})) << summary(s);
  expect_all("X-Beta: yes\r\n", "v1");
  expect_all("X-Group: team-42\r\n", "v1");
}

// ---- stickiness ------------------------------------------------------------------------------

constexpr std::string_view cookie_steps = R"(        stickiness: {cookie: vane-bucket}
        steps:
          - setWeight: 50
          - pause: {}
)";

TEST(RolloutStickyTest, CookieIsSetWhenAbsentAndKeepsTheClientOnItsSide) {
  RolloutSetup setup;
  setup.canary = std::string(cookie_steps);
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, 50));
  const std::regex set_cookie(R"(vane-bucket=([^;\s]+); Path=/; HttpOnly)");
  std::map<std::string, int> first_sides;
  std::set<std::string> values;
  constexpr int clients = 24, repeats = 6;  // all on one side by chance: p = 2^-23
  for (int c = 0; c < clients; ++c) {
    // Other cookies are not the stickiness cookie: it must still be set.
    const Response first = get_with(rig.port(), "/c", c % 2 == 0 ? "" : "Cookie: other=1; vane-bucketx=2\r\n");
    const std::string side = side_of(first);
    ASSERT_TRUE(side == "v1" || side == "v2") << side;
    const std::string cookie = first.header("Set-Cookie").value_or("");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(cookie, m, set_cookie)) << "Set-Cookie: " << cookie;
    const std::string value = m[1];
    values.insert(value);
    ++first_sides[side];
    // The cookie alone, then among others: always the side that served the first request.
    std::vector<std::string> extras;
    for (int i = 0; i < repeats; ++i)
      extras.push_back(i % 2 == 0 ? "Cookie: vane-bucket=" + value + "\r\n"
                                  : "Cookie: a=1; vane-bucket=" + value + "; b=2\r\n");
    const auto responses = send_each(rig.port(), extras, "/c");
    for (size_t i = 0; i < responses.size(); ++i) {
      EXPECT_EQ(side_of(responses[i]), side) << "client " << c << " request " << i << " with "
                                             << extras[i];
      EXPECT_FALSE(responses[i].header("Set-Cookie"))
          << "cookie set again although the request had it: " << *responses[i].header("Set-Cookie");
    }
  }
  EXPECT_EQ(values.size(), static_cast<size_t>(clients)) << "cookie values should be random";
  EXPECT_GT(first_sides["v1"], 0) << "at 50% both sides must serve new clients";
  EXPECT_GT(first_sides["v2"], 0) << "at 50% both sides must serve new clients";
}

TEST(RolloutStickyTest, ClientChosenCookieValuesAreStickyAndSplitByWeight) {
  RolloutSetup setup;
  setup.canary = std::string(cookie_steps);
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, 50));
  constexpr int users = 200;
  std::vector<std::string> extras;
  for (int round = 0; round < 3; ++round)
    for (int u = 0; u < users; ++u) extras.push_back("Cookie: vane-bucket=user-" + std::to_string(u) + "\r\n");
  const auto responses = send_each(rig.port(), extras, "/c");
  int canary = 0;
  for (int u = 0; u < users; ++u) {
    const std::string side = side_of(responses[static_cast<size_t>(u)]);
    canary += side == "v2";
    for (int round = 1; round < 3; ++round)
      EXPECT_EQ(side_of(responses[static_cast<size_t>(round * users + u)]), side) << "user-" << u;
  }
  EXPECT_NEAR(canary, users / 2, binomial_band(0.5, users));
}

TEST(RolloutStickyTest, HeaderKeepsUsersOnTheirSideAndCanaryUsersStayAsTheWeightGrows) {
  RolloutSetup setup;
  setup.canary = R"(        stickiness: {header: X-User-Id}
        steps:
          - setWeight: 20
          - pause: {}
          - setWeight: 50
          - pause: {}
)";
  RolloutRig rig(setup);
  ASSERT_NO_FATAL_FAILURE(start_canary(rig, 20));
  constexpr int users = 400;
  const auto user_lines = [&](int rounds) {
    std::vector<std::string> extras;
    for (int round = 0; round < rounds; ++round)
      for (int u = 0; u < users; ++u) extras.push_back("X-User-Id: u" + std::to_string(u) + "\r\n");
    return extras;
  };
  const auto at20 = send_each(rig.port(), user_lines(2));
  std::vector<bool> on_canary(users);
  int canary20 = 0;
  std::string changed, cookies;
  for (size_t u = 0; u < users; ++u) {
    const std::string side = side_of(at20[u]);
    ASSERT_TRUE(side == "v1" || side == "v2") << "u" << u << ": " << side;
    if (side_of(at20[users + u]) != side) changed += " u" + std::to_string(u);
    if (at20[u].header("Set-Cookie")) cookies += " u" + std::to_string(u);
    on_canary[u] = side == "v2";
    canary20 += side == "v2";
  }
  EXPECT_EQ(changed, "") << "users that changed sides at 20%";
  EXPECT_EQ(cookies, "") << "header stickiness sets no cookie, but did for";
  EXPECT_NEAR(canary20, 0.2 * users, binomial_band(0.2, users));

  const Response promote = admin_call(rig.admin(), "POST", "/api/v1/rollouts/web/promote");
  ASSERT_EQ(promote.status, 200) << promote.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 3, 50, s)) << summary(s);
  const auto at50 = send_each(rig.port(), user_lines(2));
  int canary50 = 0, left = 0;
  std::string leavers;
  changed.clear();
  for (size_t u = 0; u < users; ++u) {
    const std::string side = side_of(at50[u]);
    if (side_of(at50[users + u]) != side) changed += " u" + std::to_string(u);
    canary50 += side == "v2";
    if (on_canary[u] && side != "v2") {
      ++left;
      if (left <= 10) leavers += " u" + std::to_string(u);
    }
  }
  EXPECT_EQ(changed, "") << "users that changed sides at 50%";
  EXPECT_EQ(left, 0) << "of " << canary20 << " users on the canary at 20%, " << left
                     << " left it at 50%, e.g." << leavers;
  EXPECT_NEAR(canary50, 0.5 * users, binomial_band(0.5, users));
}

}  // namespace
}  // namespace vane::it
