// Readiness over real loopback TCP pairs (the sockets the data plane reads), through read_some
// (proxy/net/io.cpp) as sessions and exchanges call it: a short read proves the socket empty and
// the next read waits for the reactor without a recv; a FIN or a reset is never mistaken for an
// empty socket; 64 reads in a row that found data make the worker yield. These pin what
// readiness.cpp takes from Asio's private reactor state, so they run with VANE_ASIO_READINESS=ON
// only (the WakeWhenReadable tests run with either). A broken assumption shows as a read that never
// completes: every run is bounded.
#include "proxy/net/readiness.hpp"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "proxy/net/stream.hpp"

namespace vane::proxy {
namespace {

using boost::system::error_code;

/// A connected loopback pair: `socket` is read as the data plane reads (non-blocking, the peer's
/// FIN watched), on an io_context made as the workers make theirs; the test writes, shuts down or
/// resets `peer` synchronously, so what it sends is there before the reactor next looks.
struct Pair {
  net::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  Socket socket{io.get_executor()};
  Socket peer{io.get_executor()};

  Pair() {
    Acceptor acceptor(io.get_executor(), tcp::endpoint(net::ip::address_v4::loopback(), 0));
    peer.connect(acceptor.local_endpoint());
    acceptor.accept(socket);
    socket.non_blocking(true);
    readiness::watch_peer_close(socket);
  }

  void send(std::string_view bytes) { net::write(peer, net::buffer(bytes)); }

  /// Closes the peer with SO_LINGER 0: a reset instead of a FIN.
  void reset() {
    peer.set_option(net::socket_base::linger(true, 0));
    peer.close();
  }

  /// Runs `body` until it finishes, or 5 s (a read waiting for an event that never comes).
  /// True when it finished.
  template <class Body>
  bool run(Body body) {
    bool done = false;
    net::co_spawn(io, [&]() -> Task<void> {
      co_await body();
      done = true;
    }, net::detached);
    io.run_for(std::chrono::seconds(5));
    return done;
  }
};

class ReadinessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!readiness::enabled()) GTEST_SKIP() << "built with VANE_ASIO_READINESS=OFF";
  }
};

TEST_F(ReadinessTest, ShortReadMakesNextReadWaitForTheReactorWithoutRecv) {
  Pair pair;
  pair.send("abcdef");
  bool other_ran = false;
  const bool done = pair.run([&]() -> Task<void> {
    char buffer[16];
    auto [ec, n] = co_await read_some(pair.socket, net::buffer(buffer, 3));
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 3u);
    EXPECT_TRUE(readiness::maybe_readable(pair.socket)) << "a full read proves nothing";
    std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 3u);
    EXPECT_FALSE(readiness::maybe_readable(pair.socket)) << "a short read emptied it";
    // New bytes, already in the socket but not yet reported by the reactor: a recv would
    // return them at once, before the handler posted here. The read must wait for the event.
    pair.send("ghi");
    EXPECT_EQ(pair.socket.available(), 3u);
    net::post(pair.io, [&] { other_ran = true; });
    std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_TRUE(other_ran) << "the read issued a recv instead of waiting for the reactor";
    EXPECT_FALSE(ec);
    EXPECT_EQ(std::string_view(buffer, n), "ghi");
  });
  EXPECT_TRUE(done);
}

TEST_F(ReadinessTest, FinWithTheLastBytesIsSeen) {
  Pair pair;
  pair.send("abc");
  pair.peer.shutdown(Socket::shutdown_send);
  const bool done = pair.run([&]() -> Task<void> {
    char buffer[16];
    auto [ec, n] = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 3u);
    // The event that brought the bytes carried the FIN: the short read did not empty the socket.
    EXPECT_TRUE(readiness::maybe_readable(pair.socket)) << "FIN seen";
    std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_EQ(ec, net::error::eof);
  });
  EXPECT_TRUE(done) << "the end of stream was never read";
}

TEST_F(ReadinessTest, FinWhileKnownEmptyEndsTheWait) {
  Pair pair;
  pair.send("abc");
  const bool done = pair.run([&]() -> Task<void> {
    char buffer[16];
    auto [ec, n] = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_EQ(n, 3u);
    EXPECT_FALSE(readiness::maybe_readable(pair.socket));
    pair.peer.shutdown(Socket::shutdown_send);
    std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_EQ(ec, net::error::eof);
  });
  EXPECT_TRUE(done) << "the end of stream was never read";
}

