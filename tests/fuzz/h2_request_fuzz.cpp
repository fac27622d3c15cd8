// libFuzzer target: a client's HTTP/2 bytes (after the connection preface) through nghttp2's
// server session, with vane's options for it (h2_server_options()), into the HTTP/1.1 message a
// stream becomes (proxy/http/h2_inbound.cpp), which vane's own parser then reads. Properties,
// beyond "no crash, no UB":
//  - a request's head, once its header block ends, is one whole head: it never parses as
//    Incomplete, and when it parses there is nothing after it;
//  - nothing is smuggled: the parsed head has the :method and :path as its request line, the
//    :authority (else the first host field) as its only Host, the cookie fields joined in one
//    Cookie, and otherwise exactly the request's fields, in order, with their values;
//  - its framing is the stream's: none when END_STREAM came with the head, the content-length
//    when one came, else chunked;
//  - once the stream ends, the bytes after the head are exactly its DATA, framed: chunked ones
//    decode to the DATA and end with the trailers vane passes on, at the last byte;
//  - a rejected head carries one of the statuses SPEC §3 answers.
#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <map>
#include <memory>
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

constexpr Limits kLimits{};
/// H2Connection resets a stream whose fields pass twice the head limit before the block ends.
constexpr size_t kFieldBytesLimit = 2 * size_t{kLimits.max_header_bytes};

/// One stream: what vane made of it, and what the client sent, kept apart to check one by the
/// other.
struct Sent {
  H2Inbound in{H2Inbound::Kind::Request};
  std::string method, path, authority;
  std::vector<std::pair<std::string, std::string>> fields;  ///< neither pseudo, host, cookie nor te
  bool has_cookie = false;  ///< a cookie field that is not empty
  bool has_length = false;
  bool head_ended = false;
  bool head_parsed = false;
  bool ended_with_head = false;
  size_t head_bytes = 0;
  Framing framing = Framing::None;
  std::string body;
  std::string trailers;  ///< "name: value\r\n" lines, as the client sent them
};

using Streams = std::map<int32_t, std::unique_ptr<Sent>>;

Sent* sent_of(nghttp2_session* session, int32_t id) {
  return static_cast<Sent*>(nghttp2_session_get_stream_user_data(session, id));
}

void check_head(Sent& s) {
  const std::string head_text = s.in.bytes;  // only the head so far
  RequestHead head;
  ParseError error;
  const ParseStatus status = parse_request(head_text, kLimits, head, error);
  check(status != ParseStatus::Incomplete, "a header block makes a whole head");
  if (status == ParseStatus::Error) {
    const int e = error.status;
    check(e == 400 || e == 414 || e == 417 || e == 431 || e == 501 || e == 505, "an error status SPEC §3 answers");
    return;
  }
  check(head.head_bytes == head_text.size(), "nothing after the head");
  check(head.method == s.method && head.target == s.path, "the request line is :method and :path");
  check(head.host == trimmed(s.authority), "Host is :authority, else the first host field");
  size_t hosts = 0, next = 0;
  bool cookie = false, chunked_field = false;
  for (const Field& f : head.fields) {
    if (f.kind == FieldKind::Host) {
      ++hosts;
    } else if (f.name == "Cookie") {
      cookie = true;
    } else if (f.kind == FieldKind::TransferEncoding) {
      chunked_field = true;
    } else {
      check(next < s.fields.size(), "no field the client did not send");
      check(f.name == s.fields[next].first && f.value == trimmed(s.fields[next].second),
            "the client's fields, in order, with their values");
      ++next;
    }
  }
  check(next == s.fields.size(), "every field the client sent");
  check(hosts == 1, "one Host");
  check(cookie == s.has_cookie, "cookies joined in one Cookie");
  const Framing expected = s.has_length ? Framing::Length : s.ended_with_head ? Framing::None : Framing::Chunked;
  check(head.framing == expected, "the stream's framing");
  check(chunked_field == (expected == Framing::Chunked), "Transfer-Encoding only for a chunked body");
  s.head_parsed = true;
  s.head_bytes = head.head_bytes;
  s.framing = head.framing;
}

void check_end(const Sent& s) {
  if (s.head_parsed) check_body(std::string_view(s.in.bytes).substr(s.head_bytes), s.framing, s.body, s.trailers);
}

struct Callbacks {
  static int begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto& streams = *static_cast<Streams*>(user);
    auto& s = streams[frame->hd.stream_id];
    s = std::make_unique<Sent>();
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, s.get());
    return 0;
  }

  static int header(nghttp2_session* session, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void*) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    Sent* s = sent_of(session, frame->hd.stream_id);
    if (!s) return 0;
    if (s->in.field_bytes() > kFieldBytesLimit) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const std::string_view n = text(name, namelen), v = text(value, valuelen);
    s->in.add_field(n, v);
    if (s->head_ended) {
      s->trailers.append(n).append(": ").append(v).append("\r\n");
    } else if (n == ":method") {
      s->method = v;
    } else if (n == ":path") {
      s->path = v;
    } else if (n == ":authority") {
      s->authority = v;
    } else if (n == "host") {
      if (s->authority.empty()) s->authority = v;
    } else if (n == "cookie") {
      s->has_cookie = s->has_cookie || !v.empty();
    } else if (!n.starts_with(':') && n != "te") {
      s->has_length = s->has_length || n == "content-length";
      s->fields.emplace_back(n, v);
    }
    return 0;
  }

  static int frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void*) {
    Sent* s = sent_of(session, frame->hd.stream_id);
    if (!s) return 0;
    const bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS) {
      s->in.end_fields(end);
      if (!s->head_ended) {
        s->head_ended = true;
        s->ended_with_head = end;
        check_head(*s);
      }
    } else if (frame->hd.type == NGHTTP2_DATA && end) {
      s->in.add_body({}, true);
    }
    if (s->in.complete()) check_end(*s);
    return 0;
  }

  static int stream_close(nghttp2_session*, int32_t id, uint32_t, void* user) {
    static_cast<Streams*>(user)->erase(id);
    return 0;
  }
};

/// nghttp2's output is not read: the server's SETTINGS, ACKs and RST_STREAMs go nowhere.
nghttp2_session* make_session(Streams& streams) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &fuzz::data_chunk<Sent>);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::stream_close);
  nghttp2_session* session = nullptr;
  nghttp2_session_server_new2(&session, callbacks, &streams, h2_server_options().get());
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                             {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, kLimits.max_header_bytes}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  return session;
}

}  // namespace
}  // namespace vane::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vane::proxy::http;
  Streams streams;
  nghttp2_session* session = make_session(streams);
  const std::string input = std::string(NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN) +
                            std::string(reinterpret_cast<const char*>(data), size);
  nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(input.data()), input.size());
  nghttp2_session_del(session);
  return 0;
}
