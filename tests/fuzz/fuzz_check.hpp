// Shared by the libFuzzer targets of tests/fuzz: a violated property prints what was expected and
// traps, so libFuzzer records the input as a crash (like a sanitizer report).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace vane::fuzz {

/// Traps with `what` on stderr when `ok` is false.
inline void check(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz property violated: %.*s\n", static_cast<int>(what.size()),
               what.data());
  __builtin_trap();
}

/// True when `view` lies inside `buffer` (parsed heads are views into the bytes parsed).
inline bool inside(std::string_view view, std::string_view buffer) {
  const char* begin = buffer.data();
  const char* end = begin + buffer.size();
  return view.empty() || (view.data() >= begin && view.data() + view.size() <= end);
}

/// A small deterministic generator for split points, seeded from the input itself so a crash
/// reproduces from the input file alone.
class SplitRng {
 public:
  explicit SplitRng(std::string_view seed) {
    for (char c : seed) state_ = (state_ ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    if (state_ == 0) state_ = 1;  // xorshift stays at 0 forever
  }
  /// A number in [0, bound); 0 when bound is 0.
  size_t below(size_t bound) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return bound == 0 ? 0 : static_cast<size_t>(state_ % bound);
  }

 private:
  unsigned long long state_ = 0xcbf29ce484222325ULL;
};

}  // namespace vane::fuzz
