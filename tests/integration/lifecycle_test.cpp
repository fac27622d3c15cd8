// The process around the data plane (SPEC §6, §7): several workers, drain on SIGTERM (in-flight
// requests finish, new connections refused, /readyz 503, exit 0), admin health endpoints.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "tests/integration/harness.hpp"

namespace vane::it {
namespace {

constexpr std::string_view lifecycle_yaml = R"(
listeners:
  - {name: public, address: "127.0.0.1:0"}
  - {name: second, address: "127.0.0.1:0"}
admin: {address: "127.0.0.1:0"}
workers: 2
upstreams:
  - {name: app, endpoints: ["{{app}}"]}
routes:
  - {name: main, match: {pathPrefix: /}, upstream: app}
)";

class LifecycleTest : public ::testing::Test {
 protected:
  TestUpstream app_{"app"};
  Vane vane_{render(std::string(lifecycle_yaml), {{"app", app_.address()}})};
};

TEST_F(LifecycleTest, AdminHealthAndReadiness) {
  EXPECT_EQ(http_get(vane_.admin_port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(vane_.admin_port(), "/readyz").status, 200);
}

TEST_F(LifecycleTest, EveryListenerServes) {
  for (const char* name : {"public", "second"}) {
    const Response r = http_get(vane_.port(name), "/l", "x.test");
    EXPECT_EQ(r.status, 200) << name;
    EXPECT_EQ(r.header("X-Upstream").value_or("(none)"), "app") << name;
  }
}

TEST_F(LifecycleTest, TwoWorkersServeConcurrentClients) {
  constexpr int clients = 4, per_client = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      try {
        RawClient client(vane_.port());
        for (int i = 0; i < per_client; ++i) {
          const std::string target = "/w/" + std::to_string(c) + "/" + std::to_string(i);
          if (!client.send(request("GET", target, "x.test"))) return;
          const Response r = client.read_response();
          if (r.status != 200 || r.body != "app GET " + target + "\n") return;
          ok.fetch_add(1);
        }
      } catch (const std::exception&) {  // a failed connect shows up in the count
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), clients * per_client);
  EXPECT_EQ(app_.stats().requests, static_cast<uint64_t>(clients * per_client));
}

TEST_F(LifecycleTest, SigtermDrainsInFlightRequestsThenExitsZero) {
  RawClient in_flight(vane_.port());
  ASSERT_TRUE(in_flight.send(request("GET", "/slow?delay_ms=1500", "x.test")));
  ASSERT_TRUE(wait_until([&] { return app_.stats().active == 1; }, 3s)) << "request not in flight";
  const auto start = Clock::now();
  vane_.process().signal(SIGTERM);

  EXPECT_TRUE(wait_until([&] { return connect_refused(vane_.port()); }, 1s))
      << "listeners must close at once";
  EXPECT_TRUE(connect_refused(vane_.port("second")));
  EXPECT_EQ(http_get(vane_.admin_port(), "/readyz").status, 503) << "/readyz while draining";
  EXPECT_LT(Clock::now() - start, 1400ms) << "checks ran past the in-flight request";

  const Response r = in_flight.read_response(5s);
  EXPECT_EQ(r.status, 200) << "the in-flight request must finish";
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.body, "app GET /slow?delay_ms=1500\n");
  const auto code = vane_.process().wait_exit(10s);
  ASSERT_TRUE(code) << "vane did not exit after draining";
  EXPECT_EQ(*code, 0);
}

TEST_F(LifecycleTest, SigtermWithOnlyIdleConnectionsExitsPromptly) {
  RawClient idle(vane_.port());  // keep-alive, between requests: nothing in flight
  ASSERT_TRUE(idle.send(request("GET", "/once", "x.test")));
  ASSERT_EQ(idle.read_response().status, 200);
  vane_.process().signal(SIGTERM);
  const auto code = vane_.process().wait_exit(5s);
  ASSERT_TRUE(code) << "vane waited for an idle connection";
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(idle.wait_closed(1s));
}

}  // namespace
}  // namespace vane::it
