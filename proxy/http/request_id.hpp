// X-Request-Id values (SPEC §3): UUID v4 text from a per-worker generator. Worker thread only.
#pragma once

#include <cstdint>
#include <string_view>

namespace vane::proxy::http {

/// xoshiro256** seeded from the OS once per worker: fast, not for secrets.
class Random {
 public:
  explicit Random(uint64_t seed);
  uint64_t next();
  /// Uniform in [0, bound).
  uint64_t below(uint64_t bound) { return next() % bound; }

 private:
  uint64_t s_[4];
};

/// Writes a random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") into `out`.
std::string_view make_uuid_v4(Random& random, char (&out)[36]);

}  // namespace vane::proxy::http
