// Incremental decoder of a chunked body (RFC 9112 §7.1): yields the data, drops extensions so the
// proxy re-encodes a clean body, and keeps the trailer section (gRPC's status travels there) for
// the proxy to pass on. One per message being relayed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vane::proxy::http {

class ChunkedDecoder {
 public:
  enum class Status : uint8_t {
    NeedMore,  ///< all of the input was consumed; feed more
    Data,      ///< `data` holds body bytes (a view into the input)
    Done,      ///< the last chunk and the trailer section have been read
    Error,     ///< bad framing: non-hex or overflowing size, missing CRLF, bare LF, bad chunk-ext,
               ///< a line or trailer section over its limit
  };

  struct Step {
    Status status = Status::NeedMore;
    size_t consumed = 0;    ///< bytes of the input used by this step (always drop them)
    std::string_view data;  ///< with Status::Data
  };

  /// `max_line_bytes` bounds a chunk-size line (with extensions) and each trailer line;
  /// `max_trailer_bytes` the whole trailer section.
  explicit ChunkedDecoder(size_t max_line_bytes = 4096, size_t max_trailer_bytes = 65536);

  /// Decodes from `in`. Call again with the unconsumed rest until NeedMore, Done or Error.
  /// Partial lines are remembered internally (at most max_line_bytes), so the caller may discard
  /// consumed bytes between calls.
  Step next(std::string_view in);

  bool done() const { return state_ == State::Done; }
  uint64_t body_bytes() const { return body_bytes_; }  ///< data bytes decoded so far
  /// Once Done: the trailer field lines as received, each with its CRLF (empty: none).
  std::string_view trailers() const { return trailers_; }

 private:
  enum class State : uint8_t { Size, Ext, SizeLf, Data, DataCr, DataLf, Trailer, Done, Error };
  State state_ = State::Size;
  // implementation-defined members follow
  /// Where a chunk-ext is (RFC 9112 §7.1.1), so it can be checked one byte at a time.
  enum class ExtState : uint8_t { Start, PreSemi, NameBws, Name, PostName, ValueBws, Token,
                                  Quoted, Escape };
  /// Where a trailer field line is (RFC 9112 §7.1.2).
  enum class TrailerState : uint8_t { LineStart, Name, Value, LineLf, EndLf };

  bool step_byte(char c);
  bool ext_byte(char c);
  bool trailer_byte(char c);

  ExtState ext_ = ExtState::Start;
  TrailerState trailer_ = TrailerState::LineStart;
  size_t max_line_;
  size_t max_trailer_;
  size_t line_len_ = 0;      ///< bytes of the current size or trailer line, CRLF excluded
  size_t trailer_len_ = 0;   ///< bytes of the trailer section so far
  uint64_t remaining_ = 0;   ///< chunk size while reading it, then data bytes still due
  uint64_t body_bytes_ = 0;
  bool size_digits_ = false; ///< the size line has at least one hex digit
  std::string trailers_;
};

/// Whether a field may travel in a trailer section as vane passes it on: not the framing,
/// routing, connection-specific or pseudo-header fields no trailer may carry (RFC 9110 §6.5.1,
/// RFC 9113 §8.1).
bool trailer_allowed(std::string_view name);

/// Calls `f(name, value)` for each field line of a trailer section as ChunkedDecoder::trailers()
/// keeps it (value without surrounding whitespace), skipping the fields trailer_allowed() refuses.
template <class F>
void for_each_trailer(std::string_view section, F&& f) {
  while (!section.empty()) {
    const size_t end = section.find("\r\n");
    const std::string_view line = section.substr(0, end);
    section.remove_prefix(end == std::string_view::npos ? section.size() : end + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (trailer_allowed(name)) f(name, value);
  }
}

/// The last chunk with the trailer fields of `section` that trailer_allowed() lets through.
std::string last_chunk(std::string_view section);

/// Writes the chunk-size line for a chunk of `size` bytes ("1a2b\r\n") into `buf`; returns it.
std::string_view chunk_size_line(uint64_t size, char (&buf)[24]);

/// The last chunk and an empty trailer section.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace vane::proxy::http
