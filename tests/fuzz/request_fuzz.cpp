// libFuzzer target: request head parsing (proxy/http/request_parser.cpp) and the field rules that
// answer 400/414/417/431/501/505. Properties, beyond "no crash, no UB":
//  - a Complete head is a prefix of the input ending in CRLF CRLF, and every view points into it;
//  - an Error carries one of the statuses SPEC §3 answers, with a reason;
//  - segmentation does not matter: a prefix that completes gives the same message as the whole
//    input, a prefix that fails makes the whole input fail alike (the session re-parses as bytes
//    arrive, so any split of the same bytes must end the same way);
//  - a reused RequestHead (the worker's scratch) parses like a fresh one;
//  - tighter limits never accept what the default limits refuse or parse differently;
//  - an accepted head re-serialised from its parsed fields re-parses to the same message;
//  - the head vane forwards upstream (write_request_head) parses with vane's own parser to the
//    same method, path, Host and framing, with no hop-by-hop field left.
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/head_writer.hpp"
#include "proxy/http/parser.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::proxy::http {
namespace {

using fuzz::check;

constexpr Limits kDefault{};
constexpr Limits kSmall{64, 512, 8};
constexpr Limits kLarge{1U << 20, 1U << 22, 1U << 16};

struct Outcome {
  ParseStatus status = ParseStatus::Incomplete;
  ParseError err;
  RequestHead head;
};

/// Into `o` (a RequestHead cannot be copied or moved: its path may view its own buffer).
void parse(std::string_view data, const Limits& limits, Outcome& o) {
  o.status = parse_request(data, limits, o.head, o.err);
}

bool same_fields(const RequestHead& a, const RequestHead& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const Field& x = a.fields[i];
    const Field& y = b.fields[i];
    if (x.name != y.name || x.value != y.value || x.kind != y.kind) return false;
  }
  return true;
}

/// Same message: request line, Host, framing, connection flags and fields (by content).
bool same_message(const RequestHead& a, const RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.host == b.host &&
         a.minor_version == b.minor_version && a.framing == b.framing &&
         a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
         a.expect_continue == b.expect_continue && a.upgrade == b.upgrade && same_fields(a, b);
}

bool same_outcome(const Outcome& a, const Outcome& b) {
  if (a.status != b.status) return false;
  if (a.status == ParseStatus::Error) return a.err.status == b.err.status;
  if (a.status == ParseStatus::Incomplete) return true;
  return a.head.head_bytes == b.head.head_bytes && same_message(a.head, b.head);
}

void check_error(const Outcome& o) {
  if (o.status != ParseStatus::Error) return;
  const int s = o.err.status;
  check(s == 400 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505,
        "an error status SPEC §3 answers");
  check(!o.err.reason.empty(), "an error has a reason");
}

void check_views(const Outcome& o, std::string_view data) {
  if (o.status != ParseStatus::Complete) return;
  const RequestHead& h = o.head;
  check(h.head_bytes >= 4 && h.head_bytes <= data.size(), "head_bytes within the input");
  const std::string_view head = data.substr(0, h.head_bytes);
  check(head.substr(head.size() - 4) == "\r\n\r\n", "a head ends with CRLF CRLF");
  check(fuzz::inside(h.method, head) && fuzz::inside(h.target, head), "request line views");
  // An absolute-form target with a query and no path ("http://a?q") is forwarded as "/?q",
  // which the head builds in its own buffer.
  const bool built = fuzz::inside(h.path, h.built_path) && h.path.size() == h.built_path.size() &&
                     h.path.starts_with("/?") && h.target.ends_with(h.path.substr(1));
  check(fuzz::inside(h.path, head) || h.path == "/" || built,
        "path is in the head, \"/\", or the origin-form built from an absolute-form target");
  check(fuzz::inside(h.host, head), "host is in the head");
  check(!h.method.empty() && !h.target.empty() && !h.path.empty(), "non-empty request line");
  check(h.minor_version == 0 || h.minor_version == 1, "HTTP/1.0 or HTTP/1.1");
  check(h.minor_version == 0 || !h.host.empty(), "HTTP/1.1 has a Host");
  check(h.framing != Framing::UntilClose, "a request is never close-delimited");
  for (const Field& f : h.fields) {
    check(fuzz::inside(f.name, head) && fuzz::inside(f.value, head), "field views");
    check(!f.name.empty(), "field names are not empty");
  }
}

