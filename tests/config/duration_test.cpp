#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace vane::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsGoStyleStrings) {
  const struct {
    const char* text;
    int64_t ms;
  } cases[] = {
      {"0", 0},          {"0s", 0},           {"250ms", 250},       {"1s", 1'000},
      {"1.5s", 1'500},   {"30s", 30'000},     {"5m", 300'000},      {"2h", 7'200'000},
      {"1h30m", 5'400'000}, {"1m30s", 90'000}, {"1h0m1s", 3'601'000}, {"0.5m", 30'000},
      {".5s", 500},      {"1.250s", 1'250},   {"1s500ms", 1'500},   {"30m1h", 5'400'000},
  };
  for (const auto& c : cases) {
    const auto d = parse_duration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text;
    EXPECT_EQ(d->count(), c.ms) << c.text;
  }
}

TEST(ParseDuration, RejectsMalformedNegativeAndOverflowing) {
  for (const char* text : {"", "1", "30", "s", "1x", "1.s5", "-1s", "+1s", "1 s", " 1s", "1s ",
                           "1.5", "abc", "1..5s", "0.5ms", "1.0001s", "1e3s", "ms",
                           "99999999999999999999h", "9223372036854775807ms", "10000000h"}) {
    EXPECT_FALSE(parse_duration(text).has_value()) << '"' << text << '"';
  }
}

TEST(ParseDuration, AcceptsLargeButSafeValues) {
  const auto d = parse_duration("8760h");  // a year
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count(), 8760LL * 3'600'000);
}

TEST(FormatDuration, ShortestExactSpelling) {
  const struct {
    int64_t ms;
    const char* text;
  } cases[] = {
      {0, "0s"},          {250, "250ms"},        {1'000, "1s"},      {1'500, "1.5s"},
      {30'000, "30s"},    {60'000, "1m"},        {90'000, "1m30s"},  {3'600'000, "1h"},
      {5'400'000, "1h30m"}, {3'601'000, "1h1s"}, {90'500, "1m30.5s"}, {1'005, "1.005s"},
      {3'600'250, "1h0.25s"},
  };
  for (const auto& c : cases) EXPECT_EQ(format_duration(milliseconds{c.ms}), c.text) << c.ms;
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (const int64_t ms : {1LL, 999LL, 1'001LL, 59'999LL, 61'001LL, 3'599'999LL, 86'400'000LL,
                           123'456'789LL}) {
    const auto parsed = parse_duration(format_duration(milliseconds{ms}));
    ASSERT_TRUE(parsed.has_value()) << ms;
    EXPECT_EQ(parsed->count(), ms);
  }
}

}  // namespace
}  // namespace vane::config
