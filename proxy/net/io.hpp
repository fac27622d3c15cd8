// Socket helpers of the data plane: write everything, trying a synchronous non-blocking write
// first (saves a scheduler round trip when the socket buffer has room); read without the system
// calls that find nothing (read_some in net/stream.hpp, readiness.hpp). Worker thread only.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "proxy/net/stream.hpp"
#include "proxy/net/types.hpp"

namespace vane::proxy {

using boost::system::error_code;

/// Writes every byte of up to four pieces. The socket must be in non-blocking mode.
Task<error_code> write_all(Socket& socket, std::array<std::string_view, 4> pieces);

/// As much of the pieces as the socket takes now, without waiting: true when that ended the
/// write (all written, or `ec` failed it); false when the rest, left in `pieces`, must wait.
bool write_now(Socket& socket, std::array<std::string_view, 4>& pieces, error_code& ec);
/// After a write_now() that returned false: waits for room, then writes the rest.
Task<error_code> write_rest(Socket& socket, std::array<std::string_view, 4> pieces);

inline Task<error_code> write_all(Socket& socket, std::string_view a, std::string_view b = {},
                                  std::string_view c = {}) {
  return write_all(socket, std::array<std::string_view, 4>{a, b, c, {}});
}

/// The same on a Stream: plain, TLS or an HTTP/2 stream's pipe.
Task<error_code> write_all(Stream& stream, std::array<std::string_view, 4> pieces);

/// The same on a Stream, for a caller that co_awaits write_rest(stream, pieces) only when this
/// returns false. Most writes fit the socket's buffer (or the HTTP/2 stream's), and a write
/// coroutine's frame was then an allocation per write for nothing.
inline bool write_now(Stream& stream, std::array<std::string_view, 4>& pieces, error_code& ec) {
  if (stream.pipe()) return stream.pipe_write_now(pieces, ec);
  if (stream.tls()) return stream.tls_write_now(pieces, ec);
  return write_now(stream.socket(), pieces, ec);
}
/// After a write_now() on `stream` that returned false: waits for room, then writes the rest.
inline Task<error_code> write_rest(Stream& stream, std::array<std::string_view, 4> pieces) {
  if (stream.pipe()) return stream.pipe_write_rest();  // the pipe took the pieces: room for them
  if (stream.tls()) return stream.tls_write_rest(pieces);
  return write_rest(stream.socket(), pieces);
}

inline Task<error_code> write_all(Stream& stream, std::string_view a, std::string_view b = {},
                                  std::string_view c = {}) {
  return write_all(stream, std::array<std::string_view, 4>{a, b, c, {}});
}

}  // namespace vane::proxy
