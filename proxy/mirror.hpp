// Fire-and-forget copies of requests to a rollout's canary (SPEC §3 mirror routes). A copy runs
// as its own coroutine on the worker that took the request: the client never waits for it, and
// its answer is read and dropped, measured as target `mirror`. Worker thread only.
#pragma once

#include <cstdint>
#include <string>

namespace vane::proxy {

class Generation;
class Worker;

struct MirrorCopy {
  uint32_t upstream = 0;  ///< the canary
  uint32_t route = 0;
  int32_t rollout = -1;
  bool head_request = false;
  std::string request;  ///< the complete request: head (with X-Vane-Mirror: 1) and body
};

/// Why a copy was not sent (`reason` label of vane_mirror_skipped_total).
enum class MirrorSkip : uint8_t { BodyTooLarge, InFlightLimit, NoConnection };
inline constexpr int kMirrorSkipKinds = 3;

/// Starts sending `copy` on `generation` (the one its request runs on); returns at once.
void spawn_mirror(Worker& worker, Generation& generation, MirrorCopy copy);

/// The request head for a copy: `head` with `X-Vane-Mirror: 1` added.
std::string mirror_head(std::string_view head);

}  // namespace vane::proxy
