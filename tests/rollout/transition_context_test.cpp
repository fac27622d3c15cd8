// The transition table both rollout machines are built on: make_table() indexes the rows
// [state][event], and first_fault() finds the pair a table misses or repeats (the canary and
// blue-green tables static_assert on it through make_table).
#include "rollout/transition_context.hpp"

#include <gtest/gtest.h>

namespace vane::rollout::test {
namespace {

using K = Event::Kind;

enum class Toy : uint8_t { Idle, Busy };
constexpr std::size_t kToyCount = 2;

void on_idle_tick(Context& c) { c.s.message = "idle tick"; }
void on_busy_tick(Context& c) { c.s.message = "busy tick"; }

// clang-format off
constexpr auto rows = std::to_array<Row<Toy>>({
  {Toy::Idle, K::Tick,           on_idle_tick},
  {Toy::Idle, K::DesiredChanged, ignore},
  {Toy::Idle, K::Promote,        conflict},
  {Toy::Idle, K::PromoteFull,    conflict},
  {Toy::Idle, K::Abort,          conflict},
  {Toy::Idle, K::Retry,          conflict},
  {Toy::Idle, K::Pause,          conflict},
  {Toy::Idle, K::AnalysisDone,   ignore},
  {Toy::Idle, K::GateAnswered,   ignore},

  // Busy's rows out of enum order: the table is indexed by the row's labels, not its place.
  {Toy::Busy, K::AnalysisDone,   ignore},
  {Toy::Busy, K::GateAnswered,   ignore},
  {Toy::Busy, K::Tick,           on_busy_tick},
  {Toy::Busy, K::DesiredChanged, ignore},
  {Toy::Busy, K::Promote,        ignore},
  {Toy::Busy, K::PromoteFull,    ignore},
  {Toy::Busy, K::Abort,          ignore},
  {Toy::Busy, K::Retry,          conflict},
  {Toy::Busy, K::Pause,          ignore},
});
// clang-format on

constexpr auto table = make_table<kToyCount, rows>();

static_assert(table.handler(Toy::Idle, K::Tick) == on_idle_tick);
static_assert(table.handler(Toy::Idle, K::Promote) == conflict);
static_assert(table.handler(Toy::Busy, K::Tick) == on_busy_tick);
static_assert(table.handler(Toy::Busy, K::AnalysisDone) == ignore);
static_assert(table.handler(Toy::Busy, K::Retry) == conflict);

static_assert(first_fault<kToyCount>(rows).rows == 1);

// Busy without its Pause row: the first fault is that pair, with no row.
constexpr auto missing = std::to_array<Row<Toy>>({
    {Toy::Idle, K::Tick, ignore},        {Toy::Idle, K::DesiredChanged, ignore},
    {Toy::Idle, K::Promote, ignore},     {Toy::Idle, K::PromoteFull, ignore},
    {Toy::Idle, K::Abort, ignore},       {Toy::Idle, K::Retry, ignore},
    {Toy::Idle, K::Pause, ignore},       {Toy::Idle, K::AnalysisDone, ignore},
    {Toy::Idle, K::GateAnswered, ignore},
    {Toy::Busy, K::Tick, ignore},        {Toy::Busy, K::DesiredChanged, ignore},
    {Toy::Busy, K::Promote, ignore},     {Toy::Busy, K::PromoteFull, ignore},
    {Toy::Busy, K::Abort, ignore},       {Toy::Busy, K::Retry, ignore},
    {Toy::Busy, K::AnalysisDone, ignore},
    {Toy::Busy, K::GateAnswered, ignore},
});
static_assert(first_fault<kToyCount>(missing).state == Toy::Busy);
static_assert(first_fault<kToyCount>(missing).event == K::Pause);
static_assert(first_fault<kToyCount>(missing).rows == 0);

// Idle's Abort row twice (in place of its Retry row): Abort is the first fault, with two rows.
constexpr auto repeated = std::to_array<Row<Toy>>({
    {Toy::Idle, K::Tick, ignore},        {Toy::Idle, K::DesiredChanged, ignore},
    {Toy::Idle, K::Promote, ignore},     {Toy::Idle, K::PromoteFull, ignore},
    {Toy::Idle, K::Abort, ignore},       {Toy::Idle, K::Abort, conflict},
    {Toy::Idle, K::Pause, ignore},       {Toy::Idle, K::AnalysisDone, ignore},
    {Toy::Idle, K::GateAnswered, ignore},
    {Toy::Busy, K::Tick, ignore},        {Toy::Busy, K::DesiredChanged, ignore},
    {Toy::Busy, K::Promote, ignore},     {Toy::Busy, K::PromoteFull, ignore},
    {Toy::Busy, K::Abort, ignore},       {Toy::Busy, K::Retry, ignore},
    {Toy::Busy, K::Pause, ignore},       {Toy::Busy, K::AnalysisDone, ignore},
    {Toy::Busy, K::GateAnswered, ignore},
});
static_assert(first_fault<kToyCount>(repeated).state == Toy::Idle);
static_assert(first_fault<kToyCount>(repeated).event == K::Abort);
static_assert(first_fault<kToyCount>(repeated).rows == 2);

TEST(TransitionContextTest, EveryRowIsFoundUnderItsStateAndEvent) {
  for (const Row<Toy>& row : rows) {
    EXPECT_EQ(table.handler(row.state, row.event), row.handler)
        << "state " << static_cast<int>(row.state) << ", event " << static_cast<int>(row.event);
  }
}

TEST(TransitionContextTest, TheHandlerFoundRuns) {
  config::Rollout spec;
  const std::vector<config::Step> steps;
  Event event;
  const Environment env;
  RolloutState state;
  std::vector<Effect> effects;
  Context c{spec, steps, event, WallTime{}, env, state, effects};
  table.handler(Toy::Busy, K::Tick)(c);
  EXPECT_EQ(state.message, "busy tick");
  table.handler(Toy::Idle, K::Retry)(c);
  EXPECT_EQ(c.verdict, Verdict::Conflict);
}

}  // namespace
}  // namespace vane::rollout::test
