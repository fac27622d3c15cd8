// Watches the config file's directory with inotify and calls back once a burst of changes has
// settled and the file's content really changed: an edit in place, a rename over it, or the
// atomic `..data` symlink swap of a Kubernetes ConfigMap volume. Control thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace vane::control {

class ConfigWatcher {
 public:
  /// `changed` runs on `io` after `settle` without further events, when the content differs from
  /// what it was at start or at the last callback.
  ConfigWatcher(boost::asio::io_context& io, std::string path, std::function<void()> changed,
                std::chrono::milliseconds settle = std::chrono::milliseconds(250));
  ~ConfigWatcher();

  /// False (with a logged warning) when inotify is not available: reload by SIGHUP instead.
  bool start();
  void stop();

 private:
  void read_events();
  void settle_then_check();
  std::string fingerprint() const;

  std::string path_;
  std::function<void()> changed_;
  std::chrono::milliseconds settle_;
  boost::asio::posix::stream_descriptor events_;
  boost::asio::steady_timer timer_;
  std::string last_;
  char buffer_[4096];
};

}  // namespace vane::control
