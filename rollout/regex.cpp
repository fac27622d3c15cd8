#include "rollout/regex.hpp"

#include <re2/re2.h>

namespace vane::rollout {

std::string regex_error(std::string_view pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(re2::StringPiece(pattern.data(), pattern.size()), options);
  return re.ok() ? std::string() : "invalid regular expression: " + re.error();
}

}  // namespace vane::rollout
