#include "control/config_checks.hpp"

#include "analysis/expression.hpp"
#include "control/analysis_providers.hpp"
#include "proxy/access_log.hpp"
#include "proxy/net/tls_files.hpp"
#include "rollout/regex.hpp"

namespace vane::control {

config::ExternalChecks config_checks() {
  config::ExternalChecks checks;
  checks.regex = [](std::string_view pattern) { return rollout::regex_error(pattern); };
  checks.condition = [](std::string_view text) { return analysis::condition_error(text); };
  checks.json_path = [](std::string_view path) { return json_path_error(path); };
  checks.certificate = [](const std::string& file) { return proxy::certificate_error(file); };
  checks.private_key = [](const std::string& cert, const std::string& key) {
    return proxy::private_key_error(cert, key);
  };
  checks.ca_file = [](const std::string& file) { return proxy::ca_file_error(file); };
  checks.access_log = [](const std::string& path) { return proxy::access_log_error(path); };
  return checks;
}

}  // namespace vane::control
