#include "proxy/net/io.hpp"

#include <algorithm>
#include <span>

#include <boost/asio/post.hpp>

#include "proxy/net/readiness.hpp"

namespace vane::proxy {
namespace {

/// Reads that found data at once, in a row on this worker: one connection whose bytes are always
/// there (a pipelining client, a fast upstream) must not keep the others waiting for ever.
thread_local unsigned reads_without_wait = 0;
constexpr unsigned kReadsBeforeYield = 64;

/// What a try to read found: bytes (or the end, or an error), nothing, or that it is another
/// connection's turn.
enum class Tried { Read, Empty, Yield };

Tried try_read(Socket& socket, net::mutable_buffer buffer, ReadResult& result) {
  if (!readiness::maybe_readable(socket)) return Tried::Empty;
  if (reads_without_wait >= kReadsBeforeYield) return Tried::Yield;
  ++reads_without_wait;
  error_code ec;
  const size_t n = socket.read_some(buffer, ec);
  if (ec == net::error::would_block || ec == net::error::try_again) {
    readiness::found_empty(socket);
    return Tried::Empty;
  }
  if (!ec) readiness::read_done(socket, n, buffer.size());
  result = ReadResult{ec, n};
  return Tried::Read;
}

}  // namespace

bool read_now(Socket& socket, net::mutable_buffer buffer, ReadResult& result) {
  // Without the reactor's state a read that finds nothing would be made again by read_some().
  return readiness::enabled() && try_read(socket, buffer, result) == Tried::Read;
}

Task<ReadResult> read_some(Socket& socket, net::mutable_buffer buffer) {
  if (!socket.non_blocking()) co_return co_await socket.async_read_some(buffer, use_tuple);
  for (;;) {
    ReadResult result;
    const Tried tried = try_read(socket, buffer, result);
    if (tried == Tried::Read) co_return result;
    reads_without_wait = 0;
    if (tried == Tried::Yield) {
      co_await net::post(socket.get_executor(), net::use_awaitable_t<Executor>{});
      continue;
    }
    auto [ec] = co_await readiness::wait_readable(socket);
    if (ec) co_return ReadResult{ec, 0};
  }
}

bool write_now(Socket& socket, std::array<std::string_view, 4>& pieces, error_code& ec) {
  for (;;) {
    std::array<net::const_buffer, 4> buffers;
    size_t count = 0;
    for (auto piece : pieces) {
      if (!piece.empty()) buffers[count++] = net::buffer(piece.data(), piece.size());
    }
    ec = {};
    if (count == 0) return true;
    size_t written = socket.write_some(std::span(buffers.data(), count), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) {
      ec = {};
      return false;
    }
    if (ec) return true;
    for (auto& piece : pieces) {
      size_t take = std::min(written, piece.size());
      piece.remove_prefix(take);
      written -= take;
    }
  }
}

Task<error_code> write_all(Socket& socket, std::array<std::string_view, 4> pieces) {
  error_code ec;
  if (write_now(socket, pieces, ec)) co_return ec;
  co_return co_await write_rest(socket, pieces);
}

Task<error_code> write_all(Stream& stream, std::array<std::string_view, 4> pieces) {
  error_code ec;
  if (write_now(stream, pieces, ec)) co_return ec;
  co_return co_await write_rest(stream, pieces);
}

Task<error_code> write_rest(Socket& socket, std::array<std::string_view, 4> pieces) {
  for (;;) {
    auto [wait_ec] = co_await socket.async_wait(Socket::wait_write, use_tuple);
    if (wait_ec) co_return wait_ec;
    error_code ec;
    if (write_now(socket, pieces, ec)) co_return ec;
  }
}

}  // namespace vane::proxy
