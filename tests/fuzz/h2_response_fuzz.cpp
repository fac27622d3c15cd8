// libFuzzer target: an HTTP/2 upstream's bytes through nghttp2's client session, with vane's
// options for it (h2_client_options()), into the HTTP/1.1 answer a stream becomes
// (proxy/http/h2_inbound.cpp), which the relay then reads with vane's response parser. Two requests are open before the input
// comes: stream 1 a GET, stream 3 a HEAD. Properties, beyond "no crash, no UB":
//  - interim (1xx) heads leave nothing; the answer's head, once its header block ends, is one
//    whole head, with nothing after it;
//  - nothing is smuggled: its status is the :status, and its fields are the upstream's, in order,
//    with their values, besides the framing vane adds;
//  - its framing is the stream's: none for a HEAD, 204 or 304, the content-length when one came,
//    an empty body when END_STREAM came with the head, else chunked;
//  - once the stream ends, the bytes after the head are exactly its DATA (none for an answer
//    without a body), framed: chunked ones decode to the DATA and end with the trailers vane
//    passes on, at the last byte.
#include <nghttp2/nghttp2.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http/h2_inbound.hpp"
#include "proxy/http/h2_options.hpp"
#include "proxy/http/parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"
#include "tests/fuzz/h2_fuzz.hpp"

namespace vane::proxy::http {
namespace {

using fuzz::check;
using fuzz::check_body;
using fuzz::text;
using fuzz::trimmed;

/// The relay's limits for an upstream's head (Relay::read_response_head).
constexpr Limits kLimits{8192, 65536, 200};
/// H2Upstream resets a stream whose fields pass this before the block ends.
constexpr size_t kFieldBytesLimit = 256 * 1024;

/// One answer: what vane made of it, and what the upstream sent, kept apart to check one by the
/// other.
struct Got {
  explicit Got(bool head) : head_request(head) { in.set_head_request(head); }
  H2Inbound in{H2Inbound::Kind::Response};
  bool head_request;
  std::string status;
  std::vector<std::pair<std::string, std::string>> fields;  ///< neither pseudo, host, cookie nor te
  bool has_length = false;
  bool head_done = false;
  bool head_parsed = false;
  bool ended_with_head = false;
  size_t head_bytes = 0;
  Framing framing = Framing::None;
  std::string body;
  std::string trailers;  ///< "name: value\r\n" lines, as the upstream sent them
};

Got* got_of(nghttp2_session* session, int32_t id) {
  return static_cast<Got*>(nghttp2_session_get_stream_user_data(session, id));
}

void check_head(Got& g) {
  const std::string head_text = g.in.bytes;  // only the head so far
  ResponseHead head;
  ParseError error;
  const ParseStatus status = parse_response(head_text, kLimits, g.head_request, head, error);
  check(status != ParseStatus::Incomplete, "a header block makes a whole head");
  if (status == ParseStatus::Error) return;  // a 502 for the client
  check(head.head_bytes == head_text.size(), "nothing after the head");
  int code = 0;
  std::from_chars(g.status.data(), g.status.data() + g.status.size(), code);
  check(head.status == code, "the status is :status");
  const bool bodyless = g.head_request || code == 204 || code == 304;
  const Framing expected = bodyless           ? Framing::None
                           : g.has_length       ? Framing::Length
                           : g.ended_with_head ? Framing::Length  // Content-Length: 0
                                                : Framing::Chunked;
  check(head.framing == expected, "the stream's framing");
  size_t next = 0;
  for (const Field& f : head.fields) {
    if (f.name == "Transfer-Encoding" || f.name == "Content-Length") continue;  // vane's own
    check(next < g.fields.size(), "no field the upstream did not send");
    check(f.name == g.fields[next].first && f.value == trimmed(g.fields[next].second),
          "the upstream's fields, in order, with their values");
    ++next;
  }
  check(next == g.fields.size(), "every field the upstream sent");
  g.head_parsed = true;
  g.head_bytes = head.head_bytes;
  g.framing = head.framing;
}

void check_end(const Got& g) {
  if (!g.head_parsed) return;
  const std::string_view rest = std::string_view(g.in.bytes).substr(g.head_bytes);
  check_body(rest, g.framing, g.framing == Framing::None ? std::string_view{} : g.body, g.trailers);
}

struct Callbacks {
  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Got* g = got_of(session, frame->hd.stream_id);
    if (!g) return 0;
    if (g->in.field_bytes() > kFieldBytesLimit) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::string_view n = text(name, namelen), v = text(value, valuelen);
    g->in.add_field(n, v);
    if (g->head_done) {
      g->trailers.append(n).append(": ").append(v).append("\r\n");
    } else if (n == ":status") {
      g->status = v;
    } else if (!n.starts_with(':') && n != "host" && n != "cookie" && n != "te") {
      g->has_length = g->has_length || n == "content-length";
      g->fields.emplace_back(n, v);
    }
    return 0;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    Got* g = got_of(session, frame->hd.stream_id);
    if (!g) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      const bool was_done = g->head_done;
      const bool changed = g->in.end_fields(end);
      if (!was_done && changed) {
        g->head_done = true;
        g->ended_with_head = end;
        check_head(*g);
      } else if (!was_done) {  // an interim answer, dropped
        check(g->in.bytes.empty(), "an interim answer leaves nothing");
        g->status.clear();
        g->fields.clear();
        g->has_length = false;
      }
    } else if (frame->hd.type == NGHTTP2_DATA && end) {
      g->in.add_body({}, true);
    }
    if (g->in.complete()) check_end(*g);
    return 0;
  }
};

nghttp2_nv nv(std::string_view name, std::string_view value) {
  auto* n = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  auto* v = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  return {n, v, name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

/// nghttp2's output is sent nowhere: the requests only have to be out for their answers to come.
void drain(nghttp2_session* session) {
  const uint8_t* out = nullptr;
  while (nghttp2_session_mem_send(session, &out) > 0) {
  }
}

}  // namespace
}  // namespace vane::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vane::proxy::http;
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &vane::fuzz::data_chunk<Got>);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new2(&session, callbacks, nullptr, h2_client_options().get());
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  Got get(false), head(true);
  for (auto [method, got] : {std::pair{"GET", &get}, {"HEAD", &head}}) {
    const nghttp2_nv fields[] = {nv(":method", method), nv(":scheme", "http"), nv(":authority", "u.test"),
                                 nv(":path", "/")};
    nghttp2_submit_request(session, nullptr, fields, std::size(fields), nullptr, got);
  }
  drain(session);
  nghttp2_session_mem_recv(session, data, size);
  nghttp2_session_del(session);
  return 0;
}
