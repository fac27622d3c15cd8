// Line splitting and header field lines; also the small public helpers of parser.hpp.
#include "proxy/http/field_lines.hpp"

#include <cstring>

#include "proxy/http/grammar.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (grammar::to_lower(a[i]) != grammar::to_lower(b[i])) return false;
  }
  return true;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!grammar::is(grammar::kRequestId, c)) return false;
  }
  return true;
}

namespace detail {

LineStatus find_line(std::string_view data, size_t pos, size_t window_end, size_t& cr) {
  const size_t end = window_end < data.size() ? window_end : data.size();
  if (pos >= end) return LineStatus::Incomplete;
  // memchr is vectorised; the bytes of the line are validated afterwards by their grammar.
  const void* hit = std::memchr(data.data() + pos, '\n', end - pos);
  if (hit == nullptr) return LineStatus::Incomplete;
  const size_t lf = static_cast<size_t>(static_cast<const char*>(hit) - data.data());
  if (lf == pos || data[lf - 1] != '\r') return LineStatus::BareLf;
  cr = lf - 1;
  return LineStatus::Found;
}

bool parse_field_line(std::string_view line, Field& out, ParseError& err) {
  if (grammar::is_ows(line.front())) {
    fail(err, 400, "obs-fold or whitespace before a field line");
    return false;
  }
  size_t i = 0;
  while (i < line.size() && grammar::is(grammar::kTchar, line[i])) ++i;
  if (i == line.size() || line[i] != ':') {
    fail(err, 400, "invalid field name");
    return false;
  }
  if (i == 0) {
    fail(err, 400, "empty field name");
    return false;
  }
  out.name = line.substr(0, i);
  ++i;
  while (i < line.size() && grammar::is_ows(line[i])) ++i;
  const size_t value_start = i;
  size_t value_end = i;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (!grammar::is(grammar::kFieldChar, c)) {
      fail(err, 400, "invalid character in field value");
      return false;
    }
    if (!grammar::is_ows(c)) value_end = i + 1;
  }
  out.value = line.substr(value_start, value_end - value_start);
  out.kind = classify_field(out.name);
  return true;
}

namespace {

/// iequals with each '_' of `name` read as '-'; `lower` is lowercase.
bool iequals_underscore_as_dash(std::string_view name, std::string_view lower) {
  if (name.size() != lower.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i] == '_' ? '-' : grammar::to_lower(name[i]);
    if (c != lower[i]) return false;
  }
  return true;
}

/// The kind of a name of a framing field's length that is not that field: a lookalike, or Other.
FieldKind framing_lookalike(std::string_view name, std::string_view framing_name) {
  return iequals_underscore_as_dash(name, framing_name) ? FieldKind::FramingLookalike
                                                        : FieldKind::Other;
}

}  // namespace

FieldKind classify_field(std::string_view name) {
  // Dispatch on length first: most fields are rejected by one size comparison.
  switch (name.size()) {
    case 2:
      return iequals(name, "te") ? FieldKind::HopByHop : FieldKind::Other;
    case 4:
      return iequals(name, "host") ? FieldKind::Host : FieldKind::Other;
    case 6:
      return iequals(name, "expect") ? FieldKind::Expect : FieldKind::Other;
    case 7:
      return iequals(name, "upgrade") || iequals(name, "trailer") ? FieldKind::HopByHop
                                                                  : FieldKind::Other;
    case 10:
      return iequals(name, "connection") || iequals(name, "keep-alive") ? FieldKind::HopByHop
                                                                        : FieldKind::Other;
    case 12:
      return iequals(name, "x-request-id") ? FieldKind::XRequestId : FieldKind::Other;
    case 14:
      if (iequals(name, "content-length")) return FieldKind::ContentLength;
      return framing_lookalike(name, "content-length");
    case 15:
      return iequals(name, "x-forwarded-for") ? FieldKind::XForwardedFor : FieldKind::Other;
    case 16:
      return iequals(name, "proxy-connection") ? FieldKind::HopByHop : FieldKind::Other;
    case 17:
      if (iequals(name, "transfer-encoding")) return FieldKind::TransferEncoding;
      if (iequals(name, "x-forwarded-proto")) return FieldKind::XForwardedProto;
      return framing_lookalike(name, "transfer-encoding");
    default:
      return FieldKind::Other;
  }
}

ParseStatus scan_fields(std::string_view data, size_t pos, size_t head_limit, uint32_t max_fields,
                        std::vector<Field>& fields, size_t& head_end, ParseError& err) {
  if (fields.capacity() == 0) fields.reserve(16);  // one allocation for most heads, not five
  for (;;) {
    // A further field line has begun while the list is full: no need to wait for its end.
    if (fields.size() >= max_fields && pos < data.size() && data[pos] != '\r') {
      return fail(err, 431, "too many header fields");
    }
    size_t cr = 0;
    switch (find_line(data, pos, head_limit, cr)) {
      case LineStatus::BareLf:
        return fail(err, 400, "bare LF in header section");
      case LineStatus::Incomplete:
        if (data.size() >= head_limit) return fail(err, 431, "header section too large");
        return ParseStatus::Incomplete;
      case LineStatus::Found:
        break;
    }
    if (cr == pos) {
      head_end = pos + 2;
      return ParseStatus::Complete;
    }
    Field field;
    if (!parse_field_line(data.substr(pos, cr - pos), field, err)) return ParseStatus::Error;
    fields.push_back(field);
    pos = cr + 2;
  }
}

}  // namespace detail
}  // namespace vane::proxy::http
