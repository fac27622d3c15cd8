// The open-files limit: raised at start to what the system allows, with a warning when that is
// less than the config could need (one descriptor per connection, client or upstream).
#pragma once

#include <cstdint>

#include "config/config.hpp"

namespace vane::control {

/// Descriptors the config could reasonably need: 1024 client connections per listener per
/// worker (nginx's default worker_connections), every upstream pool full, and 64 for the process
/// (listeners, admin, logs, the control plane's connections).
uint64_t fd_need(const config::Config& config, uint32_t workers);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit, logs the limit it got, and warns (never
/// fails) when it is below fd_need. Returns the soft limit now in force.
uint64_t raise_fd_limit(const config::Config& config, uint32_t workers);

}  // namespace vane::control