TEST_F(ReadinessTest, ResetWhileKnownEmptyIsAnError) {
  Pair pair;
  pair.send("abc");
  const bool done = pair.run([&]() -> Task<void> {
    char buffer[16];
    auto [ec, n] = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_EQ(n, 3u);
    EXPECT_FALSE(readiness::maybe_readable(pair.socket));
    pair.reset();
    std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    EXPECT_EQ(ec, net::error::connection_reset);
  });
  EXPECT_TRUE(done) << "the reset was never read";
}

TEST_F(ReadinessTest, ResetWithTheLastBytesIsAnError) {
  Pair pair;
  pair.send("abc");
  pair.reset();
  const bool done = pair.run([&]() -> Task<void> {
    char buffer[16];
    // Linux hands out the bytes received before the reset, then the error.
    auto [ec, n] = co_await read_some(pair.socket, net::buffer(buffer));
    if (!ec) {
      EXPECT_EQ(n, 3u);
      EXPECT_TRUE(readiness::maybe_readable(pair.socket)) << "reset seen";
      std::tie(ec, n) = co_await read_some(pair.socket, net::buffer(buffer));
    }
    EXPECT_EQ(ec, net::error::connection_reset);
  });
  EXPECT_TRUE(done) << "the reset was never read";
}

TEST_F(ReadinessTest, SixtyFourReadsInARowThatFoundDataYield) {
  Pair pair;
  constexpr size_t kBytes = 100;
  pair.send(std::string(kBytes, 'x'));
  size_t reads = 0;
  size_t reads_when_other_ran = 0;
  const bool done = pair.run([&]() -> Task<void> {
    char byte;
    // The first read waits for the reactor (nothing is known after watch_peer_close): the run of
    // reads that found data at once starts here.
    for (; reads < kBytes; ++reads) {
      if (reads == 1) net::post(pair.io, [&] { reads_when_other_ran = reads; });
      auto [ec, n] = co_await read_some(pair.socket, net::buffer(&byte, 1));
      if (ec || n != 1) break;
    }
  });
  EXPECT_TRUE(done);
  EXPECT_EQ(reads, kBytes);
  EXPECT_EQ(reads_when_other_ran, 64u) << "the other handler must run before the 65th read";
}

/// A Waiter that records what happens to it (IdleConnection's shape, without a worker).
struct Probe final : readiness::Waiter {
  struct Seen {
    int wakes = 0;
    error_code ec;
    bool destroyed = false;
  };
  explicit Probe(Seen& seen_in) : seen(seen_in) {}
  ~Probe() override { seen.destroyed = true; }
  void woken(std::unique_ptr<readiness::Waiter> /*self*/, error_code ec) override {
    ++seen.wakes;
    seen.ec = ec;
  }
  Seen& seen;
};

// wake_when_readable() with either implementation (ON or OFF): a socket known empty wakes its
// waiter only when bytes come, once; cancel wakes it with operation_aborted; a wait still pending
// when the io_context goes destroys its waiter unwoken.
TEST(WakeWhenReadable, WakesOnceWhenBytesArrive) {
  Pair pair;
  pair.send("ab");
  ASSERT_TRUE(pair.run([&]() -> Task<void> {
    char buffer[16];
    co_await read_some(pair.socket, net::buffer(buffer));  // short: known empty (ON)
  }));
  Probe::Seen seen;
  readiness::wake_when_readable(pair.socket, std::make_unique<Probe>(seen));
  pair.io.restart();
  pair.io.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(seen.wakes, 0) << "nothing to read yet";
  pair.send("c");
  pair.io.restart();
  pair.io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(seen.wakes, 1);
  EXPECT_FALSE(seen.ec);
  EXPECT_TRUE(seen.destroyed) << "the waiter goes when woken";
}

TEST(WakeWhenReadable, CancelWakesWithOperationAborted) {
  Pair pair;
  Probe::Seen seen;
  readiness::wake_when_readable(pair.socket, std::make_unique<Probe>(seen));
  pair.socket.cancel();
  pair.io.run_for(std::chrono::seconds(5));
  EXPECT_EQ(seen.wakes, 1);
  EXPECT_EQ(seen.ec, net::error::operation_aborted);
  EXPECT_TRUE(seen.destroyed);
}

TEST(WakeWhenReadable, PendingWaiterIsDestroyedWithTheIoContext) {
  Probe::Seen seen;
  {
    Pair pair;
    readiness::wake_when_readable(pair.socket, std::make_unique<Probe>(seen));
    pair.io.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(seen.destroyed);
  }
  EXPECT_EQ(seen.wakes, 0);
  EXPECT_TRUE(seen.destroyed);
}

}  // namespace
}  // namespace vane::proxy
