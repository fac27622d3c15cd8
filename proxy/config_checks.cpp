#include "proxy/config_checks.hpp"

#include "analysis/expression.hpp"
#include "rollout/regex.hpp"

namespace vane::proxy {

config::ExternalChecks config_checks() {
  config::ExternalChecks checks;
  checks.regex = [](std::string_view pattern) { return rollout::regex_error(pattern); };
  checks.condition = [](std::string_view text) { return analysis::condition_error(text); };
  return checks;
}

}  // namespace vane::proxy
