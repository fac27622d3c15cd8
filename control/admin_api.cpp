#include "control/admin_api.hpp"

#include <charconv>

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>

#include "control/dashboard.hpp"
#include "control/event_log.hpp"
#include "control/json_text.hpp"
#include "rollout/controller.hpp"
#include "rollout/route_index.hpp"

namespace vane::control {
namespace {

namespace json = boost::json;

AdminResponse json_answer(int status, const json::value& body) {
  std::string text = to_text(body);
  text += '\n';
  return AdminResponse{status, "application/json", std::move(text), {}};
}


AdminResponse text(int status, std::string body) {
  return AdminResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

/// The value of `name` in a query string ("a=1&b=2"), percent-decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  // Boost.URL 1.81's parse_query reads its argument as a C string (strlen), so it gets an
  // owned, NUL-terminated copy: a view into the request would run on into the request line.
  if (query.empty()) return std::nullopt;
  const std::string owned(query);
  auto params = boost::urls::parse_query(owned.c_str());
  if (!params) return std::nullopt;
  for (const auto& param : *params) {
    if (param.key == name) return std::string(param.value);
  }
  return std::nullopt;
}

/// Compares in time independent of where the strings differ: the token is a secret.
bool same_secret(std::string_view given, std::string_view token) {
  if (given.size() != token.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    diff = static_cast<unsigned char>(diff | (given[i] ^ token[i]));
  }
  return diff == 0;
}

/// Whether a browser's Origin names the host it sent the request to (scheme aside).
bool same_origin(std::string_view origin, std::string_view host) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme) && origin.substr(scheme.size()) == host && !host.empty()) return true;
  }
  return false;
}

/// An IP address or localhost: a name no DNS answer can point at another site's page.
bool rebinding_proof(std::string_view host) {
  std::string bare(rollout::host_without_port(host));
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  if (bare == "localhost" || bare.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  boost::asio::ip::make_address(bare, ec);
  return !ec;
}

}  // namespace

AdminResponse error_response(int status, std::string message) {
  return json_answer(status, json::object{{"error", std::move(message)}});
}

AdminResponse AdminApi::handle(const AdminRequest& request) const {
  const auto question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view{} : request.target.substr(question + 1);
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/healthz") return get ? text(200, "ok\n") : error_response(405, "method not allowed");
  if (path == "/readyz") {
    if (!get) return error_response(405, "method not allowed");
    return ready_ ? text(200, "ready\n") : text(503, "not ready\n");
  }
  if (path == "/metrics" && sources_.metrics) {
    if (!get) return error_response(405, "method not allowed");
    return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", sources_.metrics(), {}};
  }
  constexpr std::string_view kRollouts = "/api/v1/rollouts";
  if (sources_.controller && path.starts_with(kRollouts)) {
    std::string_view rest = path.substr(kRollouts.size());
    if (rest.empty() || rest.front() == '/') {
      if (!rest.empty()) rest.remove_prefix(1);
      if (request.method == "POST") {
        if (auto refused = refuse_post(request)) return std::move(*refused);
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos) return error_response(405, "method not allowed");
        const auto full = query_param(query, "full");
        return command(rest.substr(0, slash), rest.substr(slash + 1), full && *full == "true");
      }
      return get ? rollouts(request, rest) : error_response(405, "method not allowed");
    }
  }
  if (path == "/api/v1/reload" && sources_.reload) {
    if (request.method != "POST") return error_response(405, "method not allowed");
    if (auto refused = refuse_post(request)) return std::move(*refused);
    const auto errors = sources_.reload();
    if (errors.empty()) return json_answer(200, json::object{{"result", "success"}});
    json::array list;
    for (const auto& e : errors) list.push_back(json::value(e.to_string()));
    return json_answer(400, json::object{{"result", "failure"}, {"errors", std::move(list)}});
  }
  if (path == "/api/v1/cluster" && sources_.cluster) {
    return get ? json_answer(200, sources_.cluster()) : error_response(405, "method not allowed");
  }
  if (path == "/api/v1/events" && sources_.events) {
    return get ? events(query) : error_response(405, "method not allowed");
  }
  if (path == "/api/v1/analysisruns" && sources_.controller) {
    return get ? analysis_runs(query) : error_response(405, "method not allowed");
  }
  if (auto file = dashboard_file(path, request.if_none_match)) {
    return get ? std::move(*file) : error_response(405, "method not allowed");
  }
  return error_response(404, "not found");
}

