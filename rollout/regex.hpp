// RE2 for the header, method and path conditions of routes: linear-time matching, so patterns
// from the config are safe against untrusted input. Any thread (RE2 objects are immutable).
#pragma once

#include <string>
#include <string_view>

namespace vane::rollout {

/// Why `pattern` is not a valid RE2 expression, or "" when it compiles.
std::string regex_error(std::string_view pattern);

}  // namespace vane::rollout
