#include "proxy/io.hpp"

#include <algorithm>
#include <span>

namespace vane::proxy {

Task<error_code> write_all(Socket& socket, std::array<std::string_view, 4> pieces) {
  for (;;) {
    std::array<net::const_buffer, 4> buffers;
    size_t count = 0;
    for (auto piece : pieces) {
      if (!piece.empty()) buffers[count++] = net::buffer(piece.data(), piece.size());
    }
    if (count == 0) co_return error_code{};
    error_code ec;
    size_t written = socket.write_some(std::span(buffers.data(), count), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) {
      auto [wait_ec] = co_await socket.async_wait(Socket::wait_write, use_tuple);
      if (wait_ec) co_return wait_ec;
      continue;
    }
    if (ec) co_return ec;
    for (auto& piece : pieces) {
      size_t take = std::min(written, piece.size());
      piece.remove_prefix(take);
      written -= take;
    }
  }
}

}  // namespace vane::proxy
