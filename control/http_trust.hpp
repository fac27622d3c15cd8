// The TLS client contexts of the HttpClient (control/http_client.hpp), one per set of trust and
// client-certificate settings, made when first needed and made again when one of their files
// changes on disk. Used only by the client, on its thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

namespace vane::control {

struct HttpCall;

class HttpTrust {
 public:
  /// The context for `call`'s TLS settings (trust: `caFile`, the system's store or none; its
  /// client certificate); null with `error` set when it cannot be made (a file that does not
  /// load), which is logged once per version of the files.
  std::shared_ptr<boost::asio::ssl::context> context(const HttpCall& call, std::string* error);

 private:
  struct Made {
    std::shared_ptr<boost::asio::ssl::context> context;  ///< null: `error` says why
    std::vector<std::filesystem::file_time_type> modified;  ///< CA, certificate, key
    std::string error;
  };

  static Made make(const HttpCall& call);

  std::map<std::string, Made> made_;  ///< by insecureSkipVerify, caFile and client certificate
};

}  // namespace vane::control