/// Any split of the same bytes ends the same way. Checks every prefix of short inputs and a
/// sample of the prefixes of long ones.
void check_prefixes(std::string_view data, const Outcome& whole) {
  fuzz::SplitRng rng(data);
  const size_t tries = data.size() <= 96 ? data.size() : 32;
  for (size_t t = 0; t < tries; ++t) {
    const size_t k = data.size() <= 96 ? t : rng.below(data.size());
    Outcome part;
    parse(data.substr(0, k), kDefault, part);
    if (part.status == ParseStatus::Complete) {
      check(same_outcome(part, whole), "a prefix that completes gives the whole's message");
    } else if (part.status == ParseStatus::Error) {
      check(whole.status == ParseStatus::Error && whole.err.status == part.err.status,
            "a prefix that fails makes the whole input fail with the same status");
    }
  }
}

/// The head again from its parsed fields: request line, one `name: value` line per field.
std::string serialise(const RequestHead& h) {
  std::string out;
  out.append(h.method).append(" ").append(h.target).append(" HTTP/1.");
  out.append(h.minor_version == 0 ? "0" : "1").append("\r\n");
  for (const Field& f : h.fields) out.append(f.name).append(": ").append(f.value).append("\r\n");
  return out.append("\r\n");
}

void check_reparse(const RequestHead& h) {
  const std::string again = serialise(h);
  Outcome o;
  parse(again, kLarge, o);
  check(o.status == ParseStatus::Complete, "a re-serialised head parses");
  check(o.head.head_bytes == again.size(), "the re-serialised head is all head");
  check(same_message(o.head, h), "a re-serialised head parses to the same message");
}

void check_forwarded(const RequestHead& h) {
  const ForwardInfo info{"192.0.2.7", "https", "req-1", "upstream.default"};
  std::string out;
  write_request_head(h, info, out);
  Outcome o;
  parse(out, kLarge, o);
  check(o.status == ParseStatus::Complete, "the forwarded head parses");
  const RequestHead& f = o.head;
  check(f.head_bytes == out.size(), "the forwarded head is all head");
  check(f.method == h.method && f.target == h.path && f.minor_version == 1,
        "forwarded: same method, the path as target, HTTP/1.1");
  check(f.host == (h.host.empty() ? info.default_host : h.host), "forwarded: same Host");
  check(f.framing == h.framing && f.content_length == h.content_length, "forwarded: framing");
  check(f.keep_alive && !f.expect_continue && !f.upgrade, "forwarded: keep-alive, no Expect");
  for (const Field& field : f.fields) {
    check(field.kind != FieldKind::HopByHop && field.kind != FieldKind::Expect,
          "forwarded: no hop-by-hop field, no Expect");
  }
}

/// The worker reuses one RequestHead: whatever it held must not leak into the next parse.
void check_scratch_reuse(std::string_view data, const Outcome& fresh) {
  static constexpr std::string_view kFull =
      "POST http://a.example/x HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close, x-y\r\nX-Y: 1\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n\r\n";
  Outcome reused;
  parse_request(kFull, kDefault, reused.head, reused.err);
  reused.status = parse_request(data, kDefault, reused.head, reused.err);
  check(same_outcome(reused, fresh), "a reused RequestHead parses like a fresh one");
}

void check_small_limits(std::string_view data, const Outcome& whole) {
  Outcome small;
  parse(data, kSmall, small);
  check_error(small);
  if (small.status != ParseStatus::Complete) return;
  check(same_outcome(small, whole), "what tight limits accept, the default limits accept alike");
}

}  // namespace
}  // namespace vane::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::proxy::http;
  const std::string_view data(reinterpret_cast<const char*>(bytes), size);
  Outcome whole;
  parse(data, kDefault, whole);
  check_error(whole);
  check_views(whole, data);
  check_prefixes(data, whole);
  check_scratch_reuse(data, whole);
  check_small_limits(data, whole);
  if (whole.status == ParseStatus::Complete) {
    check_reparse(whole.head);
    check_forwarded(whole.head);
  }
  return 0;
}
