#include "control/dashboard.hpp"

namespace vane::control {
namespace {

constexpr std::string_view kPrefix = "/dashboard/";

/// The page runs only its own files and talks only to the admin API (so never to a data-plane
/// listener, another port being another origin); nothing may frame it.
constexpr std::string_view kPolicy =
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

/// Whether an If-None-Match list ("\"a\", W/\"b\"" or "*") holds `etag`.
bool matches(std::string_view if_none_match, std::string_view etag) {
  return if_none_match == "*" || if_none_match.find(etag) != std::string_view::npos;
}

}  // namespace

std::optional<AdminResponse> dashboard_file(std::string_view path, std::string_view if_none_match) {
  std::string_view name;
  if (path == "/") {
    name = "index.html";
  } else if (path.starts_with(kPrefix)) {
    name = path.substr(kPrefix.size());
  } else {
    return std::nullopt;
  }
  for (const EmbeddedFile& file : embedded_files()) {
    if (file.name != name) continue;
    AdminResponse answer;
    const bool fresh = !if_none_match.empty() && matches(if_none_match, file.etag);
    answer.status = fresh ? 304 : 200;
    answer.content_type = content_type(name);
    if (!fresh) answer.body = file.body;
    // Revalidated on every load (a cheap 304), so a new binary's files are never stale.
    answer.headers = {{"ETag", std::string(file.etag)},
                      {"Cache-Control", "no-cache"},
                      {"Content-Security-Policy", std::string(kPolicy)},
                      {"X-Frame-Options", "DENY"},
                      {"Referrer-Policy", "no-referrer"}};
    return answer;
  }
  return std::nullopt;
}

}  // namespace vane::control
