// For the config fuzz target: a Config as text, every field, so two loads can be compared (the
// config structs have no operator==). Marks are left out when asked, for loads of the same
// document written differently.
#pragma once

#include <string>

#include "config/config.hpp"

namespace vane::fuzz {

std::string dump(const config::Config& config, bool with_marks);

}  // namespace vane::fuzz
