// Server: the access log's file (SPEC §11): `run --access-log` wins over the config's accessLog;
// every reload reopens it, as nginx does, so a rotated file is let go.
#include <stdexcept>

#include "control/server.hpp"
#include "proxy/log.hpp"

namespace vane::control {

std::string Server::access_log_path() const {
  if (!options_.access_log.empty()) return options_.access_log;
  return config_->access_log ? config_->access_log->path : std::string();
}

void Server::open_access_log() {
  const std::string path = access_log_path();
  if (path.empty()) return;
  access_log_ = std::make_unique<proxy::AccessLog>(path);
  if (!access_log_->start()) throw std::runtime_error("cannot open the access log " + path);
  for (auto& worker : workers_) worker->set_access_log(access_log_.get());
}

/// After a reload: accessLog added, changed or removed takes effect now. The AccessLog object
/// lives as long as the workers, so a worker never holds a dangling pointer.
void Server::reopen_access_log() {
  const std::string path = access_log_path();
  if (!path.empty() && !access_log_) {
    auto fresh = std::make_unique<proxy::AccessLog>(path);
    if (fresh->start()) {
      access_log_ = std::move(fresh);
    } else {
      proxy::log::error("cannot open the access log " + path);
    }
  } else if (!path.empty() && !access_log_->reopen(path)) {
    proxy::log::error("cannot reopen the access log " + path + ": the old file is kept");
  }
  proxy::AccessLog* log = path.empty() ? nullptr : access_log_.get();
  for (auto& worker : workers_) worker->switch_access_log(log);
}

}  // namespace vane::control
