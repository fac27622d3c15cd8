// http::Random (xoshiro256**) and http::make_uuid_v4: the X-Request-Id values vane makes (SPEC §3).
#include "proxy/http/request_id.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <unordered_set>

namespace vane::proxy {
namespace {

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

/// Checks the RFC 9562 text form of a version 4 UUID; returns "" when fine, else what is wrong.
std::string uuid_v4_problem(std::string_view s) {
  if (s.size() != 36) return "length " + std::to_string(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen && s[i] != '-') return "no hyphen at " + std::to_string(i);
    if (!hyphen && !is_lower_hex(s[i])) return "not lower-case hex at " + std::to_string(i);
  }
  if (s[14] != '4') return "version nibble is not 4";
  if (s[19] != '8' && s[19] != '9' && s[19] != 'a' && s[19] != 'b') return "variant is not 10xx";
  return "";
}

TEST(UuidV4, FormatOverManyDraws) {
  for (const uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{42}, ~uint64_t{0}}) {
    http::Random random(seed);
    char buf[36];
    for (int i = 0; i < 2000; ++i) {
      const std::string_view id = http::make_uuid_v4(random, buf);
      ASSERT_EQ(uuid_v4_problem(id), "") << id << " (seed " << seed << ", draw " << i << ")";
    }
  }
}

TEST(UuidV4, ViewsTheCallersBuffer) {
  http::Random random(7);
  char buf[36];
  const std::string_view id = http::make_uuid_v4(random, buf);
  EXPECT_EQ(id.data(), buf);
  EXPECT_EQ(id.size(), 36u);
}

TEST(UuidV4, DistinctOverTenThousandDraws) {
  http::Random random(12345);
  std::unordered_set<std::string> seen;
  char buf[36];
  for (int i = 0; i < 10'000; ++i) {
    const std::string id(http::make_uuid_v4(random, buf));
    EXPECT_TRUE(seen.insert(id).second) << "repeated " << id << " at draw " << i;
  }
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(UuidV4, EveryRandomPositionVaries) {
  // 122 random bits: every hex position but the version sees all 16 digits over many draws, and
  // the variant position sees all four of 8, 9, a, b.
  http::Random random(99);
  std::array<std::set<char>, 36> digits;
  char buf[36];
  for (int i = 0; i < 10'000; ++i) {
    const std::string_view id = http::make_uuid_v4(random, buf);
    for (size_t p = 0; p < 36; ++p) digits[p].insert(id[p]);
  }
  for (size_t p = 0; p < 36; ++p) {
    if (p == 8 || p == 13 || p == 18 || p == 23) {
      EXPECT_EQ(digits[p], std::set<char>{'-'}) << p;
    } else if (p == 14) {
      EXPECT_EQ(digits[p], std::set<char>{'4'}) << p;
    } else if (p == 19) {
      EXPECT_EQ(digits[p], (std::set<char>{'8', '9', 'a', 'b'})) << p;
    } else {
      EXPECT_EQ(digits[p].size(), 16u) << "position " << p;
    }
  }
}

TEST(Random, SameSeedSameSequenceOtherSeedOtherSequence) {
  http::Random a(2024);
  http::Random b(2024);
  http::Random c(2025);
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    if (x != c.next()) ++differ;
  }
  EXPECT_GT(differ, 95);
}

TEST(Random, NotStuckOnZeroSeed) {
  http::Random random(0);
  std::set<uint64_t> values;
  for (int i = 0; i < 100; ++i) values.insert(random.next());
  EXPECT_EQ(values.size(), 100u);
}

TEST(Random, BelowStaysInRange) {
  const uint64_t bounds[] = {1,      2,          3,          7,   10,
                             100,    10'000,     1ULL << 32, (1ULL << 63) + 1,
                             std::numeric_limits<uint64_t>::max()};
  http::Random random(5);
  for (const uint64_t bound : bounds) {
    for (int i = 0; i < 5000; ++i) {
      const uint64_t v = random.below(bound);
      ASSERT_LT(v, bound) << "bound " << bound;
    }
  }
}

TEST(Random, BelowOneIsAlwaysZero) {
  http::Random random(3);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(random.below(1), 0u);
}

TEST(Random, BelowCoversSmallRanges) {
  // 10,000 buckets as stickiness uses them, and a small range: every value is reached and the
  // spread is roughly uniform (a fixed seed keeps this deterministic).
  http::Random random(77);
  std::array<int, 10> counts{};
  for (int i = 0; i < 100'000; ++i) ++counts[random.below(10)];
  for (size_t v = 0; v < counts.size(); ++v) {
    EXPECT_GT(counts[v], 9'000) << v;
    EXPECT_LT(counts[v], 11'000) << v;
  }
  std::set<uint64_t> buckets;
  for (int i = 0; i < 200'000; ++i) buckets.insert(random.below(10'000));
  EXPECT_EQ(buckets.size(), 10'000u);
}

}  // namespace
}  // namespace vane::proxy
