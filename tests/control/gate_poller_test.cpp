// Gate polls (SPEC §14) against a real loopback server: kept waiting by other answers until a 2xx
// opens the gate, a 403 rejects it with its body as printable text, sync() stops a poll no longer
// wanted (cancelling a call that hangs) and keeps one still wanted.
#include "control/gate_poller.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "control/http_client.hpp"
#include "tests/control/http_test_server.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control::test {
namespace {

using Verdict = rollout::Event::GateVerdict;

struct Decision {
  std::string rollout;
  uint32_t step = 0;
  Verdict verdict = Verdict::Open;
  std::string reason;
};

PolledGate gate_for(const TestServer& server, uint32_t step = 2) {
  PolledGate gate;
  gate.rollout = "shop";
  gate.step = step;
  gate.gate.name = "board";
  gate.gate.url = server.url("/gate");
  gate.gate.interval_seconds = 1;
  return gate;
}

GatePoller::Answered record(std::vector<Decision>& out) {
  return [&out](const PolledGate& gate, Verdict verdict, std::string reason) {
    out.push_back(Decision{gate.rollout, gate.step, verdict, std::move(reason)});
  };
}

TEST(GatePollerTest, OtherAnswersKeepWaitingUntilA2xxOpens) {
  net::io_context io;
  TestServer server(io, [](const Seen& seen) {
    Reply reply;
    reply.status = seen.connection_id == 1 && seen.nth == 1 ? 503 : 200;
    return reply;
  });
  HttpClient http(io);
  std::vector<Decision> decided;
  GatePoller poller(io, http, record(decided));
  poller.sync({gate_for(server)});
  ASSERT_TRUE(run_until(io, [&] { return !decided.empty(); }));
  ASSERT_EQ(server.seen().size(), 2u);  // 503, then a second later 200
  EXPECT_EQ(server.seen()[0].method, "GET");
  EXPECT_EQ(server.seen()[0].target, "/gate");
  EXPECT_EQ(decided[0].rollout, "shop");
  EXPECT_EQ(decided[0].step, 2u);
  EXPECT_EQ(decided[0].verdict, Verdict::Open);
  // Decided: the poll asks no more (the rollout moves on before the next sync).
  EXPECT_FALSE(run_until(io, [&] { return server.seen().size() > 2; }, std::chrono::milliseconds(1500)));
  ASSERT_EQ(decided.size(), 1u);
}

TEST(GatePollerTest, A403RejectsWithItsBodyAsPrintableText) {
  net::io_context io;
  TestServer server(io, [](const Seen&) {
    Reply reply;
    reply.status = 403;
    reply.body = "\n frozen\tuntil\r\nmonday \xc3\xa9 " + std::string(2000, 'x');
    return reply;
  });
  HttpClient http(io);
  std::vector<Decision> decided;
  GatePoller poller(io, http, record(decided));
  poller.sync({gate_for(server)});
  ASSERT_TRUE(run_until(io, [&] { return !decided.empty(); }));
  EXPECT_EQ(decided[0].verdict, Verdict::Reject);
  const std::string start = "frozen until  monday ?? x";
  EXPECT_EQ(decided[0].reason.substr(0, start.size()), start);
  EXPECT_EQ(decided[0].reason.size(), GatePoller::kReasonLimit - 2);  // the leading "\n " trimmed
}

TEST(GatePollerTest, SyncStopsAPollNoLongerWantedEvenMidCall) {
  net::io_context io;
  TestServer server(io, [](const Seen&) {
    Reply reply;
    reply.then = Reply::Then::Hang;
    return reply;
  });
  HttpClient http(io);
  std::vector<Decision> decided;
  GatePoller poller(io, http, record(decided));
  poller.sync({gate_for(server)});
  ASSERT_TRUE(run_until(io, [&] { return server.seen().size() == 1; }));
  EXPECT_EQ(poller.size(), 1u);
  poller.sync({gate_for(server)});  // still wanted as it was: the same poll goes on
  poller.sync({gate_for(server, 3)});  // another step: a new poll, the old call cancelled
  ASSERT_TRUE(run_until(io, [&] { return server.seen().size() == 2; }));
  poller.sync({});
  EXPECT_EQ(poller.size(), 0u);
  EXPECT_FALSE(run_until(io, [&] { return !decided.empty() || server.seen().size() > 2; },
                         std::chrono::milliseconds(1500)));
}

TEST(GatePollerTest, PrintableReason) {
  EXPECT_EQ(printable_reason(""), "");
  EXPECT_EQ(printable_reason("  \n "), "");
  EXPECT_EQ(printable_reason("no\x7f\x01way"), "no? way");
  EXPECT_EQ(printable_reason(std::string(5000, 'a')).size(), GatePoller::kReasonLimit);
}

}  // namespace
}  // namespace vane::control::test
