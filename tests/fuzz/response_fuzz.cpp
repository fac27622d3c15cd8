// libFuzzer target: response head parsing (proxy/http/response_parser.cpp), its framing decision,
// and the head vane writes to the client from it (write_response_head). Properties:
//  - a Complete head is a prefix of the input ending in CRLF CRLF, views point into it, errors
//    are 502 with a reason;
//  - segmentation does not matter (the relay re-parses as upstream bytes arrive);
//  - the framing decision agrees with a plain reading of RFC 9112 §6.3 done here independently:
//    no body for HEAD/1xx/204/304, else Transfer-Encoding (chunked last: chunked, otherwise until
//    close), else Content-Length, else until close; a close-delimited body or a Transfer-Encoding
//    next to a Content-Length never leaves the connection reusable;
//  - a HEAD answer parses like the same bytes for GET, except that it has no body;
//  - an accepted head re-serialised from its parsed fields re-parses to the same head;
//  - the head vane sends the client parses again, with the status and the framing it announces.
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/head_writer.hpp"
#include "proxy/http/parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::proxy::http {
namespace {

using fuzz::check;

constexpr Limits kRelay{8192, 65536, 200};  // proxy/relay.cpp
constexpr Limits kLarge{1U << 20, 1U << 22, 1U << 16};

struct Outcome {
  ParseStatus status = ParseStatus::Incomplete;
  ParseError err;
  ResponseHead head;
};

Outcome parse(std::string_view data, const Limits& limits, bool head_request) {
  Outcome o;
  o.status = parse_response(data, limits, head_request, o.head, o.err);
  return o;
}

bool same_head(const ResponseHead& a, const ResponseHead& b) {
  if (a.status != b.status || a.minor_version != b.minor_version || a.reason != b.reason ||
      a.framing != b.framing || a.content_length != b.content_length ||
      a.keep_alive != b.keep_alive || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const Field& x = a.fields[i];
    const Field& y = b.fields[i];
    if (x.name != y.name || x.value != y.value || x.kind != y.kind) return false;
  }
  return true;
}

bool same_outcome(const Outcome& a, const Outcome& b) {
  if (a.status != b.status) return false;
  if (a.status != ParseStatus::Complete) return true;
  return a.head.head_bytes == b.head.head_bytes && same_head(a.head, b.head);
}

void check_complete(const Outcome& o, std::string_view data) {
  if (o.status == ParseStatus::Error) {
    check(o.err.status == 502 && !o.err.reason.empty(), "a bad response is a 502 with a reason");
  }
  if (o.status != ParseStatus::Complete) return;
  const ResponseHead& h = o.head;
  check(h.head_bytes >= 4 && h.head_bytes <= data.size(), "head_bytes within the input");
  const std::string_view head = data.substr(0, h.head_bytes);
  check(head.substr(head.size() - 4) == "\r\n\r\n", "a head ends with CRLF CRLF");
  check(h.status >= 100 && h.status <= 599, "a status 100-599");
  check(fuzz::inside(h.reason, head), "reason view");
  for (const Field& f : h.fields) {
    check(fuzz::inside(f.name, head) && fuzz::inside(f.value, head), "field views");
  }
}

void check_prefixes(std::string_view data, const Outcome& whole) {
  fuzz::SplitRng rng(data);
  const size_t tries = data.size() <= 96 ? data.size() : 32;
  for (size_t t = 0; t < tries; ++t) {
    const size_t k = data.size() <= 96 ? t : rng.below(data.size());
    const Outcome part = parse(data.substr(0, k), kRelay, false);
    if (part.status == ParseStatus::Complete) {
      check(same_outcome(part, whole), "a prefix that completes gives the whole's head");
    } else if (part.status == ParseStatus::Error) {
      check(whole.status == ParseStatus::Error, "a prefix that fails makes the whole input fail");
    }
  }
}

/// The last element of a comma-separated list, OWS trimmed.
std::string_view last_element(std::string_view list) {
  const size_t comma = list.rfind(',');
  std::string_view last = comma == std::string_view::npos ? list : list.substr(comma + 1);
  while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
  while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
  return last;
}

/// RFC 9112 §6.3, read plainly, for a head the parser accepted.
void check_framing(const ResponseHead& h, bool head_request) {
  const Field* last_te = nullptr;
  bool content_length = false;
  for (const Field& f : h.fields) {
    if (iequals(f.name, "transfer-encoding")) last_te = &f;
    if (iequals(f.name, "content-length")) content_length = true;
  }
  const bool no_body = head_request || h.status < 200 || h.status == 204 || h.status == 304;
  Framing expected = Framing::UntilClose;
  if (no_body) {
    expected = Framing::None;
  } else if (last_te != nullptr) {
    expected = iequals(last_element(last_te->value), "chunked") ? Framing::Chunked
                                                                : Framing::UntilClose;
  } else if (content_length) {
    expected = Framing::Length;
  }
  check(h.framing == expected, "the framing RFC 9112 §6.3 gives");
  if (h.framing == Framing::UntilClose) check(!h.keep_alive, "close-delimited: not reusable");
  if (last_te != nullptr && content_length) check(!h.keep_alive, "TE with CL: not reusable");
}

void check_head_request(std::string_view data, const Outcome& get) {
  const Outcome head = parse(data, kRelay, true);
  check(head.status == get.status, "HEAD and GET answers: same outcome");
  if (head.status != ParseStatus::Complete) return;
  check(head.head.framing == Framing::None, "an answer to HEAD has no body");
  check(head.head.status == get.head.status && head.head.head_bytes == get.head.head_bytes &&
            head.head.content_length == get.head.content_length &&
            head.head.fields.size() == get.head.fields.size(),
        "HEAD and GET answers: same head");
}

std::string serialise(const ResponseHead& h) {
  std::string out = "HTTP/1.";
  out.append(h.minor_version == 0 ? "0 " : "1 ").append(std::to_string(h.status));
  if (!h.reason.empty()) out.append(" ").append(h.reason);
  out.append("\r\n");
  for (const Field& f : h.fields) out.append(f.name).append(": ").append(f.value).append("\r\n");
  return out.append("\r\n");
}

void check_reparse(const ResponseHead& h, bool head_request) {
  const std::string again = serialise(h);
  const Outcome o = parse(again, kLarge, head_request);
  check(o.status == ParseStatus::Complete && o.head.head_bytes == again.size(),
        "a re-serialised head parses");
  check(same_head(o.head, h), "a re-serialised head parses to the same head");
}

/// What the client receives (the relay never forwards 1xx heads).
void check_client_head(const ResponseHead& h, int client_minor, fuzz::SplitRng& rng) {
  if (h.status < 200) return;
  const bool keep_alive = rng.below(2) == 1;
  const std::string_view extra = rng.below(2) == 1 ? "Set-Cookie: s=1; Path=/\r\n" : "";
  const ClientFraming cf = client_framing(h, client_minor);
  std::string out;
  write_response_head(h, cf, "req-1", keep_alive, client_minor, out, extra);
  const Outcome o = parse(out, kLarge, cf == ClientFraming::None);
  check(o.status == ParseStatus::Complete, "the client's head parses");
  check(o.head.head_bytes == out.size() && o.head.status == h.status, "client head: status");
  Framing expected = Framing::None;
  if (cf == ClientFraming::Length) expected = Framing::Length;
  if (cf == ClientFraming::Chunked) expected = Framing::Chunked;
  if (cf == ClientFraming::Close) expected = Framing::UntilClose;
  check(o.head.framing == expected, "the client's head announces the framing vane sends");
  if (cf == ClientFraming::Length) {
    check(o.head.content_length == h.content_length, "client head: the same Content-Length");
  }
  if (!keep_alive) check(!o.head.keep_alive, "client head: Connection: close when closing");
}

}  // namespace
}  // namespace vane::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::proxy::http;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const Outcome whole = parse(data, kRelay, false);
  check_complete(whole, data);
  check_prefixes(data, whole);
  check_head_request(data, whole);
  if (whole.status != ParseStatus::Complete) return 0;
  check_framing(whole.head, false);
  check_reparse(whole.head, false);
  vane::fuzz::SplitRng rng(data);
  check_client_head(whole.head, 0, rng);
  check_client_head(whole.head, 1, rng);
  return 0;
}
