// Stream over real loopback sockets: the plain path, and TLS between a TlsAcceptor and a TlsConnector
// (handshake, SNI and name verification, pieces large and small written whole, end of stream
// after close_notify). One io_context, run until both sides are done (bounded).
#include "proxy/net/stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "proxy/net/io.hpp"
#include "proxy/net/tls_connector.hpp"
#include "proxy/net/tls_acceptor.hpp"
#include "tests/proxy/net/tls_test_files.hpp"

namespace vane::proxy {
namespace {

using boost::system::error_code;

/// Reads until `n` bytes or an error; the bytes and the error that ended it.
Task<std::pair<std::string, error_code>> read_exactly(Stream& stream, size_t n) {
  std::string data;
  char buffer[4096];
  while (data.size() < n) {
    auto [ec, got] = co_await stream.read_some(net::buffer(buffer, sizeof buffer));
    if (ec) co_return std::pair{data, ec};
    data.append(buffer, got);
  }
  co_return std::pair{data, error_code{}};
}

/// A server and a client Stream on loopback; `tls` false for plain TCP.
struct Pair {
  struct Result {
    error_code handshake;
    std::string received;  ///< by the server
    std::string echoed;    ///< by the client, back from the server
    error_code after;      ///< the client's read after the server's close
  };

  Result run(const std::string& name, bool tls, const std::vector<std::string>& pieces) {
    net::io_context io;
    Acceptor acceptor(io.get_executor(), tcp::endpoint(net::ip::address_v4::loopback(), 0));
    const auto at = acceptor.local_endpoint();
    size_t total = 0;
    for (const auto& p : pieces) total += p.size();
    Result result;
    net::co_spawn(io, [&]() -> Task<void> {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      Stream stream(std::move(socket));
      if (tls) stream.start_server_tls(server);
      if (tls) {
        const auto hec = co_await stream.handshake();
        if (hec) co_return;
      }
      auto [data, rec] = co_await read_exactly(stream, total);
      result.received = data;
      co_await write_all(stream, data);
      if (tls) co_await stream.shutdown_tls();
      if (!tls) stream.socket().close();
    }, net::detached);
    net::co_spawn(io, [&]() -> Task<void> {
      Stream stream(io.get_executor());
      auto [ec] = co_await stream.socket().async_connect(at, use_tuple);
      if (!ec && tls) ec = co_await stream.client_handshake(client, name);
      result.handshake = ec;
      if (ec) co_return;
      stream.socket().non_blocking(true);
      std::array<std::string_view, 4> views{};
      for (size_t i = 0; i < pieces.size(); ++i) views[i] = pieces[i];
      const auto wec = co_await write_all(stream, views);
      if (wec) co_return;
      auto [data, rec] = co_await read_exactly(stream, total);
      result.echoed = data;
      auto [end, after] = co_await read_exactly(stream, 1);
      result.after = after;
    }, net::detached);
    io.run_for(std::chrono::seconds(10));
    return result;
  }

