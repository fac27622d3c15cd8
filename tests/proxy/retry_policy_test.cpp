// RetryPolicy: which request may be tried again (idempotent methods, empty bodies), on which
// failures (retries.on, shield.on), how many times, the stale-connection try, the shield's single
// move to stable, and the budget of the tries. One table row per situation.
#include "proxy/retry_policy.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vane::proxy {
namespace {

using Kind = config::FailureKind;
using Next = RetryPolicy::Next;
using http::Framing;

TEST(Replay, IdempotentMethodsWithAnEmptyBodyMayBeSentAgain) {
  struct Row {
    std::string_view method;
    Framing framing;
    uint64_t length;
    bool retry;
    bool stale;
  };
  const Row rows[] = {
      {"GET", Framing::None, 0, true, true},       {"HEAD", Framing::None, 0, true, true},
      {"OPTIONS", Framing::None, 0, true, true},   {"TRACE", Framing::None, 0, true, true},
      {"PUT", Framing::None, 0, true, true},       {"DELETE", Framing::None, 0, true, true},
      {"POST", Framing::None, 0, false, true},     {"PATCH", Framing::None, 0, false, true},
      {"get", Framing::None, 0, false, true},      // methods are case-sensitive
      {"PUT", Framing::Length, 0, true, false},    {"PUT", Framing::Length, 1, false, false},
      {"POST", Framing::Length, 0, false, false},  {"GET", Framing::Chunked, 0, false, false},
  };
  for (const auto& row : rows) {
    const Replay replay = replay_of(row.method, row.framing, row.length);
    EXPECT_EQ(replay.retry, row.retry) << row.method << " framing " << int(row.framing) << " length " << row.length;
    EXPECT_EQ(replay.stale, row.stale) << row.method << " framing " << int(row.framing) << " length " << row.length;
  }
}

struct Try {
  Failure failure;
  bool reused;
  Next expect;
  bool cut = false;  ///< the response ended early before reaching the client: next_after_cut()
};

struct Row {
  std::string name;
  std::string_view method = "GET";
  Framing framing = Framing::None;
  uint64_t length = 0;
  uint32_t attempts = 0;                           ///< retries.attempts of the first upstream
  std::vector<Kind> retry_on{Kind::ConnectFailure, Kind::Reset};  ///< the default
  std::optional<std::vector<Kind>> shield_on{};    ///< a shielded canary: falls back to stable
  uint32_t stable_attempts = 0;
  std::vector<Kind> stable_on{Kind::ConnectFailure};
  std::vector<Try> tries;
};

/// Failures name the row, not its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

class RetryPolicyTable : public testing::TestWithParam<Row> {};

TEST_P(RetryPolicyTable, DecidesEachTry) {
  const Row& row = GetParam();
  config::Upstream first;
  first.retries = {row.attempts, row.retry_on};
  config::Upstream stable;
  stable.retries = {row.stable_attempts, row.stable_on};
  config::Shield shield;
  if (row.shield_on) shield.on = *row.shield_on;
  RetryPolicy policy(replay_of(row.method, row.framing, row.length), first,
                     row.shield_on ? &shield : nullptr, row.shield_on ? &stable : nullptr);
  for (size_t i = 0; i < row.tries.size(); ++i) {
    const Try& t = row.tries[i];
    const Next next = t.cut ? policy.next_after_cut(t.failure) : policy.next(t.failure, t.reused);
    EXPECT_EQ(next, t.expect) << "try " << i + 1;
  }
}

const Row kRows[] = {
    {.name = "NoRetriesConfigured", .tries = {{Failure::Connect, false, Next::Fail}}},
    {.name = "RetriesUntilExhausted", .attempts = 2,
     .tries = {{Failure::Connect, false, Next::Retry}, {Failure::Reset, false, Next::Retry},
               {Failure::Connect, false, Next::Fail}}},
    {.name = "OnlyListedKinds", .attempts = 3,
     .tries = {{Failure::Timeout, false, Next::Fail}}},
    {.name = "TimeoutWhenListed", .attempts = 1, .retry_on = {Kind::Timeout},
     .tries = {{Failure::Timeout, false, Next::Retry}, {Failure::Timeout, false, Next::Fail}}},
    {.name = "FivexxWhenListed", .attempts = 1, .retry_on = {Kind::Status5xx},
     .tries = {{Failure::Status5xx, false, Next::Retry}, {Failure::Status5xx, false, Next::Fail}}},
    {.name = "ProtocolNeverRetried", .attempts = 3,
     .retry_on = {Kind::ConnectFailure, Kind::Reset, Kind::Timeout, Kind::Status5xx},
     .tries = {{Failure::Protocol, false, Next::Fail}}},
    {.name = "NoEndpointNeverRetried", .attempts = 3,
     .retry_on = {Kind::ConnectFailure, Kind::Reset, Kind::Timeout, Kind::Status5xx},
     .tries = {{Failure::NoEndpoint, false, Next::Fail}}},
    {.name = "PoolFullNeverRetried", .attempts = 3,
     .tries = {{Failure::PoolFull, false, Next::Fail}}},
    {.name = "ClientGoneNeverRetried", .attempts = 3,
     .tries = {{Failure::ClientGone, true, Next::Fail}}},
    {.name = "PostNotRetried", .method = "POST", .attempts = 2,
     .tries = {{Failure::Connect, false, Next::Fail}}},
    {.name = "BodyNotRetried", .method = "PUT", .framing = Framing::Length, .length = 10,
     .attempts = 2, .tries = {{Failure::Connect, false, Next::Fail}}},
    {.name = "ChunkedNotRetried", .framing = Framing::Chunked, .attempts = 2,
     .tries = {{Failure::Reset, true, Next::Fail}}},
    {.name = "EmptyLengthBodyRetried", .method = "PUT", .framing = Framing::Length,
     .attempts = 1, .tries = {{Failure::Connect, false, Next::Retry}}},
    // A stale pooled connection: once, for any request without a body, before the retries.
    {.name = "StaleOnceWithoutRetries", .method = "POST",
     .tries = {{Failure::Reset, true, Next::Stale}, {Failure::Reset, true, Next::Fail}}},
    {.name = "StaleBeforeRetries", .attempts = 1,
     .tries = {{Failure::Reset, true, Next::Stale}, {Failure::Reset, true, Next::Retry},
               {Failure::Reset, true, Next::Fail}}},
    {.name = "StaleOnlyOnAReusedConnection",
     .tries = {{Failure::Reset, false, Next::Fail}}},
    {.name = "StaleOnlyOnReset",
     .tries = {{Failure::Connect, true, Next::Fail}, {Failure::Timeout, true, Next::Fail}}},
    {.name = "StaleNotWithAnEmptyLengthBody", .method = "PUT", .framing = Framing::Length,
     .tries = {{Failure::Reset, true, Next::Fail}}},
    // The shield: one move to stable, after the canary's own retries; then stable's retries.
    {.name = "ShieldToStable", .shield_on = std::vector<Kind>{Kind::ConnectFailure},
     .stable_attempts = 1,
     .tries = {{Failure::Connect, false, Next::Shield}, {Failure::Connect, false, Next::Retry},
               {Failure::Connect, false, Next::Fail}}},
    {.name = "ShieldAfterTheCanaryRetries", .attempts = 1,
     .shield_on = std::vector<Kind>{Kind::ConnectFailure},
     .tries = {{Failure::Connect, false, Next::Retry}, {Failure::Connect, false, Next::Shield},
               {Failure::Connect, false, Next::Fail}}},
    {.name = "ShieldOnlyOnListedKinds", .shield_on = std::vector<Kind>{Kind::ConnectFailure},
     .tries = {{Failure::Timeout, false, Next::Fail}}},
    {.name = "ShieldOn5xx", .shield_on = std::vector<Kind>{Kind::Status5xx},
     .tries = {{Failure::Status5xx, false, Next::Shield}, {Failure::Status5xx, false, Next::Fail}}},
    {.name = "ShieldOnce", .shield_on = std::vector<Kind>{Kind::Reset},
     .stable_on = {Kind::ConnectFailure},
     .tries = {{Failure::Reset, false, Next::Shield}, {Failure::Reset, false, Next::Fail}}},
    {.name = "NoShieldForPost", .method = "POST",
     .shield_on = std::vector<Kind>{Kind::ConnectFailure},
     .tries = {{Failure::Connect, false, Next::Fail}}},
    {.name = "StaleBeforeShield", .shield_on = std::vector<Kind>{Kind::Reset},
     .tries = {{Failure::Reset, true, Next::Stale}, {Failure::Reset, true, Next::Shield}}},
    // A response cut before any byte reached the client: a 5xx and its own kind (SPEC §3).
    {.name = "CutShieldedAsA5xx", .shield_on = std::vector<Kind>{Kind::Status5xx},
     .tries = {{Failure::Protocol, false, Next::Shield, true},
               {Failure::Reset, false, Next::Fail, true}}},
    {.name = "CutShieldedAsItsKind", .shield_on = std::vector<Kind>{Kind::Reset},
     .tries = {{Failure::Reset, false, Next::Shield, true}}},
    {.name = "CutProtocolNeedsA5xxShield", .shield_on = std::vector<Kind>{Kind::Reset},
     .tries = {{Failure::Protocol, false, Next::Fail, true}}},
    {.name = "CutTimeoutShieldedAsA5xx", .shield_on = std::vector<Kind>{Kind::Status5xx},
     .tries = {{Failure::Timeout, false, Next::Shield, true}}},
    {.name = "CutRetriedAsA5xx", .attempts = 1, .retry_on = {Kind::Status5xx},
     .tries = {{Failure::Reset, false, Next::Retry, true}, {Failure::Reset, false, Next::Fail, true}}},
    {.name = "CutIsNeverStale",
     .tries = {{Failure::Reset, true, Next::Fail, true}}},
    {.name = "CutPostNeverRetried", .method = "POST", .attempts = 1, .retry_on = {Kind::Status5xx},
     .shield_on = std::vector<Kind>{Kind::Status5xx},
     .tries = {{Failure::Reset, false, Next::Fail, true}}},
};

INSTANTIATE_TEST_SUITE_P(EverySituation, RetryPolicyTable, testing::ValuesIn(kRows),
                         [](const testing::TestParamInfo<Row>& param) { return param.param.name; });

TEST(RetryPolicy, DropsA5xxOnlyWhileAnotherTryWouldFollowIt) {
  config::Upstream upstream;
  upstream.retries = {1, {Kind::Status5xx}};
  RetryPolicy retrying(replay_of("GET", Framing::None, 0), upstream, nullptr, nullptr);
  EXPECT_TRUE(retrying.drops_5xx());
  EXPECT_EQ(retrying.next(Failure::Status5xx, false), Next::Retry);
  EXPECT_FALSE(retrying.drops_5xx()) << "no retry left: the 5xx is the answer";

  RetryPolicy post(replay_of("POST", Framing::None, 0), upstream, nullptr, nullptr);
  EXPECT_FALSE(post.drops_5xx());

  config::Upstream canary;
  config::Upstream stable;
  config::Shield shield{{Kind::Status5xx}, config::Duration{1'000}};
  RetryPolicy shielded(replay_of("GET", Framing::None, 0), canary, &shield, &stable);
  EXPECT_TRUE(shielded.drops_5xx());
  EXPECT_EQ(shielded.next(Failure::Status5xx, false), Next::Shield);
  EXPECT_FALSE(shielded.drops_5xx()) << "stable's 5xx is the answer";
}

TEST(RetryPolicy, AShieldedCanaryTakesAtMostTheShieldTimeout) {
  config::Upstream canary;
  canary.timeout = config::Duration{30'000};
  config::Upstream stable;
  stable.timeout = config::Duration{20'000};
  config::Shield shield{{Kind::Timeout}, config::Duration{1'000}};
  RetryPolicy policy(replay_of("GET", Framing::None, 0), canary, &shield, &stable);
  EXPECT_EQ(policy.timeout(), config::Duration{1'000});
  EXPECT_EQ(&policy.upstream(), &canary);
  EXPECT_EQ(policy.next(Failure::Timeout, false), Next::Shield);
  EXPECT_EQ(policy.timeout(), config::Duration{20'000}) << "stable's own timeout";
  EXPECT_EQ(&policy.upstream(), &stable);

  config::Shield on_connect{{Kind::ConnectFailure}, config::Duration{1'000}};
  RetryPolicy untimed(replay_of("GET", Framing::None, 0), canary, &on_connect, &stable);
  EXPECT_EQ(untimed.timeout(), config::Duration{30'000}) << "the shield is not on timeouts";

  RetryPolicy post(replay_of("POST", Framing::None, 0), canary, &shield, &stable);
  EXPECT_EQ(post.timeout(), config::Duration{30'000}) << "no shield for a POST";

  config::Shield long_shield{{Kind::Timeout}, config::Duration{60'000}};
  RetryPolicy longer(replay_of("GET", Framing::None, 0), canary, &long_shield, &stable);
  EXPECT_EQ(longer.timeout(), config::Duration{30'000}) << "never longer than the upstream's";
}

}  // namespace
}  // namespace vane::proxy
