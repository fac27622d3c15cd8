// HttpConnection's check of an idle connection: open while the peer says nothing; not open once
// the peer closed it or sent anything unasked-for. Real loopback sockets; every wait is bounded.
#include "control/http_connection.hpp"

#include <gtest/gtest.h>

#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>

#include "tests/control/run_until.hpp"

namespace vane::control {
namespace {

using test::run_until;
using namespace std::chrono_literals;

class HttpConnectionTest : public ::testing::Test {
 protected:
  HttpConnectionTest() {
    std::optional<boost::system::error_code> connected;
    net::co_spawn(io, connection.connect({acceptor.local_endpoint()}),
                  [&](std::exception_ptr, boost::system::error_code ec) { connected = ec; });
    // The kernel completes the connection on the listening socket before accept() takes it.
    EXPECT_TRUE(run_until(io, [&] { return connected.has_value(); }));
    EXPECT_FALSE(connected.value_or(net::error::timed_out));
    acceptor.accept(peer);
  }

  net::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::address_v4::loopback(), 0)};
  tcp::socket peer{io};
  HttpConnection connection{io.get_executor(), nullptr};
};

TEST_F(HttpConnectionTest, OpenWhileThePeerSaysNothing) {
  EXPECT_TRUE(connection.still_open());
  EXPECT_TRUE(connection.still_open());  // looking consumes nothing
}

TEST_F(HttpConnectionTest, NotOpenOnceThePeerClosedIt) {
  peer.close();
  EXPECT_TRUE(run_until(io, [&] { return !connection.still_open(); }));
}

TEST_F(HttpConnectionTest, NotOpenOnceThePeerSentSomethingUnasked) {
  net::write(peer, net::buffer("HTTP/1.1 408 Request Timeout\r\n\r\n", 32));
  EXPECT_TRUE(run_until(io, [&] { return !connection.still_open(); }));
  EXPECT_TRUE(peer.is_open());
}

TEST_F(HttpConnectionTest, NotOpenOnceClosedHere) {
  connection.layer().close();
  EXPECT_FALSE(connection.still_open());
}

}  // namespace
}  // namespace vane::control
