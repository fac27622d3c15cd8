// Reads vane.yaml into a Config and checks it (SPEC §2). Runs on the control thread at start,
// on reload and in `vane validate`; never on a worker.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace vane::config {

/// One problem in the file: `FILE:LINE:COL: PATH: MESSAGE` (1-based line and column).
struct Error {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;  ///< e.g. "rollouts[0].strategy.canary.steps[3].setWeight"
  std::string message;

  std::string to_string() const;
};

struct LoadResult {
  std::shared_ptr<const Config> config;  ///< null when errors is not empty
  std::vector<Error> errors;             ///< every problem found, in file order
};

/// Checks that need other modules (RE2, the condition parser, OpenSSL) plug in here, so that their errors
/// carry the file position and path like every other; config/ itself has no such dependency.
/// Each returns an error message, or an empty string when the text is fine. Unset: not checked.
struct ExternalChecks {
  std::function<std::string(std::string_view pattern)> regex;
  /// `expression` is a successCondition/failureCondition as written: `{{args.X}}` not substituted.
  std::function<std::string(std::string_view expression)> condition;
  /// A web or exec provider's `jsonPath` (without `{{args.X}}`): its syntax.
  std::function<std::string(std::string_view json_path)> json_path;
  /// A listener's `certFile`: a readable certificate.
  std::function<std::string(const std::string& cert_file)> certificate;
  /// Its `keyFile`, checked when the certificate is fine: a readable key matching it.
  std::function<std::string(const std::string& cert_file, const std::string& key_file)> private_key;
  /// An upstream's `tls.caFile`: readable CA certificates.
  std::function<std::string(const std::string& ca_file)> ca_file;
  /// `accessLog.path`: a file that can be opened for appending (nothing is created).
  std::function<std::string(const std::string& path)> access_log;
};

/// Loads and validates the file at `path`; `path` is used as given in error messages.
LoadResult load_file(const std::string& path, const ExternalChecks& checks = {});

/// Same, from text in memory; `file` names it in error messages.
LoadResult load_string(std::string_view yaml, const std::string& file,
                       const ExternalChecks& checks = {});

}  // namespace vane::config
