// A small synchronous HTTP/1.1 client of the admin API (SPEC §6), used by the CLI's client
// commands (`vane status|promote|abort|retry|pause`) and the demo: each request runs the control
// plane's HttpClient on the client's own io_context until it ends. Main thread; one at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vane::cli {

/// What one request came to: an HTTP answer (any status), or `error` when there was none.
struct AdminResult {
  int status = 0;     ///< the answer's status code; 0 when no answer arrived
  std::string body;   ///< the answer's body
  std::string error;  ///< why no answer arrived (bad URL, connect failure, timeout, bad answer)
  bool connected = false;  ///< the connection was made (a failure came later: no or bad answer)

  bool answered() const { return error.empty(); }
  bool ok() const { return answered() && status >= 200 && status < 300; }
};

class AdminClient {
 public:
  using Result = AdminResult;
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

  /// `base_url` is `http://HOST[:PORT][/PREFIX]` (https is not supported yet); when it is
  /// malformed every request fails with the reason in `error`. `token` is sent as
  /// `Authorization: Bearer <token>` on POST requests when it is not empty. Copies share one
  /// connection (kept alive between requests).
  AdminClient(std::string base_url, std::string token);

  /// GET/POST `target` (a path with its query, e.g. "/api/v1/rollouts"), below the URL's prefix.
  Result get(std::string_view target) const;
  Result post(std::string_view target) const;

  /// Bounds connect + write + read of every request together (default 10 s).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  const std::string& base_url() const { return base_url_; }
  /// Why `base_url` cannot be used; empty when it can.
  const std::string& url_error() const { return url_error_; }

 private:
  struct Session;

  Result request(bool post, std::string_view target) const;

  std::string base_url_;
  std::string token_;
  std::string origin_;  ///< "http://" and the URL's host and port, as written
  std::string prefix_;  ///< the URL's path without a trailing '/'
  std::string url_error_;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
  std::shared_ptr<Session> session_;  ///< the io_context and HttpClient, shared by copies
};

/// Why `base_url` cannot be an admin URL (`http://HOST[:PORT][/PREFIX]`); empty when it can.
std::string admin_url_error(std::string_view base_url);

/// Reads an admin token file: its content without surrounding whitespace (SPEC §7);
/// nullopt when the file cannot be read.
std::optional<std::string> read_token_file(const std::string& path);

/// The message of an error answer: the `error` field of a JSON body `{"error": "..."}`, else the
/// body itself (trimmed, when short), else "HTTP <status>".
std::string error_message(const AdminResult& result);

}  // namespace vane::cli