AdminResponse AdminApi::rollouts(const AdminRequest&, std::string_view rest) const {
  const auto& controller = *sources_.controller;
  const auto slash = rest.find('/');
  const std::string_view name = rest.substr(0, slash);
  if (slash != std::string_view::npos) {  // NAME/series, the only sub-resource a GET reads
    const auto index = controller.find(name);
    if (!index || rest.substr(slash + 1) != "series" || !sources_.series) {
      return error_response(404, "not found");
    }
    return json_answer(200, sources_.series(*index));
  }
  if (name.empty()) {
    json::array list;
    for (uint32_t i = 0; i < controller.config().rollouts.size(); ++i) list.push_back(status(i));
    return json_answer(200, json::object{{"rollouts", std::move(list)}});
  }
  const auto index = controller.find(name);
  if (!index) return error_response(404, "rollout \"" + std::string(name) + "\" not found");
  return json_answer(200, status(*index));
}

AdminResponse AdminApi::events(std::string_view query) const {
  const auto rollout = query_param(query, "rollout");
  if (rollout && sources_.controller && !sources_.controller->find(*rollout)) {
    return error_response(404, "rollout \"" + *rollout + "\" not found");
  }
  uint64_t since = 0;
  if (const auto text = query_param(query, "since")) {
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), since);
    if (ec != std::errc{} || end != text->data() + text->size()) {
      return error_response(400, "since: not an event id: \"" + *text + "\"");
    }
  }
  json::array list;
  for (const EventRecord* event : sources_.events->after(since, rollout)) list.push_back(to_json(*event));
  return json_answer(200, json::object{{"events", std::move(list)}});
}

AdminResponse AdminApi::command(std::string_view name, std::string_view verb, bool full) const {
  using Kind = rollout::Event::Kind;
  Kind kind;
  if (verb == "promote") {
    kind = full ? Kind::PromoteFull : Kind::Promote;
  } else if (verb == "abort") {
    kind = Kind::Abort;
  } else if (verb == "retry") {
    kind = Kind::Retry;
  } else if (verb == "pause") {
    kind = Kind::Pause;
  } else {
    return error_response(404, "unknown command \"" + std::string(verb) + "\"");
  }
  auto& controller = *sources_.controller;
  switch (controller.command(name, kind, rollout::WallClock::now())) {
    case rollout::Controller::Outcome::NotFound:
      return error_response(404, "rollout \"" + std::string(name) + "\" not found");
    case rollout::Controller::Outcome::Conflict: {
      const auto index = controller.find(name);
      return error_response(409, std::string(verb) + " is not valid while rollout \"" + std::string(name) +
                            "\" is " + std::string(rollout::to_string(controller.state(*index).phase)) +
                            (controller.state(*index).aborted ? " (aborted)" : ""));
    }
    case rollout::Controller::Outcome::Done:
      break;
  }
  return json_answer(200, status(*controller.find(name)));
}

AdminResponse AdminApi::analysis_runs(std::string_view query) const {
  const auto name = query_param(query, "rollout");
  if (!name) return error_response(400, "the rollout query parameter is required");
  const auto index = sources_.controller->find(*name);
  if (!index) return error_response(404, "rollout \"" + *name + "\" not found");
  json::array runs = sources_.analysis_runs ? sources_.analysis_runs(*index) : json::array{};
  return json_answer(200, json::object{{"analysisRuns", std::move(runs)}});
}

json::value AdminApi::rollout_status(std::string_view name) const {
  if (!sources_.controller) return nullptr;
  const auto index = sources_.controller->find(name);
  return index ? json::value(status(*index)) : json::value(nullptr);
}

json::object AdminApi::status(uint32_t index) const {
  const auto& controller = *sources_.controller;
  StatusInput input{controller.config().rollouts[index], controller.state(index),
                    controller.plan(index),
                    sources_.measured ? sources_.measured(index) : std::nullopt,
                    sources_.analysis_runs ? sources_.analysis_runs(index) : json::array{},
                    sources_.experiment_runs ? sources_.experiment_runs(index) : json::array{},
                    rollout::WallClock::now()};
  return status_json(std::move(input));
}

std::optional<AdminResponse> AdminApi::cross_origin(const AdminRequest& request) const {
  if (request.origin.empty()) return std::nullopt;
  if (!same_origin(request.origin, request.host)) {
    return error_response(403, "cross-origin request refused (Origin " + std::string(request.origin) + ")");
  }
  // Without a token, a page whose name was re-pointed at this address (DNS rebinding) would be
  // "same origin": a browser may act only where it reached vane by address or localhost.
  if (token_.empty() && !rebinding_proof(request.host)) {
    return error_response(403, "a browser may act by host name only with admin.tokenFile set "
                               "(DNS rebinding); use an IP address or localhost");
  }
  return std::nullopt;
}

std::optional<AdminResponse> AdminApi::refuse_post(const AdminRequest& request) const {
  if (auto refused = cross_origin(request)) return refused;
  if (!authorized(request)) return error_response(401, "missing or wrong bearer token");
  return std::nullopt;
}

bool AdminApi::authorized(const AdminRequest& request) const {
  if (token_.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (!request.authorization.starts_with(kBearer)) return false;
  return same_secret(request.authorization.substr(kBearer.size()), token_);
}

}  // namespace vane::control
