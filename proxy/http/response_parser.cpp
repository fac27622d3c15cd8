// parse_response: the status line (RFC 9112 §4) and the response framing rules (RFC 9112 §6.3).
// Every error is reported with status 502: the proxy answers the client so.
#include "proxy/http/field_lines.hpp"
#include "proxy/http/field_semantics.hpp"
#include "proxy/http/grammar.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy::http {

namespace {

using detail::fail;
using grammar::is;

constexpr int kBadGateway = 502;

void reset(ResponseHead& out) {
  out.status = 0;
  out.minor_version = 1;
  out.reason = {};
  out.framing = Framing::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.fields.clear();  // keeps its capacity: no allocation per response
  out.head_bytes = 0;
}

/// status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; "HTTP/1.1 200" is accepted too.
ParseStatus parse_status_line(std::string_view line, ResponseHead& out, ParseError& err) {
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !is(grammar::kDigit, line[5]) ||
      line[6] != '.' || !is(grammar::kDigit, line[7]) || line[8] != ' ') {
    return fail(err, kBadGateway, "malformed status line");
  }
  if (line[5] != '1' || (line[7] != '0' && line[7] != '1')) {
    return fail(err, kBadGateway, "unsupported HTTP version in response");
  }
  out.minor_version = line[7] - '0';
  if (line[9] < '1' || line[9] > '5' || !is(grammar::kDigit, line[10]) ||
      !is(grammar::kDigit, line[11])) {
    return fail(err, kBadGateway, "invalid status code");
  }
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (line.size() == 12) return ParseStatus::Complete;
  if (line[12] != ' ') return fail(err, kBadGateway, "malformed status line");
  out.reason = line.substr(13);
  for (char c : out.reason) {
    if (!is(grammar::kFieldChar, c)) return fail(err, kBadGateway, "invalid reason phrase");
  }
  return ParseStatus::Complete;
}

/// Every Content-Length value (fields and list elements) must be valid and the same
/// (RFC 9112 §6.3 item 5 allows identical duplicates).
bool response_content_length(const std::vector<Field>& fields, uint64_t& out) {
  bool ok = true;
  bool seen = false;
  for (const Field& f : fields) {
    if (f.kind != FieldKind::ContentLength) continue;
    detail::for_each_element(f.value, [&](std::string_view element) {
      uint64_t n = 0;
      ok = detail::parse_content_length(element, n) && (!seen || n == out);
      seen = true;
      out = n;
      return ok;
    });
    if (!ok) return false;
  }
  return true;
}

ParseStatus apply_framing(ResponseHead& out, const detail::HeadFacts& facts, ParseError& err) {
  const detail::TransferCodings& te = facts.transfer;
  if (te.fields > 0) {
    if (te.malformed) return fail(err, kBadGateway, "malformed Transfer-Encoding");
    // Transfer-Encoding wins over Content-Length, but such a connection is not trusted again;
    // nor is an HTTP/1.0 one that used Transfer-Encoding (RFC 9112 §6.1, §6.3).
    if (facts.content_lengths > 0 || out.minor_version == 0) out.keep_alive = false;
    if (!te.last_chunked) {
      out.framing = Framing::UntilClose;
    } else if (te.chunked > 1) {
      return fail(err, kBadGateway, "chunked applied more than once");
    } else {
      out.framing = Framing::Chunked;
    }
    return ParseStatus::Complete;
  }
  if (facts.content_lengths > 0) {
    if (!response_content_length(out.fields, out.content_length)) {
      return fail(err, kBadGateway, "invalid Content-Length in response");
    }
    out.framing = Framing::Length;
    return ParseStatus::Complete;
  }
  out.framing = Framing::UntilClose;
  return ParseStatus::Complete;
}

ParseStatus apply_fields(ResponseHead& out, bool head_request, ParseError& err) {
  detail::HeadFacts facts;
  detail::collect_facts(out.fields, facts);
  if (facts.connection.malformed) return fail(err, kBadGateway, "malformed Connection");
  out.keep_alive =
      !facts.connection.close && (out.minor_version == 1 || facts.connection.keep_alive);
  const ParseStatus s = apply_framing(out, facts, err);
  if (s != ParseStatus::Complete) return s;
  // No body whatever the fields say (RFC 9112 §6.3 item 1); content_length keeps the declared
  // value so a HEAD or 304 answer can repeat it.
  if (head_request || out.status < 200 || out.status == 204 || out.status == 304) {
    out.framing = Framing::None;
  } else if (out.framing == Framing::UntilClose) {
    out.keep_alive = false;
  }
  if (facts.connection.named_fields) detail::mark_connection_options(out.fields);
  return ParseStatus::Complete;
}

}  // namespace

ParseStatus parse_response(std::string_view data, const Limits& limits, bool head_request,
                           ResponseHead& out, ParseError& err) {
  reset(out);
  const size_t line_window = size_t{limits.max_line_bytes} + 2;
  const size_t head_limit = size_t{limits.max_header_bytes};
  size_t cr = 0;
  switch (detail::find_line(data, 0, line_window, cr)) {
    case detail::LineStatus::BareLf:
      return fail(err, kBadGateway, "bare LF in status line");
    case detail::LineStatus::Incomplete:
      if (data.size() >= line_window) return fail(err, kBadGateway, "status line too long");
      if (data.size() >= head_limit) return fail(err, kBadGateway, "response head too large");
      return ParseStatus::Incomplete;
    case detail::LineStatus::Found:
      break;
  }
  if (cr + 2 > head_limit) return fail(err, kBadGateway, "response head too large");
  const ParseStatus line = parse_status_line(data.substr(0, cr), out, err);
  if (line != ParseStatus::Complete) return line;
  size_t head_end = 0;
  const ParseStatus fields =
      detail::scan_fields(data, cr + 2, head_limit, limits.max_headers, out.fields, head_end, err);
  if (fields == ParseStatus::Error) err.status = kBadGateway;
  if (fields != ParseStatus::Complete) return fields;
  out.head_bytes = head_end;
  return apply_fields(out, head_request, err);
}

}  // namespace vane::proxy::http
