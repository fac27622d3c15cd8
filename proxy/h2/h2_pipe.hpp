// One HTTP/2 stream as the HTTP/1.1 connection the rest of the data plane reads and writes
// (SPEC §10). On a client's connection (Side::Server) the request arrives as HTTP/1.1 bytes for
// an Exchange and the response it writes leaves as HEADERS and DATA; on an upstream's connection
// (Side::Client) a Relay writes the request the same way and reads the response as HTTP/1.1
// bytes. The incoming message is a head made from the stream's HEADERS, then its DATA, chunked
// (with the trailers in the last chunk) unless a content-length came; the outgoing one is parsed
// back into HEADERS, DATA and trailers. So every stream gets all of SPEC §3 — the parser's
// limits, routing, the rollout's decision, retries, shield, mirror, measurements — from the one
// code path HTTP/1.1 takes, and either protocol may face either kind of upstream.
// Worker thread only; owned by its session and its user (an exchange, or a relay's connection).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/h2_inbound.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

class H2Session;
struct Downstream;

class H2Pipe {
 public:
  /// Which end of a stream vane is.
  enum class Side : uint8_t {
    Server,  ///< a client's stream: the request comes in, the response goes out
    Client,  ///< vane's stream to an upstream: the request goes out, the response comes in
  };

  /// `stream_id` 0 on Side::Client: the id comes when the request head is submitted.
  H2Pipe(H2Session& session, Side side, int32_t stream_id, const Executor& executor);

  int32_t id() const { return id_; }

  // ---- the session: the message coming in ----
  /// The incoming message as HTTP/1.1 bytes (`inbound.bytes`) its reader has not read yet. The
  /// session hands it each field itself (`inbound.add_field()`); the end of a header block and
  /// DATA come through end_fields() and add_body(), which wake the reader.
  http::H2Inbound inbound;
  /// A header block ended (H2Inbound::end_fields); wakes the reader.
  void end_fields(bool end);
  /// Body bytes from DATA frames; `end`: END_STREAM came with them (or alone).
  void add_body(std::string_view data, bool end);
  /// The stream was reset, or its connection ended: pending and later operations fail, and an
  /// upstream wait of its exchange is cancelled.
  void reset();
  bool was_reset() const { return reset_; }
  /// The incoming message arrived whole.
  bool inbound_complete() const { return inbound.complete(); }
  /// nghttp2 closed the stream (both ends done, or reset).
  void closed() { stream_closed_ = true; }
  bool stream_closed() const { return stream_closed_; }
  /// Its reader is done: what came and what still comes is dropped, and given back to the
  /// connection's flow-control window (which would otherwise shrink for good).
  void discard();
  bool discarding() const { return discarding_; }

  // ---- the session: the message going out ----
  /// nghttp2's data source: up to `length` body bytes; sets NGHTTP2_DATA_FLAG_EOF at the body's
  /// end, and submits the trailers there. -1: none yet (deferred).
  long take_body(uint8_t* out, size_t length, uint32_t& flags);
  /// The outgoing message was written whole.
  bool outbound_complete() const { return state_ == State::Done; }

  // ---- the user, through Stream ----
  Task<ReadResult> read_some(net::mutable_buffer buffer);
  /// The pieces taken without waiting (io.hpp's write_now): false when the writer must then
  /// wait, in write_rest(), for nghttp2 to take what is held past the high-water mark.
  bool write_now(std::array<std::string_view, 4>& pieces, boost::system::error_code& ec);
  Task<boost::system::error_code> write_rest();
  /// Pending operations end with operation_aborted (a deadline): later ones go on.
  void cancel();
  /// Side::Server: the exchange's connection state, for reset().
  void attach(Downstream* client) { client_ = client; }
  /// Side::Client: requests go out with this :scheme (the endpoint's).
  void set_scheme(std::string_view scheme) { scheme_ = scheme; }

 private:
  enum class State : uint8_t { Head, Body, Done };

  /// Where a reader or a writer waits: the two may wait at once (a gRPC stream's request body
  /// is relayed while its response is: Relay's duplex).
  /// Its timer is made on the first wait: most streams' readers and writers never wait, and a
  /// timer costs a service lookup under Asio's registry lock.
  struct Waiter {
    std::optional<Timer> timer;
    bool waiting = false;
    bool cancelled = false;
  };

  /// Waits until woken (a change, or a cancel). False when cancelled or reset.
  Task<bool> wait(Waiter& waiter);
  /// Wakes whoever waits.
  void wake();
  struct OutboundHead;

  /// Outgoing bytes: the head until it parses, then the body by its framing.
  boost::system::error_code take_outbound(std::string_view bytes);
  /// Outgoing body bytes, by the head's framing.
  boost::system::error_code take_body_bytes(std::string_view bytes);
  http::ParseStatus parse_outbound(OutboundHead& head);
  boost::system::error_code submit_head(OutboundHead& head);

  H2Session& session_;
  Side side_;
  int32_t id_;
  Executor executor_;
  Waiter reader_;
  Waiter writer_;
  bool reset_ = false;
  Downstream* client_ = nullptr;

  // The incoming message, besides `inbound`.
  bool discarding_ = false;
  bool stream_closed_ = false;
  size_t unconsumed_ = 0;  ///< body bytes received and not yet handed to nghttp2 as consumed

  // The outgoing message.
  std::string scheme_;  ///< Side::Client: the :scheme of requests (set_scheme())
  State state_ = State::Head;
  std::string head_;  ///< the start of an outgoing head that came in pieces
  http::Framing framing_ = http::Framing::None;
  http::ChunkedDecoder chunks_;
  uint64_t remaining_ = 0;   ///< of a Content-Length body
  std::string outbound_;     ///< body bytes nghttp2 has not taken yet
  size_t outbound_at_ = 0;
  std::string out_trailers_;  ///< lower-cased trailer lines to submit at the body's end
};

}  // namespace vane::proxy
