// The admin API's routing and answers (SPEC §6), independent of the HTTP server that carries it
// so it can be tested directly. Control thread only.
#pragma once

#include <string>
#include <string_view>

namespace vane::proxy {

struct AdminRequest {
  std::string_view method;
  std::string_view target;  ///< path and query
  std::string_view body;
  std::string_view authorization;  ///< the Authorization header, if any
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class AdminApi {
 public:
  AdminResponse handle(const AdminRequest& request) const;

  /// /readyz answers 200 only while ready: listeners bound and config loaded, not draining.
  void set_ready(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }

 private:
  bool ready_ = false;
};

}  // namespace vane::proxy
