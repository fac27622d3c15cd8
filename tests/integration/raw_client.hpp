// A raw HTTP/1.1 test client over one loopback TCP connection: sends exact bytes, reads
// responses under deadlines and tells whether the server closed the connection. Test thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vane::it {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using namespace std::chrono_literals;

struct Response {
  int status = 0;  ///< 0: no status line was received
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  ///< in order, values trimmed
  std::string body;                                          ///< de-chunked
  bool chunked = false;      ///< the body came with Transfer-Encoding: chunked
  bool complete = false;     ///< the head and the whole body (per its framing) were read
  bool peer_closed = false;  ///< the server closed (or reset) the connection during the read
  bool timed_out = false;

  /// First value of a field, case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};

class RawClient {
 public:
  /// Connects to 127.0.0.1:port; throws std::runtime_error on failure.
  explicit RawClient(uint16_t port, Millis timeout = 2s);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends all of `data` within `timeout`; false when the peer closed or reset, or on timeout.
  bool send(std::string_view data, Millis timeout = 10s);
  /// Sends `n` bytes of the shared test pattern, raw or chunked in pieces of `piece` bytes
  /// (with the final `0` chunk). The bytes are made as they go, never held all at once.
  bool send_pattern(uint64_t n, size_t piece, bool chunked, Millis timeout = 30s);
  /// Reads one response; a 1xx is returned as a response of its own.
  Response read_response(Millis timeout = 5s, bool head_request = false);
  /// True when the server closes (FIN or RST) within `timeout` without sending more bytes;
  /// bytes that arrive instead stay in pending().
  bool wait_closed(Millis timeout);
  /// The next `n` bytes as they came (after any response read), or nullopt when the server
  /// closed or `timeout` passed first.
  std::optional<std::string> read_exact(size_t n, Millis timeout = 5s);
  /// Everything still to come until the server closes (or `timeout` passes), pending() included.
  std::string read_until_closed(Millis timeout = 10s);
  /// No more bytes from us: the server reads EOF.
  void shutdown_send();
  /// Bytes received but not yet consumed by read_response.
  std::string_view pending() const { return std::string_view(buffer_).substr(pos_); }

 private:
  enum class Fill { Data, Closed, Timeout };

  Fill fill(Clock::time_point deadline);
  /// Ensures `n` unread bytes are buffered; false (flags set in `r`) on close or timeout.
  bool need(size_t n, Clock::time_point deadline, Response& r);
  /// Ensures a CRLF-terminated line is buffered; returns its length without CRLF.
  std::optional<size_t> need_line(Clock::time_point deadline, Response& r);
  std::string take(size_t n);
  /// Reads the status line and fields; false when they did not all arrive (status may be set).
  bool read_head(Clock::time_point deadline, Response& r);
  void read_chunked(Clock::time_point deadline, Response& r);
  void read_until_close(Clock::time_point deadline, Response& r);

  int fd_ = -1;
  std::string buffer_;
  size_t pos_ = 0;  ///< start of the unread bytes in buffer_
};

/// A request head: `METHOD TARGET HTTP/1.1`, Host, the `extra` lines (each ending in CRLF), CRLF.
std::string request(std::string_view method, std::string_view target, std::string_view host,
                    std::string_view extra = "");

/// One GET on a fresh connection, with `Connection: close`.
Response http_get(uint16_t port, std::string_view target, std::string_view host = "localhost",
                  Millis timeout = 5s);

/// True when a TCP connect to 127.0.0.1:port is refused (nothing listens there).
bool connect_refused(uint16_t port);

/// A loopback port nothing listens on (bound, then released).
uint16_t unused_port();

}  // namespace vane::it
