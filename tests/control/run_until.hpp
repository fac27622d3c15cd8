// Runs a test's io_context until a condition holds, bounded: how control/ tests await socket I/O
// on loopback (never a fixed window of real time). Test thread.
#pragma once

#include <chrono>
#include <functional>

#include "control/asio.hpp"

namespace vane::control::test {

/// Runs `io` until `done()` or `limit`; false on timeout.
inline bool run_until(net::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= give_up) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace vane::control::test
