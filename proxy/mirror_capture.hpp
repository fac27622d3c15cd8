// The copy of one request for a mirror route (SPEC §3), assembled while its body streams up and
// sent once forwarding is over; copies over maxMirrorBodyBytes or maxMirrorInFlight are counted
// as skipped. Owned by the request's Exchange, fed by its Relay. Worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/message.hpp"
#include "proxy/mirror.hpp"
#include "rollout/routing_table.hpp"

namespace vane::proxy {

class Generation;
class Worker;

class MirrorCapture {
 public:
  MirrorCapture(Worker& worker, Generation& generation)
      : worker_(worker), generation_(generation) {}

  /// Starts a copy of the request `decision` routed, if it asks for one and the limits allow.
  /// `request_head` is the head forwarded upstream; `framing` and `content_length` the body's.
  void start(const rollout::RoutingDecision& decision, bool head_request,
             const std::string& request_head, http::Framing framing, uint64_t content_length);

  /// Appends request bytes (as sent upstream) to the copy, if one is being assembled.
  void append(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
    if (copy_) add(a, b, c);
  }

  /// Sends the copy; `complete`: the request was read to its end (else there is no whole copy).
  void send(bool complete);

 private:
  void add(std::string_view a, std::string_view b, std::string_view c);
  /// maxMirrorInFlight copies are out: this one is dropped (and counted).
  bool full(int32_t rollout);

  Worker& worker_;
  Generation& generation_;
  std::optional<MirrorCopy> copy_;
  size_t most_ = 0;  ///< bytes of head and body past which the copy is dropped
};

}  // namespace vane::proxy
