// HttpClient calls whose body is streamed to the caller (HttpCall::on_body) against a loopback
// server that answers chunked, piece by piece, possibly for ever: pieces handed on as they come,
// the timeout bounding only the head, the receiver or a cancel ending the call, a connection of
// its own; and POSTs that say they are idempotent taking pooled connections. Every wait is bounded.
#include <gtest/gtest.h>

#include <optional>

#include "control/http_client.hpp"
#include "tests/control/http_test_server.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::run_until;
using test::Seen;
using test::TestServer;
using SteadyClock = std::chrono::steady_clock;

Reply chunked(std::vector<std::string> chunks, std::chrono::milliseconds apart, bool endless) {
  Reply reply;
  reply.chunks = std::move(chunks);
  reply.trickle = apart;
  reply.endless = endless;
  return reply;
}

class HttpClientStreamTest : public ::testing::Test {
 protected:
  /// Starts a streaming call to `url`: what arrives goes to `received`, the reply to `reply`.
  void start(std::string url, std::chrono::milliseconds timeout = 3s,
             std::function<bool(std::string_view)> on_body = {}) {
    HttpCall call;
    call.url = std::move(url);
    call.timeout = timeout;
    call.on_body = on_body ? std::move(on_body) : [this](std::string_view piece) {
      received += piece;
      ++pieces;
      return true;
    };
    net::co_spawn(io, client.fetch(std::move(call), cancel),
                  [this](std::exception_ptr, HttpReply r) { reply = std::move(r); });
  }

  net::io_context io;
  HttpClient client{io};
  std::shared_ptr<HttpCancel> cancel = std::make_shared<HttpCancel>();
  std::string received;
  int pieces = 0;
  std::optional<HttpReply> reply;
};

TEST_F(HttpClientStreamTest, HandsEachPieceOnAsItArrives) {
  TestServer server(io, [](const Seen&) { return chunked({"ab", "cde", "f"}, 20ms, true); });
  start(server.url("/watch"));
  // The answer has not ended (its last chunk never comes), yet every piece is here.
  ASSERT_TRUE(run_until(io, [&] { return received == "abcdef"; }));
  EXPECT_FALSE(reply.has_value());
  EXPECT_GE(pieces, 3);
  cancel->cancel();
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_EQ(reply->error, "cancelled");
}

TEST_F(HttpClientStreamTest, AnAnswerThatEndsEndsTheCall) {
  TestServer server(io, [](const Seen&) { return chunked({"{\"a\":", "1}\n"}, 0ms, false); });
  start(server.url());
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_TRUE(reply->success()) << reply->error;
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->body, "");
  EXPECT_EQ(received, "{\"a\":1}\n");
  EXPECT_EQ(client.idle(), 0u);  // a stream's connection is its own, never pooled
  EXPECT_TRUE(run_until(io, [&] { return server.closed_by_client() == 1; }));
}

TEST_F(HttpClientStreamTest, TheTimeoutBoundsTheHeadOnly) {
  // Pieces keep coming for well past the timeout: the call goes on.
  TestServer server(io, [](const Seen&) { return chunked({"1", "2", "3", "4", "5"}, 80ms, true); });
  const auto started = SteadyClock::now();
  start(server.url(), 100ms);
  ASSERT_TRUE(run_until(io, [&] { return received == "12345"; }));
  EXPECT_GE(SteadyClock::now() - started, 300ms);
  EXPECT_FALSE(reply.has_value());
  cancel->cancel();
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
}

TEST_F(HttpClientStreamTest, AHeadThatComesTooLateTimesOut) {
  TestServer server(io, [](const Seen&) {
    Reply late = chunked({"x"}, 0ms, true);
    late.delay = 2s;
    return late;
  });
  start(server.url(), 100ms);
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_EQ(reply->error, "no answer within 100ms");
}

TEST_F(HttpClientStreamTest, TheReceiverCanStopTheCall) {
  TestServer server(io, [](const Seen&) { return chunked({"a", "b", "c"}, 20ms, true); });
  start(server.url(), 3s, [&](std::string_view piece) {
    received += piece;
    return false;
  });
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_TRUE(reply->success()) << reply->error;
  EXPECT_EQ(received, "a");
  EXPECT_EQ(client.idle(), 0u);  // closed, not pooled: the rest of the answer is still coming
}

TEST_F(HttpClientStreamTest, ACancelFromTheReceiverEndsTheCall) {
  TestServer server(io, [](const Seen&) { return chunked({"a", "b", "c"}, 20ms, true); });
  start(server.url(), 3s, [&](std::string_view piece) {
    received += piece;
    cancel->cancel();
    return true;
  });
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_EQ(reply->error, "cancelled");
  EXPECT_EQ(received, "a");
}

TEST_F(HttpClientStreamTest, AStreamBrokenOffIsAnError) {
  TestServer server(io, [](const Seen&) { return chunked({"a"}, 0ms, true); });
  start(server.url());
  ASSERT_TRUE(run_until(io, [&] { return received == "a"; }));
  server.close_connections();
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_NE(reply->error.find("cannot read the answer"), std::string::npos) << reply->error;
  EXPECT_EQ(received, "a");
}

TEST_F(HttpClientStreamTest, AStreamNeverTakesAPooledConnection) {
  TestServer server(io, [](const Seen& seen) {
    return seen.target == "/watch" ? chunked({"a"}, 0ms, false) : Reply{};
  });
  std::optional<HttpReply> plain;
  HttpCall get;
  get.url = server.url("/get");
  net::co_spawn(io, client.fetch(get), [&](std::exception_ptr, HttpReply r) { plain = r; });
  ASSERT_TRUE(run_until(io, [&] { return plain.has_value(); }));
  ASSERT_EQ(client.idle(), 1u);
  start(server.url("/watch"));
  ASSERT_TRUE(run_until(io, [&] { return reply.has_value(); }));
  EXPECT_TRUE(reply->success()) << reply->error;
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.idle(), 1u);
}

TEST_F(HttpClientStreamTest, AnIdempotentPostTakesAPooledConnection) {
  TestServer server(io, [](const Seen&) { return Reply{}; });
  const auto post = [&](std::optional<bool> idempotent) {
    HttpCall call;
    call.method = "POST";
    call.url = server.url();
    call.idempotent = idempotent;
    std::optional<HttpReply> r;
    net::co_spawn(io, client.fetch(call), [&](std::exception_ptr, HttpReply got) { r = got; });
    EXPECT_TRUE(run_until(io, [&] { return r.has_value(); }));
    EXPECT_TRUE(r && r->success());
  };
  post(true);
  post(true);
  EXPECT_EQ(server.connections(), 1);
  post(std::nullopt);  // a POST as such: a connection of its own
  EXPECT_EQ(server.connections(), 2);
  post(false);
  EXPECT_EQ(server.connections(), 3);
}

}  // namespace
}  // namespace vane::control
