// The analysis providers that ask another server (SPEC §5): `prometheus` (an instant query) and
// `web` (any HTTP endpoint, a value picked by jsonPath): the request each makes and how its
// answer becomes a condition's `result`. The builtin provider lives in the runner. Control thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "analysis/expression_value.hpp"
#include "config/config.hpp"
#include "control/http_client.hpp"

namespace vane::control {

/// What a provider measured: a value, or why it could not (an Error measurement).
struct ProviderResult {
  analysis::Value value;
  std::string error;  ///< not empty: the measurement is an Error with this message

  bool ok() const { return error.empty(); }
};

/// `{address}/api/v1/query?query=<query percent-encoded>`, headers and timeout from `p`
/// (placeholders already substituted), after the providers' User-Agent and Accept.
HttpCall prometheus_call(const config::PrometheusProvider& p);
/// A Prometheus API answer: resultType scalar → number, vector → list of numbers (`[]` when
/// empty), string → string; matrix, a non-success status or a malformed body → error (with
/// Prometheus' own `error` when it gave one).
ProviderResult prometheus_result(const HttpReply& reply);

/// The web provider's request: url, method, headers, body and timeoutSeconds of `w`, headers
/// after the providers' User-Agent and Accept.
HttpCall web_call(const config::WebProvider& w);
/// A web answer: non-2xx → error; a JSON body → the value `json_path` selects; a body that is
/// not JSON → a string result when `json_path` is `$`, else an error.
ProviderResult web_result(const HttpReply& reply, std::string_view json_path);

/// Parses `text` as JSON into a Value (numbers as doubles); nullopt when it is not JSON.
std::optional<analysis::Value> parse_json_value(std::string_view text);

/// Selects from `root` by a JSONPath subset: `$`, `$.a.b`, `$.list[0]`, `$['a.b']`, `$.a[-1]`
/// (from the end), optionally wrapped in `{...}` as Argo/kubectl write it. nullopt and *error
/// when the path is malformed or does not exist in `root`.
std::optional<analysis::Value> select_json_path(const analysis::Value& root,
                                                std::string_view path, std::string* error);

}  // namespace vane::control
