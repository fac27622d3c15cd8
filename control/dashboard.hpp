// The dashboard (SPEC §12): a page and its script and style, compiled into the binary from
// control/dashboard/ (cmake/embed_files.cmake), served by the admin API. Control thread.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "control/admin_api.hpp"

namespace vane::control {

struct EmbeddedFile {
  std::string_view name;  ///< "index.html", "app.js", …
  std::string_view body;
  std::string_view etag;  ///< quoted, as the ETag field carries it
};

/// Every file of control/dashboard/ (generated at build time).
std::span<const EmbeddedFile> embedded_files();

/// The answer for a dashboard path: "/" (index.html) or "/dashboard/NAME"; 304 when
/// `if_none_match` names its ETag. Nothing for any other path.
std::optional<AdminResponse> dashboard_file(std::string_view path, std::string_view if_none_match);

}  // namespace vane::control
