// The config checks that need modules beyond config/ (RE2 patterns, analysis conditions, TLS files,
// the access log),
// handed to config::load_file by every caller: run, validate, reload. Control thread.
#pragma once

#include <memory>
#include <string>

#include "config/loader.hpp"

namespace vane::control {

config::ExternalChecks config_checks();

/// Loads and fully validates a config file.
inline config::LoadResult load_config(const std::string& path) {
  return config::load_file(path, config_checks());
}

}  // namespace vane::control
