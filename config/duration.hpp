// Duration strings of the config and CLI: "250ms", "30s", "5m", "1h30m" (Go/Argo style).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace vane::config {

/// Parses "250ms", "1.5s", "5m", "1h30m", "2h"; units ms, s, m, h. nullopt when malformed,
/// negative or overflowing. A bare "0" is zero.
std::optional<Duration> parse_duration(std::string_view text);

/// "1h30m", "30s", "250ms": the shortest exact spelling.
std::string format_duration(Duration d);

}  // namespace vane::config