  test::TlsFiles files;
  test::TlsFiles::Pair a = files.issue("a.test", {"DNS:a.test"});
  test::TlsFiles::Pair b = files.issue("b.test", {"DNS:b.test", "IP:127.0.0.1"});
  std::shared_ptr<TlsAcceptor> server =
      std::make_shared<TlsAcceptor>(config::ListenerTls{{{a.cert, a.key}, {b.cert, b.key}}});
  std::shared_ptr<TlsConnector> client =
      std::make_shared<TlsConnector>(config::UpstreamTls{files.ca_file(), false, ""});
};

std::vector<std::string> mixed_pieces() {
  return {"head\r\n", std::string(40000, 'x'), "tail", std::string(3, 'y')};
}

TEST(Stream, PlainPiecesArriveWholeAndInOrder) {
  Pair pair;
  const auto pieces = mixed_pieces();
  const auto r = pair.run("", false, pieces);
  EXPECT_FALSE(r.handshake);
  EXPECT_EQ(r.received, pieces[0] + pieces[1] + pieces[2] + pieces[3]);
  EXPECT_EQ(r.echoed, r.received);
  EXPECT_TRUE(is_end_of_stream(r.after)) << r.after.message();
}

TEST(Stream, TlsPiecesArriveWholeAndInOrder) {
  Pair pair;
  const auto pieces = mixed_pieces();
  const auto r = pair.run("b.test", true, pieces);  // SNI b.test: only b's certificate verifies
  ASSERT_FALSE(r.handshake) << r.handshake.message();
  EXPECT_EQ(r.received, pieces[0] + pieces[1] + pieces[2] + pieces[3]);
  EXPECT_EQ(r.echoed, r.received);
  EXPECT_TRUE(is_end_of_stream(r.after)) << "close_notify ends the stream: " << r.after.message();
}

TEST(Stream, TlsVerifiesAnAddressAgainstTheCertificatesIpNames) {
  Pair pair;
  const auto r = pair.run("127.0.0.1", true, {"x"});  // no SNI: the default (a) has no IP name
  EXPECT_TRUE(r.handshake) << "a.test's certificate must not verify for 127.0.0.1";
}

TEST(Stream, TlsRefusesACertificateForAnotherName) {
  Pair pair;
  const auto r = pair.run("c.test", true, {"x"});  // unknown SNI: the default, a.test
  EXPECT_TRUE(r.handshake);
  EXPECT_EQ(r.received, "");
}

TEST(Stream, TlsWithoutVerificationAcceptsAnyName) {
  Pair pair;
  pair.client = std::make_shared<TlsConnector>(config::UpstreamTls{"", true, ""});
  const auto r = pair.run("c.test", true, {"hello"});
  EXPECT_FALSE(r.handshake) << r.handshake.message();
  EXPECT_EQ(r.echoed, "hello");
}

TEST(Stream, AMissingClientContextFailsTheHandshake) {
  Pair pair;
  pair.client = nullptr;  // its caFile failed to load after validation
  const auto r = pair.run("b.test", true, {"x"});
  EXPECT_TRUE(r.handshake);
}

/// A server closing after its answer (linger) while the client still sends: the client must get
/// the whole answer and a clean end, never a reset that destroys the answer.
TEST(Stream, TlsCloseDrainsWhatTheClientStillSends) {
  Pair pair;
  net::io_context io;
  Acceptor acceptor(io.get_executor(), tcp::endpoint(net::ip::address_v4::loopback(), 0));
  const auto at = acceptor.local_endpoint();
  const std::string answer(30000, 'a');
  std::string got;
  error_code end;
  error_code tcp_end;
  Timer closed(io.get_executor(), std::chrono::seconds(10));  // cancelled once the server closed
  net::co_spawn(io, [&]() -> Task<void> {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    Stream stream(std::move(socket));
    stream.start_server_tls(pair.server);
    const auto hec = co_await stream.handshake();
    if (hec) co_return;
    co_await read_exactly(stream, 5);
    co_await write_all(stream, answer);
    // The session's linger deadline: ends the wait for a client that neither stops nor closes.
    Timer deadline(io.get_executor(), std::chrono::milliseconds(300));
    deadline.async_wait([&](error_code timer_ec) {
      if (!timer_ec) stream.socket().cancel();
    });
    co_await stream.shutdown_tls();
    closed.cancel();
  }, net::detached);
  net::co_spawn(io, [&]() -> Task<void> {
    Stream stream(io.get_executor());
    co_await stream.socket().async_connect(at, use_tuple);
    const auto hec = co_await stream.client_handshake(pair.client, "b.test");
    if (hec) co_return;
    co_await write_all(stream, "hello");
    const std::string more(60000, 'm');  // a second request the server will never read
    co_await write_all(stream, more);
    co_await closed.async_wait(use_tuple);  // read only now: a reset would have destroyed the answer
    auto [data, rec] = co_await read_exactly(stream, answer.size() + 1);
    got = data;
    end = rec;
    // Under the TLS close: a FIN, or the reset of a close with unread bytes.
    char byte;
    auto [tcp_ec, n] = co_await stream.socket().async_read_some(net::buffer(&byte, 1), use_tuple);
    tcp_end = tcp_ec;
  }, net::detached);
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(got.size(), answer.size());
  EXPECT_TRUE(is_end_of_stream(end)) << end.message();
  EXPECT_EQ(tcp_end, net::error::eof) << tcp_end.message();
}

}  // namespace
}  // namespace vane::proxy
