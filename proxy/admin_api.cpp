#include "proxy/admin_api.hpp"

namespace vane::proxy {
namespace {

AdminResponse json(int status, std::string body) {
  return AdminResponse{status, "application/json", std::move(body)};
}

AdminResponse text(int status, std::string body) {
  return AdminResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

}  // namespace

AdminResponse AdminApi::handle(const AdminRequest& request) const {
  std::string_view path = request.target.substr(0, request.target.find('?'));
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/healthz") {
    if (!get) return json(405, R"({"error":"method not allowed"})");
    return text(200, "ok\n");
  }
  if (path == "/readyz") {
    if (!get) return json(405, R"({"error":"method not allowed"})");
    return ready_ ? text(200, "ready\n") : text(503, "not ready\n");
  }
  return json(404, R"({"error":"not found"})");
}

}  // namespace vane::proxy
