#include "proxy/http/head_writer.hpp"

#include <charconv>

#include "proxy/http/parser.hpp"
#include "proxy/http/responses.hpp"

namespace vane::proxy::http {
namespace {

/// A head fits in this mostly: a fresh scratch string grows once instead of doubling four times
/// (each HTTP/2 stream's exchange starts with fresh ones).
constexpr size_t kHeadReserve = 256;

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// The Transfer-Encoding for a re-chunked response: codings the upstream applied besides chunked
/// (gzip, …) must stay, or the client could not decode the body.
void append_transfer_encoding(std::string& out, const ResponseHead& response) {
  out.append("Transfer-Encoding: ");
  for (const auto& field : response.fields) {
    if (field.kind != FieldKind::TransferEncoding) continue;
    const auto last = field.value.rfind(',');
    const auto final_coding = last == std::string_view::npos ? field.value : field.value.substr(last + 1);
    std::string_view others = field.value;
    if (http::iequals(trim(final_coding), "chunked")) {
      others = last == std::string_view::npos ? std::string_view{} : field.value.substr(0, last);
    }
    if (!trim(others).empty()) out.append(trim(others)).append(", ");
  }
  out.append("chunked\r\n");
}

bool has_transfer_encoding(const ResponseHead& response) {
  for (const auto& field : response.fields) {
    if (field.kind == FieldKind::TransferEncoding) return true;
  }
  return false;
}

/// True when the upstream's codings already include chunked before another one (`chunked, gzip`,
/// a close-delimited body): chunking it again would apply chunked twice (RFC 9112 §6.1).
bool chunked_inside(const ResponseHead& response) {
  if (response.framing != Framing::UntilClose) return false;
  for (const auto& field : response.fields) {
    if (field.kind != FieldKind::TransferEncoding) continue;
    for (std::string_view rest = field.value; !rest.empty();) {
      const auto comma = rest.find(',');
      if (http::iequals(trim(rest.substr(0, comma)), "chunked")) return true;
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return false;
}

constexpr std::string_view kWebSocketUpgrade = "Connection: upgrade\r\nUpgrade: websocket\r\n";

}  // namespace

void write_request_head(const RequestHead& head, const ForwardInfo& info, std::string& out) {
  out.clear();
  out.reserve(kHeadReserve);
  out.append(head.method).append(" ").append(head.path).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (const auto& field : head.fields) {
    if (field.kind == FieldKind::Other || field.kind == FieldKind::Host) {
      append_field(out, field.name, field.value);
      has_host = has_host || field.kind == FieldKind::Host;
    }
    // hop-by-hop, framing, Expect, X-Forwarded-*, X-Request-Id: regenerated below
  }
  if (!has_host) append_field(out, "Host", head.host.empty() ? info.default_host : head.host);
  // Every X-Forwarded-For the client sent, joined in order, then the client's own address.
  out.append("X-Forwarded-For: ");
  for (const auto& field : head.fields) {
    if (field.kind == FieldKind::XForwardedFor && !field.value.empty()) {
      out.append(field.value).append(", ");
    }
  }
  out.append(info.client_address).append("\r\n");
  append_field(out, "X-Forwarded-Proto", info.proto);
  append_field(out, "X-Request-Id", info.request_id);
  if (head.framing == http::Framing::Length) {
    out.append("Content-Length: ");
    append_number(out, head.content_length);
    out.append("\r\n");
  } else if (head.framing == http::Framing::Chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
  if (head.websocket) out.append(kWebSocketUpgrade);
  out.append("\r\n");
}

ClientFraming client_framing(const ResponseHead& response, int client_minor) {
  switch (response.framing) {
    case http::Framing::None: return ClientFraming::None;
    case http::Framing::Length: return ClientFraming::Length;
    case http::Framing::Chunked:
      return client_minor >= 1 ? ClientFraming::Chunked : ClientFraming::Close;
    case http::Framing::UntilClose:
      // A body already chunked inside goes as it came, close-delimited, with its codings.
      return client_minor >= 1 && !chunked_inside(response) ? ClientFraming::Chunked
                                                            : ClientFraming::Close;
  }
  return ClientFraming::Close;
}

void write_response_head(const ResponseHead& response, ClientFraming framing,
                         std::string_view request_id, bool keep_alive, int client_minor,
                         std::string& out, std::string_view extra) {
  out.clear();
  out.reserve(kHeadReserve);
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(response.status));
  std::string_view reason = response.reason;
  if (reason.empty()) reason = reason_phrase(response.status);
  out.append(" ").append(reason == "Unknown" ? std::string_view{} : reason);
  out.append("\r\n");
  // A Content-Length that came with a Transfer-Encoding was overridden, never checked, and must
  // not be forwarded (RFC 9112 §6.3 item 3), not even on a bodiless answer.
  const bool keep_length = framing == ClientFraming::None && !has_transfer_encoding(response);
  for (const auto& field : response.fields) {
    const bool keep = field.kind == FieldKind::Other || field.kind == FieldKind::Host ||
                      field.kind == FieldKind::FramingLookalike ||
                      field.kind == FieldKind::XForwardedFor ||
                      field.kind == FieldKind::XForwardedProto ||
                      field.kind == FieldKind::Expect ||
                      // a bodiless response (HEAD, 304) keeps its Content-Length as information
                      (field.kind == FieldKind::ContentLength && keep_length) ||
                      // raw bytes to an HTTP/1.1 client: their codings, as the upstream sent them
                      (field.kind == FieldKind::TransferEncoding &&
                       framing == ClientFraming::Close && client_minor >= 1);
    if (keep) append_field(out, field.name, field.value);
  }
  append_field(out, "X-Request-Id", request_id);
  out.append(extra);
  if (framing == ClientFraming::Length) {
    out.append("Content-Length: ");
    append_number(out, response.content_length);
    out.append("\r\n");
  } else if (framing == ClientFraming::Chunked) {
    append_transfer_encoding(out, response);
  }
  if (response.status == 101) {  // relayed only to a WebSocket handshake (Relay)
    out.append(kWebSocketUpgrade);
  } else if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (client_minor == 0) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

}  // namespace vane::proxy::http
