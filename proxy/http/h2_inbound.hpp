// An HTTP/2 message coming in, written as the HTTP/1.1 bytes the rest of the data plane reads
// (SPEC §10): a head made from the fields of its HEADERS (and CONTINUATION) frames, then its
// DATA, chunked with the trailers in the last chunk unless a content-length came. nghttp2 has
// checked every field against RFC 9113 before it gets here (no CR, LF or NUL, lower-case names,
// no connection-specific fields, pseudo-header fields first and valid). Pure: H2Pipe wraps it
// with the stream's waits and flow control, and tests/fuzz/h2_request_fuzz.cpp drives it from a
// real nghttp2 session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vane::proxy::http {

class H2Inbound {
 public:
  enum class Kind : uint8_t {
    Request,   ///< a client's stream: pseudo-header fields :method, :scheme, :authority, :path
    Response,  ///< an upstream's answer: :status; interim (1xx) heads are dropped
  };

  explicit H2Inbound(Kind kind) : kind_(kind) {}

  /// The message's bytes its reader has not taken yet: the head first, then the body.
  std::string bytes;

  /// One field of a header block: pseudo-header fields, fields, and once the head was written,
  /// trailers.
  void add_field(std::string_view name, std::string_view value);
  /// Bytes of fields held so far, to bound a header list before it is whole.
  size_t field_bytes() const;
  /// A header block ended. The first one (that is not interim) is the head, written to `bytes`
  /// (`end`: no DATA follows); a later one is the trailers, which end the message. True when
  /// `bytes` or the message's end changed.
  bool end_fields(bool end);
  /// Body bytes from DATA frames; `end`: END_STREAM came with them (or alone).
  void add_body(std::string_view data, bool end);

  /// The message arrived whole.
  bool complete() const { return ended_; }
  /// Kind::Request: its :method.
  std::string_view method() const { return method_; }
  /// Kind::Response: the answer is to a HEAD request, so a head ended by END_STREAM carries no
  /// `Content-Length: 0` (its length is the resource's).
  void set_head_request(bool head_request) { head_request_ = head_request; }

 private:
  /// Kind::Request: the request line and Host, ahead of the first field.
  void write_request_line();
  void write_request_head(bool body);
  void write_response_head(bool body);

  Kind kind_;
  std::string method_, path_, authority_;  ///< a request's pseudo-header fields (:scheme unused)
  std::string status_;                     ///< a response's
  /// Kind::Response: "name: value\r\n" lines, cookies aside (a request's go to `bytes` at once:
  /// it has no interim head to drop).
  std::string fields_;
  std::string cookies_;   ///< every cookie field, joined with "; " (RFC 9113 §8.2.3)
  std::string trailers_;  ///< the trailer section's lines
  bool has_length_ = false;
  bool line_written_ = false;  ///< Kind::Request: write_request_line() ran
  bool host_written_ = false;
  bool head_written_ = false;
  bool chunked_ = false;   ///< the body is chunked in `bytes`
  bool bodyless_ = false;  ///< Kind::Response: a HEAD's, 204 or 304: DATA is dropped
  bool ended_ = false;
  bool head_request_ = false;
};

}  // namespace vane::proxy::http
