// Answers vane writes itself (errors, 404, 100 Continue), built once per process. Any thread.
#pragma once

#include <string_view>

namespace vane::proxy::http {

/// The reason phrase of a status code vane answers with ("Bad Request" for 400).
std::string_view reason_phrase(int status);

/// A complete response with a short text body. `close` adds `Connection: close`.
/// Covers 400, 404, 408, 413, 414, 417, 431, 501, 502, 503, 504, 505.
std::string_view canned_response(int status, bool close);

inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace vane::proxy::http
