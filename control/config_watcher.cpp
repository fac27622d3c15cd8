#include "control/config_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "proxy/log.hpp"

namespace vane::control {

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::string path,
                             std::function<void()> changed, std::chrono::milliseconds settle)
    : path_(std::move(path)), changed_(std::move(changed)), settle_(settle), events_(io), timer_(io) {}

ConfigWatcher::~ConfigWatcher() { stop(); }

bool ConfigWatcher::start() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    proxy::log::warn("config watch: inotify unavailable; reload with SIGHUP");
    return false;
  }
  // The directory, not the file: editors and ConfigMap volumes replace the file (or a symlink on
  // its path) rather than writing it in place.
  std::filesystem::path dir = std::filesystem::absolute(path_).parent_path();
  const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_ATTRIB;
  if (::inotify_add_watch(fd, dir.c_str(), mask) < 0) {
    ::close(fd);
    proxy::log::warn("config watch: cannot watch " + dir.string() + "; reload with SIGHUP");
    return false;
  }
  events_.assign(fd);
  last_ = fingerprint();
  read_events();
  return true;
}

void ConfigWatcher::stop() {
  boost::system::error_code ignored;
  timer_.cancel();
  events_.close(ignored);
}

void ConfigWatcher::read_events() {
  events_.async_read_some(boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t) {
    if (ec) return;  // closed
    settle_then_check();
    read_events();
  });
}

void ConfigWatcher::settle_then_check() {
  timer_.expires_after(settle_);  // a burst of events restarts the wait
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    std::string now = fingerprint();
    if (now.empty() || now == last_) return;  // missing mid-swap, or nothing really changed
    last_ = std::move(now);
    changed_();
  });
}

std::string ConfigWatcher::fingerprint() const {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return "";
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace vane::control
