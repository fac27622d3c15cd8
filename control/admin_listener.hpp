// The admin listener: HTTP/1.1 with Boost.Beast on the control thread's io_context, serving the
// AdminApi. Not on the data path, so it favours plainness over speed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "control/admin_api.hpp"

namespace vane::control {

class AdminListener {
 public:
  /// Binds at once; `api` must outlive the server.
  AdminListener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at, AdminApi& api);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void close();

 private:
  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  AdminApi& api_;
};

}  // namespace vane::control
