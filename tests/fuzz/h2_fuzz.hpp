// Shared by the HTTP/2 libFuzzer targets (h2_request_fuzz.cpp, h2_response_fuzz.cpp): what both
// sides check of the HTTP/1.1 bytes a stream became (proxy/http/h2_inbound.hpp).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/message.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::fuzz {

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// nghttp2's DATA callback for a target whose streams' user data is a `Record`: its H2Inbound
/// `in` gets the bytes, and `body` keeps them to check `in` by.
template <class Record>
int data_chunk(nghttp2_session* session, uint8_t, int32_t id, const uint8_t* data, size_t len, void*) {
  auto* r = static_cast<Record*>(nghttp2_session_get_stream_user_data(session, id));
  if (!r) return 0;
  r->in.add_body(text(data, len), false);
  r->body.append(text(data, len));
  return 0;
}

/// A field value as vane's parsers keep it: without leading and trailing OWS.
inline std::string_view trimmed(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

/// The trailer fields vane passes on (trailer_allowed()), as "name: value" lines.
inline std::string passed_trailers(std::string_view section) {
  std::string out;
  proxy::http::for_each_trailer(section, [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\n");
  });
  return out;
}

/// `rest`, the bytes after a whole message's head, is exactly `body` framed as `framing` says:
/// chunked, it decodes to `body`, ends with `trailers` (the peer's, as "name: value\r\n" lines)
/// as vane passes them on, and at its last byte.
inline void check_body(std::string_view rest, proxy::http::Framing framing, std::string_view body,
                       std::string_view trailers) {
  using proxy::http::ChunkedDecoder;
  if (framing != proxy::http::Framing::Chunked) {
    check(rest == body, "the body is the DATA, nothing more");
    return;
  }
  ChunkedDecoder decoder;
  std::string decoded;
  size_t at = 0;
  for (;;) {
    const auto step = decoder.next(rest.substr(at));
    at += step.consumed;
    if (step.status == ChunkedDecoder::Status::Data) decoded.append(step.data);
    if (step.status == ChunkedDecoder::Status::Done) break;
    check(step.status != ChunkedDecoder::Status::Error, "the chunked body decodes");
    check(step.status != ChunkedDecoder::Status::NeedMore, "the chunked body ends");
  }
  check(at == rest.size(), "nothing after the last chunk");
  check(decoded == body, "the chunks are the DATA");
  check(passed_trailers(decoder.trailers()) == passed_trailers(trailers), "the trailers");
}

}  // namespace vane::fuzz
