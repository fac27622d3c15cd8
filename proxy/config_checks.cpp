#include "proxy/config_checks.hpp"

#include "rollout/regex.hpp"

namespace vane::proxy {

config::ExternalChecks config_checks() {
  config::ExternalChecks checks;
  checks.regex = [](std::string_view pattern) { return rollout::regex_error(pattern); };
  return checks;
}

}  // namespace vane::proxy
