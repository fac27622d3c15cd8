// libFuzzer target: the chunked body decoder (proxy/http/chunked_decoder.cpp), with the limits
// the relay gives it for requests (the request line and header limits) and for responses (its
// defaults), and a tight pair. Properties:
//  - Data steps are never empty (the relay would re-encode one as a last chunk) and their
//    lengths add up to body_bytes();
//  - the input may be split anywhere: fed in pieces, the same bytes give the same body, the same
//    end (Done, Error or more needed) at the same offset;
//  - a decoded body matches an independent reading of the chunks' sizes: the data is the bytes
//    after each size line, and their total is the sum of the sizes;
//  - the body re-encoded as the relay forwards it (chunk_size_line + data + CRLF, then the last
//    chunk) decodes to the same body and ends exactly at its end;
//  - after Done or Error, the decoder stays there and consumes nothing.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http/chunked_decoder.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace vane::proxy::http {
namespace {

using fuzz::check;
using Status = ChunkedDecoder::Status;

struct Decoded {
  std::string body;
  Status end = Status::NeedMore;  ///< Done, Error, or NeedMore when the input ran out
  size_t consumed = 0;            ///< input bytes used up to the end
  std::vector<size_t> pieces;     ///< lengths of the Data steps
};

struct DecoderLimits {
  size_t line;
  size_t trailer;
};

/// Feeds `in` as the relay does: next() on the unconsumed rest, dropping what each step used.
void feed(ChunkedDecoder& d, std::string_view in, Decoded& out) {
  while (out.end == Status::NeedMore && !in.empty()) {
    const ChunkedDecoder::Step step = d.next(in);
    check(step.consumed <= in.size(), "a step consumes at most its input");
    if (step.status == Status::Data) {
      check(!step.data.empty(), "a Data step is never empty");
      check(fuzz::inside(step.data, in.substr(0, step.consumed)), "Data views the consumed bytes");
      out.body.append(step.data);
      out.pieces.push_back(step.data.size());
    } else if (step.status == Status::NeedMore) {
      check(step.consumed == in.size(), "NeedMore consumes all of the input");
    } else {
      out.end = step.status;
    }
    out.consumed += step.consumed;
    in.remove_prefix(step.consumed);
  }
}

Decoded decode_whole(std::string_view in, DecoderLimits limits) {
  ChunkedDecoder d(limits.line, limits.trailer);
  Decoded out;
  feed(d, in, out);
  size_t sum = 0;
  for (size_t n : out.pieces) sum += n;
  check(sum == out.body.size() && d.body_bytes() == sum, "Data lengths add up to body_bytes()");
  check(d.done() == (out.end == Status::Done), "done() says Done");
  if (out.end != Status::NeedMore) {
    const ChunkedDecoder::Step again = d.next("0\r\n\r\n");
    check(again.status == out.end && again.consumed == 0, "Done and Error are final");
  }
  return out;
}

Decoded decode_split(std::string_view in, DecoderLimits limits, fuzz::SplitRng& rng) {
  ChunkedDecoder d(limits.line, limits.trailer);
  Decoded out;
  size_t pos = 0;
  while (pos < in.size() && out.end == Status::NeedMore) {
    const size_t n = 1 + rng.below(in.size() - pos < 8 ? in.size() - pos : 8);
    const size_t before = out.consumed;
    feed(d, in.substr(pos, n), out);
    check(out.end != Status::NeedMore || out.consumed - before == n, "pieces are used up");
    pos += n;
  }
  return out;
}

/// The chunks read plainly from a body the decoder accepted: hex size, the rest of the size line
/// skipped, that many bytes, CRLF. Returns the data; `end` is where the last chunk's line ends.
std::string reference_body(std::string_view in, size_t& last_line_end) {
  std::string body;
  size_t pos = 0;
  for (;;) {
    uint64_t size = 0;
    while (pos < in.size() && std::isxdigit(static_cast<unsigned char>(in[pos])) != 0) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(in[pos++])));
      size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    const size_t lf = in.find('\n', pos);
    check(lf != std::string_view::npos && lf > pos && in[lf - 1] == '\r',
          "a size line ends in CRLF");
    pos = lf + 1;
    if (size == 0) break;
    check(size <= in.size() - pos, "chunk data is there");
    body.append(in.substr(pos, static_cast<size_t>(size)));
    pos += static_cast<size_t>(size);
    check(in.substr(pos, 2) == "\r\n", "chunk data ends in CRLF");
    pos += 2;
  }
  last_line_end = pos;
  return body;
}

void check_reference(std::string_view in, const Decoded& d) {
  size_t last_line_end = 0;
  check(reference_body(in, last_line_end) == d.body, "the body is the bytes of the chunks");
  const std::string_view trailer = in.substr(last_line_end, d.consumed - last_line_end);
  check(trailer.size() >= 2 && trailer.substr(trailer.size() - 2) == "\r\n" &&
            (trailer.size() == 2 || trailer.substr(trailer.size() - 4) == "\r\n\r\n"),
        "Done right after the trailer section's empty line");
}

/// The body as the relay forwards it: one chunk per Data step, then the last chunk.
std::string reencode(const std::string& body, const std::vector<size_t>& pieces) {
  std::string out;
  size_t pos = 0;
  for (size_t n : pieces) {
    char line[24];
    out.append(chunk_size_line(n, line)).append(body, pos, n).append("\r\n");
    pos += n;
  }
  return out.append(kLastChunk);
}

void check_limits(std::string_view in, DecoderLimits limits, fuzz::SplitRng& rng) {
  const Decoded whole = decode_whole(in, limits);
  const Decoded split = decode_split(in, limits, rng);
  check(split.body == whole.body && split.end == whole.end && split.consumed == whole.consumed,
        "split input decodes the same");
  if (whole.end != Status::Done) return;
  check_reference(in, whole);
  const std::string forwarded = reencode(whole.body, whole.pieces);
  const Decoded again = decode_whole(forwarded, {4096, 65536});
  check(again.end == Status::Done && again.consumed == forwarded.size() &&
            again.body == whole.body,
        "the re-encoded body decodes to the same body");
}

}  // namespace
}  // namespace vane::proxy::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace vane::proxy::http;
  const std::string_view in(reinterpret_cast<const char*>(bytes), size);
  vane::fuzz::SplitRng rng(in);
  check_limits(in, {4096, 65536}, rng);  // responses (relay_chunked, mirror)
  check_limits(in, {8192, 65536}, rng);  // requests, default limits
  check_limits(in, {16, 64}, rng);       // tight limits
  return 0;
}
