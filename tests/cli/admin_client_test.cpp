// AdminClient and the client commands against a tiny Beast server on 127.0.0.1:0 (SPEC §6, §7):
// the Bearer token, the URL prefix, error mapping, timeouts, --wait outcomes. Every wait bounded.
#include "cli/admin_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cli/remote_commands.hpp"
#include "cli/status_view.hpp"
#include "tests/cli/test_server.hpp"

namespace vane::cli {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

std::string status_json(std::string_view phase) {
  return R"({"name":"shop","strategy":"canary","phase":")" + std::string(phase) +
         R"(","message":"","stable":"shop-v1","canary":"shop-v2","currentStepIndex":2,)"
         R"("stepCount":6,"currentStep":"setWeight: 50","weights":{"stable":50,"canary":50}})";
}

/// A port on which nothing listens.
unsigned short closed_port() {
  net::io_context io;
  tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::string write_temp(const std::string& content) {
  const std::string path =
      ::testing::TempDir() + "vane_admin_token_" + std::to_string(::getpid()) + ".txt";
  std::ofstream(path) << content;
  return path;
}

TEST(AdminClient, GetWithoutTokenPostWithBearer) {
  TestServer server([](const Seen&) { return Answer{200, status_json("Healthy")}; });
  AdminClient client(server.url(), "s3cret");
  const AdminResult got = client.get("/api/v1/rollouts/shop");
  EXPECT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, status_json("Healthy"));
  EXPECT_TRUE(client.post("/api/v1/rollouts/shop/pause").ok());
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].authorization, "");
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].target, "/api/v1/rollouts/shop/pause");
  EXPECT_EQ(seen[1].authorization, "Bearer s3cret");
}

TEST(AdminClient, UrlPrefixIsKept) {
  TestServer server([](const Seen&) { return Answer{200, "{}"}; });
  AdminClient client(server.url() + "/admin/", "");
  EXPECT_TRUE(client.get("/api/v1/rollouts").ok());
  EXPECT_EQ(server.seen().at(0).target, "/admin/api/v1/rollouts");
  EXPECT_TRUE(client.post("/x").ok());
  EXPECT_EQ(server.seen().at(1).authorization, "");  // no token, no header
}

TEST(AdminClient, ErrorAnswersCarryTheirMessage) {
  TestServer server([](const Seen&) { return Answer{409, R"({"error":"not in progress"})"}; });
  const AdminResult r = AdminClient(server.url(), "").post("/api/v1/rollouts/shop/abort");
  EXPECT_TRUE(r.answered());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(error_message(r), "not in progress");
  AdminResult plain;
  plain.status = 500;
  EXPECT_EQ(error_message(plain), "the admin API answered 500 Internal Server Error");
  plain.status = 404;
  plain.body = "not found\n";
  EXPECT_EQ(error_message(plain), "not found");
}

TEST(AdminClient, ConnectionRefused) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  const AdminResult r = AdminClient(url, "").get("/healthz");
  EXPECT_FALSE(r.answered());
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.connected);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
}

TEST(AdminClient, TimesOut) {
  TestServer server([](const Seen&) { return Answer{0, ""}; });
  AdminClient client(server.url(), "");
  client.set_timeout(milliseconds{200});
  const auto start = std::chrono::steady_clock::now();
  const AdminResult r = client.get("/api/v1/rollouts");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(r.answered());
  EXPECT_TRUE(r.connected);
  EXPECT_EQ(r.error, "no answer within 200ms");
}

TEST(AdminClient, BadUrls) {
  EXPECT_FALSE(AdminClient("https://127.0.0.1:9901", "").url_error().empty());
  EXPECT_FALSE(AdminClient("127.0.0.1 9901", "").url_error().empty());
  const AdminResult r = AdminClient("ftp://x", "").get("/");
  EXPECT_FALSE(r.answered());
  EXPECT_NE(r.error.find("only http://"), std::string::npos) << r.error;
  EXPECT_TRUE(AdminClient("http://[::1]:9901", "").url_error().empty());
  EXPECT_TRUE(AdminClient("http://localhost", "").url_error().empty());
}

TEST(AdminClient, TokenFileIsTrimmed) {
  const std::string path = write_temp("  s3cret \n\n");
  EXPECT_EQ(read_token_file(path), "s3cret");
  std::remove(path.c_str());
  EXPECT_EQ(read_token_file(path), std::nullopt);
}

// --- the commands --------------------------------------------------------------------------

Args args_for(const TestServer& server, std::vector<std::string> positional) {
  Args args;
  args.positional = std::move(positional);
  args.options["--admin"] = server.url();
  return args;
}

TEST(ClientCommands, PromoteFullSendsTokenAndPrintsThePhase) {
  TestServer server([](const Seen&) { return Answer{200, status_json("Progressing")}; });
  const std::string token = write_temp("tok\n");
  Args args = args_for(server, {"shop"});
  args.options["--full"] = "";
  args.options["--token-file"] = token;
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(cmd_promote(args), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(),
            "rollout \"shop\" fully promoted: Progressing, step 2/6 (setWeight: 50)\n");
  std::remove(token.c_str());
  EXPECT_EQ(server.seen().at(0).target, "/api/v1/rollouts/shop/promote?full=true");
  EXPECT_EQ(server.seen().at(0).authorization, "Bearer tok");
}

