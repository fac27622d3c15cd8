// The admin listener: HTTP/1.1 with Boost.Beast on the control thread's io_context, serving the
// AdminApi. Not on the data path, so it favours plainness over speed.
#pragma once

#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "control/admin_api.hpp"
#include "control/asio.hpp"

namespace vane::control {

class AdminListener {
 public:
  /// Answers a request; may wait (a cluster's follower asks the leader).
  using Handler = std::function<Task<AdminResponse>(const AdminRequest&)>;

  /// Binds at once; whatever `handler` uses must outlive the server.
  AdminListener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& at,
                Handler handler);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void close();

 private:
  boost::asio::io_context& io_;
  Acceptor acceptor_;
  Handler handler_;
};

}  // namespace vane::control
