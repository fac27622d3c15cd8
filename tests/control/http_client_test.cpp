// HttpClient against a loopback server whose answers each test chooses: cancel, one deadline over
// the whole call, refusals, bounded bodies, connect_to, head-only probes; the pool: reuse, idle
// caps, connections the server closed (replaced once, for GET only), Connection: close, the
// client going first. TLS is in http_client_tls_test.cpp. Every wait is bounded.
#include "control/http_client.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "tests/control/http_test_server.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control {
namespace {

using test::run_until;

using namespace std::chrono_literals;
using test::answer;
using test::Reply;
using test::Seen;
using test::TestServer;
using SteadyClock = std::chrono::steady_clock;

HttpCall make_call(std::string url, std::chrono::milliseconds timeout = 3s,
                   std::string method = "GET") {
  HttpCall call;
  call.method = std::move(method);
  call.url = std::move(url);
  call.timeout = timeout;
  return call;
}

Reply delayed(std::chrono::milliseconds delay) {
  Reply reply = answer(200);
  reply.delay = delay;
  return reply;
}

class HttpClientTest : public ::testing::Test {
 protected:
  /// Starts `call`; its reply is appended to `replies` when it ends.
  void start(HttpCall call, std::shared_ptr<HttpCancel> cancel = {}) {
    net::co_spawn(io, client->fetch(std::move(call), std::move(cancel)),
                  [this](std::exception_ptr, HttpReply r) { replies.push_back(std::move(r)); });
  }
  /// Runs `call` to its end (bounded).
  HttpReply fetch(HttpCall call) {
    const size_t before = replies.size();
    start(std::move(call));
    EXPECT_TRUE(run_until(io, [&] { return replies.size() > before; }));
    return replies.size() > before ? replies.back() : HttpReply{0, {}, "never ended", false};
  }

  net::io_context io;
  std::unique_ptr<HttpClient> client = std::make_unique<HttpClient>(io);
  std::vector<HttpReply> replies;
};

// ---- one call ---------------------------------------------------------------------------------

TEST_F(HttpClientTest, CancelEndsACallInFlight) {
  TestServer server(io, [](const Seen&) { return delayed(2s); });
  auto cancel = std::make_shared<HttpCancel>();
  start(make_call(server.url("/slow"), 10s), cancel);
  ASSERT_TRUE(run_until(io, [&] { return server.seen().size() == 1; }));
  const auto cancelled = SteadyClock::now();
  cancel->cancel();
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == 1; }));
  EXPECT_LT(SteadyClock::now() - cancelled, 1s);
  EXPECT_EQ(replies[0].error, "cancelled");
  EXPECT_EQ(replies[0].status, 0u);
  EXPECT_EQ(client->idle(), 0u);
}

TEST_F(HttpClientTest, TimeoutCoversTheWholeExchange) {
  TestServer server(io, [](const Seen&) { return delayed(2s); });
  const HttpReply reply = fetch(make_call(server.url("/slow"), 100ms));
  EXPECT_EQ(reply.error, "no answer within 100ms");
  EXPECT_TRUE(reply.connected);
}

TEST_F(HttpClientTest, TheDeadlineIsOneForTheWholeCallNotOnePerRead) {
  // Each byte comes well within the timeout; all of them do not.
  Reply slow = answer(200, std::string(20, 'x'));
  slow.trickle = 50ms;
  TestServer server(io, [&](const Seen&) { return slow; });
  const auto started = SteadyClock::now();
  const HttpReply reply = fetch(make_call(server.url(), 300ms));
  EXPECT_EQ(reply.error, "no answer within 300ms");
  EXPECT_GE(SteadyClock::now() - started, 300ms);
  EXPECT_LT(SteadyClock::now() - started, 900ms);  // the 20 bytes take 1 s
}

TEST_F(HttpClientTest, HttpsToAPlainServerFailsTheHandshake) {
  TestServer server(io, [](const Seen&) { return answer(200); });
  std::string url = server.url();
  url.replace(0, 4, "https");
  const HttpReply reply = fetch(make_call(url, 2s));
  EXPECT_NE(reply.error.find("TLS handshake with 127.0.0.1:"), std::string::npos) << reply.error;
}