TEST(ClientCommands, ApiErrorsExitOneWithTheMessage) {
  for (const int code : {401, 404, 409}) {
    TestServer server([code](const Seen&) { return Answer{code, R"({"error":"nope"})"}; });
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(cmd_abort(args_for(server, {"shop"})), 1) << code;
    EXPECT_NE(::testing::internal::GetCapturedStderr().find("vane: nope"), std::string::npos);
  }
}

TEST(ClientCommands, UnreachableAndUsage) {
  Args args;
  args.positional = {"shop"};
  args.options["--admin"] = "http://127.0.0.1:" + std::to_string(closed_port());
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(cmd_retry(args), 1);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("cannot reach the admin API at http://"),
            std::string::npos);
  ::testing::internal::CaptureStderr();
  args.options["--timeout"] = "soon";
  args.options["--wait"] = "";
  EXPECT_EQ(cmd_status(args), 2);
  ::testing::internal::GetCapturedStderr();
}

/// Answers the phases in turn, then the last one forever.
TestServer::Handler phases(std::vector<std::string> list) {
  auto next = std::make_shared<std::atomic<std::size_t>>(0);
  return [list, next](const Seen&) {
    const std::size_t i = std::min(next->fetch_add(1), list.size() - 1);
    return Answer{200, status_json(list[i])};
  };
}

StatusOptions wait_options(milliseconds timeout) {
  StatusOptions options;
  options.name = "shop";
  options.wait = true;
  options.timeout = timeout;
  options.interval = milliseconds{10};
  return options;
}

TEST(ClientCommands, WaitEndsAtHealthyOrDegradedOrTimeout) {
  const std::vector<std::pair<std::vector<std::string>, int>> cases = {
      {{"Progressing", "Paused", "Healthy"}, 0}, {{"Progressing", "Degraded"}, 1}, {{"Paused"}, 2}};
  for (const auto& [sequence, code] : cases) {
    TestServer server(phases(sequence));
    std::ostringstream out, err;
    const int got = show_status(AdminClient(server.url(), ""), wait_options(milliseconds{300}), out, err);
    EXPECT_EQ(got, code) << out.str() << err.str();
    EXPECT_NE(out.str().find("rollout \"shop\": " + sequence.back()), std::string::npos) << out.str();
  }
}

TEST(ClientCommands, WaitPrintsEachChangeOnce) {
  TestServer server(phases({"Progressing", "Progressing", "Progressing", "Healthy"}));
  std::ostringstream out, err;
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), wait_options(milliseconds{5000}), out, err), 0);
  EXPECT_EQ(out.str(),
            "rollout \"shop\": Progressing, step 2/6 (setWeight: 50)\n"
            "rollout \"shop\": Healthy\n");
}

TEST(ClientCommands, WatchRedrawsInPlace) {
  TestServer server(phases({"Progressing"}));
  StatusOptions options;
  options.name = "shop";
  options.watch = true;
  options.terminal = true;
  options.interval = milliseconds{10};
  options.max_polls = 3;
  std::ostringstream out, err;
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), options, out, err), 0);
  std::size_t frames = 0;
  for (auto at = out.str().find("\x1b[H\x1b[2J"); at != std::string::npos;
       at = out.str().find("\x1b[H\x1b[2J", at + 1)) {
    ++frames;
  }
  EXPECT_EQ(frames, 3u);
  EXPECT_NE(out.str().find("Status:          ◌ Progressing"), std::string::npos);
}

TEST(ClientCommands, WatchToAPipeAppendsABlockPerChange) {
  TestServer server(phases({"Progressing", "Progressing", "Paused", "Paused", "Paused", "Healthy"}));
  StatusOptions options;
  options.name = "shop";
  options.watch = true;
  options.interval = milliseconds{10};
  options.max_polls = 8;
  std::ostringstream out, err;
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), options, out, err), 0);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos) << "no terminal codes into a pipe";
  for (const std::string phase : {"Progressing", "Paused", "Healthy"}) {
    const std::string line = "Status:          " + std::string(phase_symbol(phase)) + " " + phase;
    std::size_t count = 0;
    for (auto at = out.str().find(line); at != std::string::npos; at = out.str().find(line, at + 1)) ++count;
    EXPECT_EQ(count, 1u) << phase << " in:\n" << out.str();
  }
  EXPECT_EQ(server.seen().size(), 8u);
}

TEST(ClientCommands, StatusJsonWritesWeightsAsDecimals) {
  TestServer server([](const Seen&) {
    return Answer{200, R"({"name":"shop","weights":{"stable":3.576E1,"canary":6.424E1}})"};
  });
  StatusOptions options;
  options.name = "shop";
  options.json = true;
  std::ostringstream out, err;
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), options, out, err), 0);
  EXPECT_EQ(out.str(), R"({"name":"shop","weights":{"stable":35.76,"canary":64.24}})" "\n");
}

TEST(ClientCommands, StatusJsonIsPrintedAsReturned) {
  TestServer server([](const Seen& seen) {
    if (seen.target == "/api/v1/rollouts") return Answer{200, R"({"rollouts":[]})"};
    return Answer{200, status_json("Healthy")};
  });
  StatusOptions options;
  options.json = true;
  std::ostringstream out, err;
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), options, out, err), 0);
  EXPECT_EQ(out.str(), "{\"rollouts\":[]}\n");
  options.name = "shop";
  out.str("");
  EXPECT_EQ(show_status(AdminClient(server.url(), ""), options, out, err), 0);
  EXPECT_EQ(out.str(), status_json("Healthy") + "\n");
}

}  // namespace
}  // namespace vane::cli
