// A worker's small counters besides request outcomes: upstream failures by kind and mirror
// copies skipped, per config generation. Single writer (the worker) with relaxed
// load+store, so the request path has no read-modify-write; readers on the control thread sum
// every worker's copy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "proxy/mirror.hpp"

namespace vane::proxy {

/// `kind` label of vane_upstream_failures_total.
enum class FailureKind : uint8_t { Connect, Timeout, Reset, Protocol };
inline constexpr int kFailureKinds = 4;

class WorkerStats {
 public:
  WorkerStats(size_t upstreams, size_t rollouts)
      : upstreams_(upstreams), rollouts_(rollouts),
        failures_(new std::atomic<uint64_t>[upstreams * kFailureKinds]()),
        mirror_skips_(new std::atomic<uint64_t>[rollouts * kMirrorSkipKinds]()) {}

  // ---- the worker ----
  void upstream_failure(uint32_t upstream, FailureKind kind) {
    bump(failures_[upstream * kFailureKinds + static_cast<size_t>(kind)], 1);
  }
  void mirror_skip(int32_t rollout, MirrorSkip reason) {
    if (rollout >= 0) bump(mirror_skips_[static_cast<size_t>(rollout) * kMirrorSkipKinds + static_cast<size_t>(reason)], 1);
  }

  // ---- readers, any thread ----
  uint64_t failures(uint32_t upstream, FailureKind kind) const {
    return failures_[upstream * kFailureKinds + static_cast<size_t>(kind)].load(std::memory_order_relaxed);
  }
  uint64_t mirror_skips(uint32_t rollout, MirrorSkip reason) const {
    return mirror_skips_[rollout * kMirrorSkipKinds + static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  size_t upstreams() const { return upstreams_; }
  size_t rollouts() const { return rollouts_; }

 private:
  template <class T, class D>
  static void bump(std::atomic<T>& cell, D delta) {
    cell.store(cell.load(std::memory_order_relaxed) + static_cast<T>(delta), std::memory_order_relaxed);
  }

  size_t upstreams_;
  size_t rollouts_;
  std::unique_ptr<std::atomic<uint64_t>[]> failures_;
  std::unique_ptr<std::atomic<uint64_t>[]> mirror_skips_;
};

}  // namespace vane::proxy
