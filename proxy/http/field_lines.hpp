// Line splitting and header field lines (RFC 9112 §2.2, §5), shared by the request and response
// parsers. Internal to proxy/http; pure functions called on worker threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "proxy/http/message.hpp"

namespace vane::proxy::http::detail {

enum class LineStatus : uint8_t { Found, Incomplete, BareLf };

/// Looks for the CRLF ending the line that starts at `pos`, searching only below `window_end`
/// (clamped to data). Found: `cr` is the index of the CR. A LF without its CR is BareLf.
LineStatus find_line(std::string_view data, size_t pos, size_t window_end, size_t& cr);

/// Parses one field line without its CRLF: `name ":" OWS value OWS`. False (err = 400) on
/// obs-fold, an empty or invalid name, whitespace before the colon, a CTL in the value.
bool parse_field_line(std::string_view line, Field& out, ParseError& err);

/// The kind a field has by its name alone (Connection-named fields are marked later). A name that
/// is a framing field's once each '_' is read as '-' is FramingLookalike, any other '_' is kept.
FieldKind classify_field(std::string_view name);

/// Parses field lines from `pos` up to and including the empty line, appending to `fields`.
/// The head must end at or before `head_limit` (else 431); more than `max_fields` fields is 431.
/// Complete: `head_end` is the index just past the final CRLF.
ParseStatus scan_fields(std::string_view data, size_t pos, size_t head_limit, uint32_t max_fields,
                        std::vector<Field>& fields, size_t& head_end, ParseError& err);

/// Sets `err` and returns ParseStatus::Error, to keep error paths one line long.
inline ParseStatus fail(ParseError& err, int status, std::string_view reason) {
  err.status = status;
  err.reason = reason;
  return ParseStatus::Error;
}

}  // namespace vane::proxy::http::detail
