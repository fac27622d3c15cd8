#include "control/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "proxy/log.hpp"

namespace vane::control {

uint64_t fd_need(const config::Config& config, uint32_t workers) {
  uint64_t need = 64 + uint64_t{1024} * config.listeners.size() * workers;
  for (const auto& upstream : config.upstreams) {
    need += uint64_t{upstream.max_connections_per_endpoint} * upstream.endpoints.size();
  }
  return need;
}

uint64_t raise_fd_limit(const config::Config& config, uint32_t workers) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    proxy::log::warn(std::string("open files limit: getrlimit failed: ") + std::strerror(errno));
    return 0;
  }
  const rlim_t before = limit.rlim_cur;
  std::string raise_error;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    } else {
      raise_error = std::string(" (raising to the hard limit ") + std::to_string(limit.rlim_max) +
                    " failed: " + std::strerror(errno) + ")";
    }
  }
  const auto text = [](rlim_t value) {
    return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
  };
  proxy::log::info("open files limit " + text(limit.rlim_cur) +
                   (limit.rlim_cur != before ? " (raised from " + text(before) + ")" : "") +
                   raise_error);
  const uint64_t need = fd_need(config, workers);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < need) {
    proxy::log::warn("open files limit " + text(limit.rlim_cur) + " is below the " +
                     std::to_string(need) + " this config may need (" +
                     std::to_string(config.listeners.size()) + " listeners x " +
                     std::to_string(workers) +
                     " workers x 1024 connections, the upstream pools, 64 for the process): "
                     "connections past it are refused; raise the hard limit (ulimit -Hn, "
                     "systemd LimitNOFILE=)");
  }
  return limit.rlim_cur;
}

}  // namespace vane::control