TEST_F(HttpClientTest, RejectsWhatItCannotSend) {
  EXPECT_EQ(fetch(make_call("ftp://example.com/", 1s)).error,
            "unsupported URL \"ftp://example.com/\": only http:// and https://");
  EXPECT_EQ(fetch(make_call("http://127.0.0.1:1/", 1s, "DELETE")).error,
            "unsupported method \"DELETE\"");
  HttpCall injected = make_call("http://127.0.0.1:1/", 1s);
  injected.headers = {{"X-Bad", "a\r\nInjected: 1"}};
  EXPECT_EQ(fetch(injected).error, "invalid header \"X-Bad\"");
  const HttpReply refused = fetch(make_call("http://127.0.0.1:1/", 1s));
  EXPECT_NE(refused.error.find("cannot connect to 127.0.0.1:1: "), std::string::npos)
      << refused.error;
  EXPECT_FALSE(refused.connected);
}

TEST_F(HttpClientTest, SendsHeadersAndBodyAndBoundsTheAnswer) {
  TestServer server(io, [](const Seen& seen) { return answer(201, seen.body + seen.body); });
  HttpCall call = make_call(server.url("/put?x=1"), 3s, "PUT");
  call.headers = {{"User-Agent", "tester"}};
  call.body = "12345";
  HttpReply reply = fetch(call);
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(reply.status, 201u);
  EXPECT_EQ(reply.body, "1234512345");
  const Seen& seen = server.seen().at(0);
  EXPECT_EQ(seen.target, "/put?x=1");
  EXPECT_EQ(seen.host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(seen.user_agent, "tester");  // the call's header replaces the client's
  call.body_limit = 9;
  reply = fetch(call);
  EXPECT_FALSE(reply.answered());
  EXPECT_NE(reply.error.find("cannot read the answer"), std::string::npos) << reply.error;
}

TEST_F(HttpClientTest, ResolvesTheUrlsHostWithinTheDeadline) {
  TestServer server(io, [](const Seen&) { return answer(200); });
  const std::string authority = "localhost:" + std::to_string(server.port());
  const HttpReply reply = fetch(make_call("http://" + authority + "/"));
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(server.seen().at(0).host, authority);
  // Whether the resolver answers at once or not at all, the call ends by its deadline.
  const HttpReply unknown = fetch(make_call("http://name.invalid/", 2s));
  EXPECT_TRUE(unknown.error.starts_with("cannot resolve name.invalid: ") ||
              unknown.error == "no answer within 2s")
      << unknown.error;
  EXPECT_FALSE(unknown.connected);
}

TEST_F(HttpClientTest, ConnectsToTheGivenAddressWithTheUrlsHost) {
  TestServer server(io, [](const Seen&) { return answer(204, ""); });
  // .invalid never resolves (RFC 6761): only connect_to can reach the server.
  const std::string authority = "probe.invalid:" + std::to_string(server.port());
  HttpCall call = make_call("http://" + authority + "/healthz");
  call.connect_to = tcp::endpoint(net::ip::address_v4::loopback(), server.port());
  const HttpReply reply = fetch(call);
  EXPECT_EQ(reply.status, 204u) << reply.error;
  EXPECT_EQ(server.seen().at(0).host, authority);
}

TEST_F(HttpClientTest, HeadOnlyReadsTheStatusOnAConnectionOfItsOwn) {
  TestServer server(io, [](const Seen&) { return answer(503, std::string(1000, 'x')); });
  HttpCall call = make_call(server.url("/healthz"));
  call.head_only = true;
  for (int i = 0; i < 2; ++i) {
    const HttpReply reply = fetch(call);
    EXPECT_EQ(reply.status, 503u) << reply.error;
    EXPECT_EQ(reply.body, "");
  }
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.seen().at(0).connection, "close");
  EXPECT_EQ(client->idle(), 0u);
  EXPECT_TRUE(run_until(io, [&] { return server.closed_by_client() == 2; }));
}

// ---- the pool ---------------------------------------------------------------------------------

TEST_F(HttpClientTest, ASecondCallReusesTheConnection) {
  TestServer server(io, [](const Seen& seen) { return answer(200, seen.target); });
  EXPECT_EQ(fetch(make_call(server.url("/a"))).body, "/a");
  EXPECT_EQ(client->idle(), 1u);
  EXPECT_EQ(fetch(make_call(server.url("/b"))).body, "/b");
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.seen().at(1).nth, 2);
  EXPECT_EQ(server.seen().at(0).connection, "");  // HTTP/1.1: kept alive unless said otherwise
  EXPECT_EQ(client->idle(), 1u);
}

