// Why a proxied request failed: the common language of the Exchange (the forwarding policy), the
// Relay (its bytes) and the UpstreamConnection. Decides the answer when nothing was sent yet,
// whether another try may help, whose fault it was and what to count. Pure; any thread.
#pragma once

#include <cstdint>

namespace vane::proxy {

enum class Failure : uint8_t {
  None,
  NoRoute,        ///< 404
  TooLarge,       ///< 413
  BadBody,        ///< 400: chunked framing from the client
  ShortBody,      ///< 400: the client closed before the end of its body
  ClientTimeout,  ///< 408: the client stalled sending its body (or reading the response: closed)
  ClientGone,     ///< the client closed or reset: nothing to answer
  NoEndpoint,     ///< 503
  PoolFull,       ///< 503 after waiting connectTimeout for a free connection
  Connect,        ///< 502
  Reset,          ///< 502: the upstream closed or reset (before the response's end)
  Protocol,       ///< 502: malformed response (head, or chunk framing)
  Timeout,        ///< 504
  Status5xx,      ///< the upstream answered 5xx: only while deciding on another try
};

/// The status vane answers with for `failure` when no response byte went to the client yet.
constexpr int answer_status(Failure failure) {
  switch (failure) {
    case Failure::NoRoute: return 404;
    case Failure::TooLarge: return 413;
    case Failure::BadBody:
    case Failure::ShortBody: return 400;
    case Failure::ClientTimeout: return 408;
    case Failure::NoEndpoint:
    case Failure::PoolFull: return 503;
    case Failure::Timeout: return 504;
    default: return 502;
  }
}

/// Whether `failure` is the endpoint's doing, so that it counts towards its passive ejection
/// (SPEC §3). A 5xx answer counts too, but it arrives as Failure::None with its status.
constexpr bool blames_endpoint(Failure failure) {
  switch (failure) {
    case Failure::Connect:
    case Failure::Reset:
    case Failure::Timeout:
    case Failure::Protocol:
    case Failure::Status5xx: return true;
    default: return false;
  }
}

/// nginx's "client closed request": how a request whose client went away before any answer is
/// measured. A 4xx, so that no client's doing counts as a failure of the upstream.
inline constexpr int kClientClosedRequest = 499;

/// The status a request is measured with when no (more) answer can reach its client: the
/// response started, or the client is gone. `sent` is the status already sent (0: none). An
/// upstream's failure is a 5xx whatever was sent (a cut response is never a success: SPEC §3);
/// the client's own failures (it went away, or stopped reading) keep the upstream's answer, or
/// 499 when there was none. The access log shows `sent`.
constexpr int cut_status(Failure failure, int sent) {
  if (blames_endpoint(failure)) return answer_status(failure);
  return sent != 0 ? sent : kClientClosedRequest;
}

}  // namespace vane::proxy
