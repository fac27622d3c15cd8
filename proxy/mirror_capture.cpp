#include "proxy/mirror_capture.hpp"

#include "proxy/worker.hpp"
#include "proxy/worker_stats.hpp"

namespace vane::proxy {

void MirrorCapture::start(const rollout::RoutingDecision& decision, bool head_request,
                          const std::string& request_head, http::Framing framing,
                          uint64_t content_length) {
  // The in-flight limit is checked here (no copy to assemble) and again when the copy leaves.
  if (decision.mirror < 0 || full(decision.rollout)) return;
  const uint64_t max_body = generation_.snapshot().config->limits.max_mirror_body_bytes;
  if (framing == http::Framing::Length && content_length > max_body) {
    generation_.stats().mirror_skip(decision.rollout, MirrorSkip::BodyTooLarge);
    return;
  }
  // The copy's head is the forwarded one plus `X-Vane-Mirror: 1` (18 bytes); 32 covers that.
  most_ = max_body + request_head.size() + 32;
  copy_.emplace(MirrorCopy{static_cast<uint32_t>(decision.mirror), decision.route,
                           decision.rollout, head_request, mirror_head(request_head)});
}

void MirrorCapture::add(std::string_view a, std::string_view b, std::string_view c) {
  copy_->request.append(a).append(b).append(c);
  if (copy_->request.size() > most_) {
    generation_.stats().mirror_skip(copy_->rollout, MirrorSkip::BodyTooLarge);
    copy_.reset();
  }
}

void MirrorCapture::send(bool complete) {
  if (!copy_) return;
  if (complete && !full(copy_->rollout)) spawn_mirror(worker_, generation_, std::move(*copy_));
  copy_.reset();
}

bool MirrorCapture::full(int32_t rollout) {
  if (worker_.mirrors_in_flight() < generation_.snapshot().config->limits.max_mirror_in_flight) {
    return false;
  }
  generation_.stats().mirror_skip(rollout, MirrorSkip::InFlightLimit);
  return true;
}

}  // namespace vane::proxy
