// The admin API's routing and answers (SPEC §6), independent of the HTTP server that carries it
// so it can be tested directly. Control thread only (the rollout controller lives there too).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "control/status_json.hpp"

namespace vane::rollout {
class Controller;
}

namespace vane::control {

class EventLog;

struct AdminRequest {
  std::string_view method;
  std::string_view target;  ///< path and query
  std::string_view body;
  std::string_view authorization;  ///< the Authorization header, if any
  bool forwarded = false;  ///< came from another replica of the cluster (kForwardedBy)
  std::string_view origin = {};         ///< the Origin header a browser sends, if any
  std::string_view host = {};           ///< the Host header
  std::string_view if_none_match = {};  ///< the If-None-Match header, if any
};

/// The header a cluster's follower adds when it hands a request on to the leader; such a
/// request is never handed on again.
inline constexpr std::string_view kForwardedBy = "X-Vane-Forwarded-By";

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< more fields (the dashboard's)
};

/// `{"error": message}` with `status`: how the API refuses.
AdminResponse error_response(int status, std::string message);

class AdminApi {
 public:
  /// What the API reads from the rest of the process; unset parts answer 404.
  struct Sources {
    rollout::Controller* controller = nullptr;
    std::function<std::optional<MeasuredWeights>(uint32_t rollout)> measured;
    std::function<boost::json::array(uint32_t rollout)> analysis_runs;  ///< newest first
    /// The running experiment's runs (STATUS `experiment.analysisRuns`), newest first.
    std::function<boost::json::array(uint32_t rollout)> experiment_runs;
    std::function<std::string()> metrics;  ///< Prometheus text exposition
    std::function<std::vector<config::Error>()> reload;  ///< errors; empty when applied
    std::function<boost::json::object()> cluster;  ///< GET /api/v1/cluster (SPEC §9)
    const EventLog* events = nullptr;               ///< GET /api/v1/events (SPEC §11)
    /// GET /api/v1/rollouts/NAME/series (SPEC §12)
    std::function<boost::json::object(uint32_t rollout)> series;
  };

  AdminResponse handle(const AdminRequest& request) const;
  /// The refusal of a POST that may not act: cross_origin's, or 401 without the token.
  std::optional<AdminResponse> refuse_post(const AdminRequest& request) const;
  /// 403 when a browser sent the request from a page of another origin (a page elsewhere must
  /// not drive the admin API, token or not), or without a token by a host name (DNS rebinding).
  std::optional<AdminResponse> cross_origin(const AdminRequest& request) const;
  /// STATUS of the rollout `name`; null when there is none (or no controller yet).
  boost::json::value rollout_status(std::string_view name) const;

  /// /readyz answers 200 only while ready: listeners bound and config loaded, not draining.
  void set_ready(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }
  /// POST endpoints need `Authorization: Bearer <token>` when a token is set.
  void set_token(std::string token) { token_ = std::move(token); }
  void set_sources(Sources sources) { sources_ = std::move(sources); }

 private:
  AdminResponse rollouts(const AdminRequest& request, std::string_view rest) const;
  AdminResponse command(std::string_view name, std::string_view verb, bool full) const;
  AdminResponse analysis_runs(std::string_view query) const;
  AdminResponse events(std::string_view query) const;
  boost::json::object status(uint32_t rollout) const;
  bool authorized(const AdminRequest& request) const;

  bool ready_ = false;
  std::string token_;
  Sources sources_;
};

}  // namespace vane::control
