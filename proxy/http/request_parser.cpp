// parse_request: the request line (RFC 9112 §3), the target forms vane accepts, and the request
// rules of SPEC §3 (Host, framing, Expect, Connection).
#include "proxy/http/field_lines.hpp"
#include "proxy/http/field_semantics.hpp"
#include "proxy/http/grammar.hpp"
#include "proxy/http/parser.hpp"

namespace vane::proxy::http {

namespace {

using detail::fail;
using grammar::is;

void reset(RequestHead& out) {
  out.method = {};
  out.target = {};
  out.path = {};
  out.host = {};
  out.minor_version = 1;
  out.framing = Framing::None;
  out.content_length = 0;
  out.keep_alive = true;
  out.expect_continue = false;
  out.upgrade = false;
  out.websocket = false;
  out.fields.clear();  // keeps its capacity: no allocation per request
  out.head_bytes = 0;
}

/// Skips the empty lines a client may send before the request line (RFC 9112 §2.2); `pos` ends
/// on the request line's first byte. Bounded, so a stream of CRLFs cannot hold a connection.
ParseStatus skip_empty_lines(std::string_view data, const Limits& limits, size_t& pos,
                             ParseError& err) {
  for (pos = 0; pos < data.size(); pos += 2) {
    if (data[pos] == '\n') return fail(err, 400, "bare LF before the request line");
    if (data[pos] != '\r') return ParseStatus::Complete;
    if (pos + 1 == data.size()) return ParseStatus::Incomplete;
    if (data[pos + 1] != '\n') return fail(err, 400, "CR without LF before the request line");
    if (pos + 2 > limits.max_line_bytes) return fail(err, 400, "too many empty lines");
  }
  return ParseStatus::Incomplete;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

/// HTTP-version = "HTTP/" DIGIT "." DIGIT; only 1.0 and 1.1 are served.
ParseStatus parse_version(std::string_view v, int& minor, ParseError& err) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is(grammar::kDigit, v[5]) || v[6] != '.' ||
      !is(grammar::kDigit, v[7])) {
    return fail(err, 400, "malformed HTTP version");
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
    return fail(err, 505, "HTTP version not supported");
  }
  minor = v[7] - '0';
  return ParseStatus::Complete;
}

/// absolute-form for http/https (RFC 9112 §3.2.2): `authority` is returned for the Host check,
/// `path` is the origin-form to forward: the rest from its first '/', or "/" before a query or
/// for nothing (path-abempty may be empty, RFC 3986 §3). '#' never gets here (kTarget).
ParseStatus parse_absolute_form(RequestHead& out, std::string_view& authority, ParseError& err) {
  std::string_view rest = out.target;
  if (starts_with_nocase(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (starts_with_nocase(rest, "https://")) {
    rest.remove_prefix(8);
  } else {
    return fail(err, 400, "unsupported request-target form");
  }
  const size_t path_at = rest.find_first_of("/?");
  authority = rest.substr(0, path_at);
  if (authority.find('@') != std::string_view::npos) {
    return fail(err, 400, "userinfo in request-target");
  }
  if (!detail::valid_host(authority)) return fail(err, 400, "invalid authority in request-target");
  if (path_at == std::string_view::npos) {
    out.path = "/";
  } else if (rest[path_at] == '/') {
    out.path = rest.substr(path_at);
  } else {
    // "http://a?q": the buffer holds no "/?q" to view, so it is built in the head's own storage.
    out.built_path.assign(1, '/').append(rest.substr(path_at));
    out.path = out.built_path;
  }
  return ParseStatus::Complete;
}

ParseStatus parse_target(RequestHead& out, std::string_view& authority, ParseError& err) {
  if (out.method == "CONNECT") return fail(err, 501, "CONNECT is not supported");
  if (out.target.front() == '/') {
    out.path = out.target;
    return ParseStatus::Complete;
  }
  if (out.target == "*") {
    if (out.method != "OPTIONS") return fail(err, 400, "asterisk-form without OPTIONS");
    out.path = out.target;
    return ParseStatus::Complete;
  }
  return parse_absolute_form(out, authority, err);
}

/// request-line = method SP request-target SP HTTP-version, single spaces, no CTLs.
ParseStatus parse_request_line(std::string_view line, RequestHead& out,
                               std::string_view& authority, ParseError& err) {
  size_t i = 0;
  while (i < line.size() && is(grammar::kTchar, line[i])) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return fail(err, 400, "malformed method");
  out.method = line.substr(0, i);
  const size_t target_start = ++i;
  while (i < line.size() && is(grammar::kTarget, line[i])) ++i;
  if (i == target_start) return fail(err, 400, "empty request-target");
  if (i == line.size()) return fail(err, 400, "request line without HTTP version");
  if (line[i] == '#') return fail(err, 400, "fragment in request-target");
  if (line[i] != ' ') return fail(err, 400, "invalid character in request-target");
  out.target = line.substr(target_start, i - target_start);
  const ParseStatus version = parse_version(line.substr(i + 1), out.minor_version, err);
  if (version != ParseStatus::Complete) return version;
  return parse_target(out, authority, err);
}

/// A partial request line whose method or target is already invalid is rejected at once, not
/// after max_line_bytes or a timeout (e.g. a TLS ClientHello sent to a plain-text port).
bool viable_partial_line(std::string_view partial) {
  size_t i = 0;
  while (i < partial.size() && is(grammar::kTchar, partial[i])) ++i;
  if (i == partial.size()) return true;
  if (i == 0 || partial[i] != ' ') return false;
  ++i;
  while (i < partial.size() && is(grammar::kTarget, partial[i])) ++i;
  return i == partial.size() || partial[i] == ' ';
}

/// Message framing (RFC 9112 §6): the smuggling defences. Chunked must be the one and only coding.
ParseStatus apply_framing(RequestHead& out, const detail::HeadFacts& facts, ParseError& err) {
  // A backend that maps '_' to '-' would frame the body by a field vane does not: refuse.
  if (facts.framing_lookalike) {
    return fail(err, 400, "field name that reads as Content-Length or Transfer-Encoding");
  }
  const detail::TransferCodings& te = facts.transfer;
  if (te.fields > 0) {
    if (facts.content_lengths > 0) {
      return fail(err, 400, "both Content-Length and Transfer-Encoding");
    }
    if (out.minor_version == 0) return fail(err, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (te.malformed) return fail(err, 400, "malformed Transfer-Encoding");
    if (te.unknown) return fail(err, 501, "unknown transfer coding");
    if (te.codings == 1 && te.last_chunked) {
      out.framing = Framing::Chunked;
      return ParseStatus::Complete;
    }
    if (te.last_chunked && te.chunked == 1) return fail(err, 501, "transfer coding not supported");
    return fail(err, 400, "chunked is not the only and final transfer coding");
  }
  if (facts.content_lengths > 1) return fail(err, 400, "several Content-Length fields");
  if (facts.content_lengths == 1) {
    if (!detail::parse_content_length(facts.content_length, out.content_length)) {
      return fail(err, 400, "invalid Content-Length");
    }
    out.framing = Framing::Length;
  }
  return ParseStatus::Complete;
}

ParseStatus apply_host(RequestHead& out, const detail::HeadFacts& facts,
                       std::string_view authority, ParseError& err) {
  if (facts.hosts > 1) return fail(err, 400, "several Host fields");
  if (facts.hosts == 0) {
    if (out.minor_version == 1) return fail(err, 400, "HTTP/1.1 request without Host");
    out.host = authority;
    return ParseStatus::Complete;
  }
  if (!detail::valid_host(facts.host)) return fail(err, 400, "invalid Host");
  if (!authority.empty() && !iequals(authority, facts.host)) {
    return fail(err, 400, "Host differs from the target's authority");
  }
  out.host = facts.host;
  return ParseStatus::Complete;
}

ParseStatus apply_fields(RequestHead& out, std::string_view authority, ParseError& err) {
  detail::HeadFacts facts;
  detail::collect_facts(out.fields, facts);
  ParseStatus s = apply_framing(out, facts, err);
  if (s == ParseStatus::Complete) s = apply_host(out, facts, authority, err);
  if (s != ParseStatus::Complete) return s;
  if (facts.connection.malformed) return fail(err, 400, "malformed Connection");
  if (facts.expect_other) return fail(err, 417, "unsupported expectation");
  // An HTTP/1.0 client cannot wait for 100 Continue (RFC 9110 §10.1.1): ignore its Expect.
  out.expect_continue = facts.expect_continue && out.minor_version == 1;
  out.upgrade = facts.upgrade;
  out.websocket = facts.upgrade_websocket && facts.connection.upgrade && out.minor_version == 1 &&
                  out.method == "GET";
  out.keep_alive =
      !facts.connection.close && (out.minor_version == 1 || facts.connection.keep_alive);
  if (facts.connection.named_fields) detail::mark_connection_options(out.fields);
  return ParseStatus::Complete;
}

}  // namespace

ParseStatus parse_request(std::string_view data, const Limits& limits, RequestHead& out,
                          ParseError& err) {
  reset(out);
  size_t start = 0;
  const ParseStatus skipped = skip_empty_lines(data, limits, start, err);
  if (skipped != ParseStatus::Complete) return skipped;
  const size_t line_window = start + size_t{limits.max_line_bytes} + 2;
  const size_t head_limit = start + size_t{limits.max_header_bytes};
  size_t cr = 0;
  switch (detail::find_line(data, start, line_window, cr)) {
    case detail::LineStatus::BareLf:
      return fail(err, 400, "bare LF in request line");
    case detail::LineStatus::Incomplete:
      if (data.size() >= line_window) return fail(err, 414, "request line too long");
      if (data.size() >= head_limit) return fail(err, 431, "header section too large");
      if (!viable_partial_line(data.substr(start))) return fail(err, 400, "malformed request line");
      return ParseStatus::Incomplete;
    case detail::LineStatus::Found:
      break;
  }
  if (cr + 2 > head_limit) return fail(err, 431, "header section too large");
  std::string_view authority;
  const ParseStatus line = parse_request_line(data.substr(start, cr - start), out, authority, err);
  if (line != ParseStatus::Complete) return line;
  size_t head_end = 0;
  const ParseStatus fields =
      detail::scan_fields(data, cr + 2, head_limit, limits.max_headers, out.fields, head_end, err);
  if (fields != ParseStatus::Complete) return fields;
  out.head_bytes = head_end;
  return apply_fields(out, authority, err);
}

}  // namespace vane::proxy::http