TEST_F(HttpClientTest, AConnectionTheServerClosedWhileIdleIsNotUsed) {
  TestServer server(io, [](const Seen&) { return answer(200, "{}", Reply::Then::CloseSilently); });
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(client->idle(), 1u);  // nothing said it would close
  ASSERT_TRUE(run_until(io, [&] { return server.closed_by_server() == 1; }));
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.seen().size(), 2u);
  EXPECT_EQ(server.seen().at(1).nth, 1);  // (still_open() is tested in http_connection_test.cpp)
}

TEST_F(HttpClientTest, AGetOnAConnectionClosedUnderItIsSentOnceMoreOnAFreshOne) {
  // The second request on a connection is dropped unanswered, as by a server closing it idle.
  TestServer server(io, [](const Seen& seen) {
    return answer(200, "{}", seen.nth == 2 ? Reply::Then::Drop : Reply::Then::KeepAlive);
  });
  EXPECT_TRUE(fetch(make_call(server.url("/1"))).success());
  const HttpReply reply = fetch(make_call(server.url("/2")));
  EXPECT_TRUE(reply.success()) << reply.error;
  ASSERT_EQ(server.seen().size(), 3u);
  EXPECT_EQ(server.seen()[1].connection_id, 1);
  EXPECT_EQ(server.seen()[2].connection_id, 2);
  EXPECT_EQ(server.seen()[2].target, "/2");
}

TEST_F(HttpClientTest, OnlyOnceAndNeverAfterPartOfTheAnswer) {
  // Every request but the first is dropped: the retry fails too, and its failure is the reply.
  TestServer server(io, [](const Seen& seen) {
    return answer(200, "{}", seen.connection_id == 1 && seen.nth == 1 ? Reply::Then::KeepAlive
                                                                      : Reply::Then::Drop);
  });
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  const HttpReply reply = fetch(make_call(server.url()));
  EXPECT_NE(reply.error.find("cannot read the answer"), std::string::npos) << reply.error;
  EXPECT_EQ(server.seen().size(), 3u);
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, APostNeverTakesAPooledConnection) {
  TestServer server(io, [](const Seen&) { return answer(200); });
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(client->idle(), 1u);
  EXPECT_TRUE(fetch(make_call(server.url(), 3s, "POST")).success());
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.seen().at(1).nth, 1);
  EXPECT_EQ(client->idle(), 2u);  // its own connection is kept for what follows
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, ConnectionCloseIsHonoured) {
  TestServer server(io, [](const Seen&) { return answer(200, "{}", Reply::Then::CloseHeader); });
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(client->idle(), 0u);
  EXPECT_TRUE(fetch(make_call(server.url())).success());
  EXPECT_EQ(server.connections(), 2);
}

TEST_F(HttpClientTest, IdleConnectionsAreCapped) {
  TestServer server(io, [](const Seen&) { return answer(200); });
  const size_t calls = HttpClient::kMaxIdlePerOrigin + 2;
  for (size_t i = 0; i < calls; ++i) start(make_call(server.url()));  // none idle yet: each opens
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == calls; }));
  EXPECT_EQ(server.connections(), static_cast<int>(calls));
  EXPECT_EQ(client->idle(), HttpClient::kMaxIdlePerOrigin);
  EXPECT_TRUE(run_until(io, [&] { return server.closed_by_client() == 2; }));
}

TEST_F(HttpClientTest, TheClientClosesItsIdleConnectionsAndMayGoFirst) {
  TestServer server(io, [](const Seen& seen) { return delayed(seen.target == "/slow" ? 100ms : 0ms); });
  start(make_call(server.url("/fast")));
  start(make_call(server.url("/slow")));
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == 1 && server.seen().size() == 2; }));
  ASSERT_EQ(client->idle(), 1u);
  client.reset();  // one idle connection, one call in flight
  EXPECT_TRUE(run_until(io, [&] { return server.closed_by_client() == 1; }));
  ASSERT_TRUE(run_until(io, [&] { return replies.size() == 2; }));
  EXPECT_TRUE(replies[1].success()) << replies[1].error;
  EXPECT_TRUE(run_until(io, [&] { return server.closed_by_client() == 2; }));  // not pooled
}

}  // namespace
}  // namespace vane::control
