// The running process: builds the data plane from a Config, binds listeners and the admin API,
// starts the workers, and runs the control thread (signals, admin, drain). `run()` is the control
// thread; everything else here is called from it unless marked thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "proxy/admin_api.hpp"
#include "proxy/admin_server.hpp"
#include "proxy/worker.hpp"

namespace vane::proxy {

struct ServerOptions {
  std::string ready_file;      ///< written once bound: {"pid","admin","listeners":{name: addr}}
  bool handle_signals = true;  ///< SIGTERM/SIGINT drain, SIGHUP reload
};

class Server {
 public:
  Server(std::shared_ptr<const config::Config> config, ServerOptions options);
  ~Server();

  /// Binds every listener and the admin API, starts the workers. Throws on a bind error.
  void start();
  /// Runs the control loop until drained. Returns the exit code.
  int run();
  /// Thread-safe: begin the graceful shutdown of SPEC §7.
  void request_stop();

  /// Bound addresses ("127.0.0.1:41234"), after start().
  const std::map<std::string, std::string>& listener_addresses() const { return listeners_; }
  const std::string& admin_address() const { return admin_address_; }

 private:
  void drain();
  void wait_for_workers(std::chrono::steady_clock::time_point give_up);
  void write_ready_file() const;
  void watch_signals();

  std::shared_ptr<const config::Config> config_;
  ServerOptions options_;
  boost::asio::io_context control_;
  AdminApi api_;
  std::unique_ptr<AdminServer> admin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::map<std::string, std::string> listeners_;
  std::string admin_address_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  bool draining_ = false;
};

/// "127.0.0.1:8080" / "[::1]:8080" for an endpoint.
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace vane::proxy
