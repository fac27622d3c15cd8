// One HTTP/2 stream as the HTTP/1.1 connection an Exchange serves (SPEC §10): the request
// arrives as HTTP/1.1 bytes — a head made from the stream's HEADERS, then its DATA, chunked
// unless a content-length came — and the response leaves as HTTP/1.1 bytes, parsed back into
// HEADERS and DATA for nghttp2. So every stream gets all of SPEC §3 (the parser's limits,
// routing, the rollout's decision, retries, shield, mirror, measurements) from the one code
// path HTTP/1.1 clients take. Worker thread only; owned by its connection and its exchange.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class H2Connection;
struct Downstream;

class H2Pipe {
 public:
  H2Pipe(H2Connection& connection, int32_t stream_id, const Executor& executor);

  int32_t id() const { return id_; }

  // ---- the connection: the request as it arrives ----
  /// Request bytes the exchange has not read yet (the head first, then the body).
  std::string inbound;
  /// The request body is chunked in `inbound` (it came without a content-length).
  bool chunked_body = false;
  /// Body bytes from DATA frames; `end`: END_STREAM came with them (or alone).
  void add_body(std::string_view data, bool end);
  /// The client reset the stream, or the connection ended: pending and later operations fail,
  /// and an upstream wait of its exchange is cancelled.
  void reset();
  bool was_reset() const { return reset_; }
  /// The request's pseudo-header fields and fields as they arrive (HEADERS, CONTINUATION).
  std::string method, scheme, authority, path;
  std::string fields;   ///< "name: value\r\n" lines, cookies aside
  std::string cookies;  ///< every cookie field, joined with "; " (RFC 9113 §8.2.3)
  bool has_length = false;
  /// The head of the HTTP/1.1 request, from the parts above (inbound starts with it).
  void write_head(bool body);

  // ---- the connection: the response as it leaves ----
  /// nghttp2's data source: up to `length` response body bytes; sets `eof` at the body's end.
  /// -1: none yet (deferred).
  long take_body(uint8_t* out, size_t length, bool& eof);
  /// The exchange wrote its whole response.
  bool response_complete() const { return state_ == State::Done; }
  bool response_started() const { return state_ != State::Head; }

  // ---- the exchange, through Stream ----
  Task<ReadResult> read_some(net::mutable_buffer buffer);
  Task<boost::system::error_code> write_all(std::array<std::string_view, 4> pieces);
  /// Pending operations end with operation_aborted (a deadline): later ones go on.
  void cancel();
  /// The exchange's connection state, for reset().
  void attach(Downstream* client) { client_ = client; }

 private:
  enum class State : uint8_t { Head, Body, Done };

  /// Waits until woken (a change, or a cancel). False when cancelled or reset.
  Task<bool> wait();
  void wake();
  /// Response bytes: the head until it parses, then the body by its framing.
  boost::system::error_code take_response(std::string_view bytes);
  boost::system::error_code submit_head();

  H2Connection& connection_;
  int32_t id_;
  Timer wake_;
  bool waiting_ = false;
  bool cancelled_ = false;
  bool reset_ = false;
  bool request_ended_ = false;
  Downstream* client_ = nullptr;
  size_t unconsumed_ = 0;  ///< body bytes received and not yet handed to nghttp2 as consumed

  State state_ = State::Head;
  std::string head_;  ///< the response head, until complete
  http::ResponseHead response_;
  http::ChunkedDecoder chunks_;
  uint64_t remaining_ = 0;  ///< of a Content-Length body
  std::string outbound_;    ///< response body bytes nghttp2 has not taken yet
  size_t outbound_at_ = 0;
};

}  // namespace vane::proxy
