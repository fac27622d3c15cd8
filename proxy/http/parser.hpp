// Strict HTTP/1.1 head parsers (RFC 9112) with the request-smuggling defences of SPEC §3.
// Pure functions over bytes; no allocation once `fields` has grown to its working size.
#pragma once

#include <string_view>

#include "proxy/http/message.hpp"

namespace vane::proxy::http {

/// Parses the request head at the start of `data`.
/// Complete: `out` is filled, `out.head_bytes` bytes are the head. Incomplete: more bytes needed,
/// but limits are already enforced on what is there (a request line with no CRLF within
/// max_line_bytes -> 414, a head over max_header_bytes -> 431). Error: `err` says the answer.
/// Leading empty lines before the request line are skipped (RFC 9112 §2.2) and count in head_bytes.
ParseStatus parse_request(std::string_view data, const Limits& limits, RequestHead& out,
                          ParseError& err);

/// Parses an upstream's response head. `head_request` and 1xx/204/304 statuses mean no body.
/// Any violation is an Error (the proxy answers 502).
ParseStatus parse_response(std::string_view data, const Limits& limits, bool head_request,
                           ResponseHead& out, ParseError& err);

/// True when `id` may be used as an X-Request-Id: 1–128 characters of [A-Za-z0-9._:-].
bool valid_request_id(std::string_view id);

/// ASCII case-insensitive equality, for field names and tokens.
bool iequals(std::string_view a, std::string_view b);

}  // namespace vane::proxy::http
