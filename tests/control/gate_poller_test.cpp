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

/// A poller and a loopback gate server answering as `handler` says; the decisions it reports.
struct Rig {
  explicit Rig(TestServer::Handler handler) : server(io, std::move(handler)) {}

  PolledGate gate(uint32_t step = 2) const {
    PolledGate polled;
    polled.rollout = "shop";
    polled.step = step;
    polled.gate.name = "board";
    polled.gate.url = server.url("/gate");
    polled.gate.interval_seconds = 1;
    return polled;
  }

  net::io_context io;
  TestServer server;
  HttpClient http{io};
  std::vector<Decision> decided;
  GatePoller poller{io, http, [this](const PolledGate& gate, Verdict verdict, std::string reason) {
                      decided.push_back(Decision{gate.rollout, gate.step, verdict, std::move(reason)});
                    }};
};

TEST(GatePollerTest, OtherAnswersKeepWaitingUntilA2xxOpens) {
  Rig rig([](const Seen& seen) { return answer(seen.connection_id == 1 && seen.nth == 1 ? 503 : 200); });
  rig.poller.sync({rig.gate()});
  ASSERT_TRUE(run_until(rig.io, [&] { return !rig.decided.empty(); }));
  const auto& seen = rig.server.seen();
  ASSERT_EQ(seen.size(), 2u);  // 503, then a second later 200
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/gate");
  EXPECT_EQ(rig.decided[0].rollout, "shop");
  EXPECT_EQ(rig.decided[0].step, 2u);
  EXPECT_EQ(rig.decided[0].verdict, Verdict::Open);
  // Decided: the poll asks no more (the rollout moves on before the next sync).
  EXPECT_FALSE(run_until(rig.io, [&] { return seen.size() > 2; }, std::chrono::milliseconds(1500)));
  ASSERT_EQ(rig.decided.size(), 1u);
}

TEST(GatePollerTest, A403RejectsWithItsBodyAsPrintableText) {
  Rig rig([](const Seen&) {
    return answer(403, "\n frozen\tuntil\r\nmonday \xc3\xa9 " + std::string(2000, 'x'));
  });
  rig.poller.sync({rig.gate()});
  ASSERT_TRUE(run_until(rig.io, [&] { return !rig.decided.empty(); }));
  EXPECT_EQ(rig.decided[0].verdict, Verdict::Reject);
  const std::string start = "frozen until  monday ?? x";
  EXPECT_EQ(rig.decided[0].reason.substr(0, start.size()), start);
  EXPECT_EQ(rig.decided[0].reason.size(), GatePoller::kReasonLimit - 2);  // the leading "\n " trimmed
}

TEST(GatePollerTest, SyncStopsAPollNoLongerWantedEvenMidCall) {
  Rig rig([](const Seen&) { return answer(200, "{}", Reply::Then::Hang); });
  const auto& seen = rig.server.seen();
  rig.poller.sync({rig.gate()});
  ASSERT_TRUE(run_until(rig.io, [&] { return seen.size() == 1; }));
  EXPECT_EQ(rig.poller.size(), 1u);
  rig.poller.sync({rig.gate()});   // still wanted as it was: the same poll goes on
  rig.poller.sync({rig.gate(3)});  // another step: a new poll, the old call cancelled
  ASSERT_TRUE(run_until(rig.io, [&] { return seen.size() == 2; }));
  rig.poller.sync({});
  EXPECT_EQ(rig.poller.size(), 0u);
  EXPECT_FALSE(run_until(rig.io, [&] { return !rig.decided.empty() || seen.size() > 2; },
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
