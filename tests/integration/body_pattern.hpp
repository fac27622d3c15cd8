// Deterministic test bodies and their checksum, shared by the test upstream and the tests, so a
// body that crossed the proxy can be checked byte for byte without keeping a copy of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vane::it {

/// Byte `i` of every pattern body. Not periodic over short spans, so a shifted or dropped
/// block changes the checksum.
constexpr char pattern_byte(uint64_t i) { return static_cast<char>('a' + (i * 7 + i / 4093) % 26); }

/// Fills `out[0..n)` with the pattern bytes starting at body offset `offset`.
inline void fill_pattern(char* out, size_t n, uint64_t offset) {
  for (size_t k = 0; k < n; ++k) out[k] = pattern_byte(offset + k);
}

inline std::string pattern_body(size_t n) {
  std::string body(n, '\0');
  fill_pattern(body.data(), n, 0);
  return body;
}

/// FNV-1a, 64 bits, updated piece by piece: `h = fnv1a(piece, h)`.
constexpr uint64_t fnv_offset = 14695981039346656037ULL;
constexpr uint64_t fnv1a(std::string_view data, uint64_t h = fnv_offset) {
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

/// The checksum of a pattern body of `n` bytes, computed without allocating it.
inline uint64_t pattern_fnv(uint64_t n) {
  uint64_t h = fnv_offset;
  for (uint64_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(pattern_byte(i));
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace vane::it
