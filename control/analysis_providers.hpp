// The analysis providers that ask another server or program (SPEC §5): `prometheus` (an instant
// query), `web` (any HTTP endpoint, a value picked by jsonPath) and `exec` (a local program): the
// request each makes and how its answer becomes a condition's `result`. The builtin provider
// lives in the runner. Control thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/expression_value.hpp"
#include "config/config.hpp"
#include "control/exec_command.hpp"
#include "control/http_client.hpp"

namespace vane::control {

/// What a provider measured: a value, or why it could not (an Error measurement).
struct ProviderResult {
  ProviderResult(analysis::Value v = {}, std::string e = {}, std::string f = {})
      : value(std::move(v)), error(std::move(e)), failed(std::move(f)) {}

  analysis::Value value;
  std::string error;   ///< not empty: the measurement is an Error with this message
  std::string failed;  ///< not empty: a Failed measurement, whatever the conditions (exec's exit)

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
/// A web answer: non-2xx → error; else output_result() of the body.
ProviderResult web_result(const HttpReply& reply, std::string_view json_path);

/// What an exec provider's program did (run_command() of `x.command`): could not start, timed
/// out or said too much → error; a non-zero exit → failed (naming the code and stderr's first
/// line); exit 0 → output_result() of its stdout, surrounding whitespace dropped, with
/// `x.json_path`.
ProviderResult exec_result(const ExecResult& run, const config::ExecProvider& x);

/// A provider's output: JSON → the value `json_path` selects (error when it selects nothing);
/// anything else → the text as a string result, whatever the jsonPath (as Argo's web provider).
ProviderResult output_result(std::string_view output, std::string_view json_path);

/// Parses `text` as JSON into a Value (numbers as doubles); nullopt when it is not JSON.
std::optional<analysis::Value> parse_json_value(std::string_view text);

/// A JSONPath subset: `$`, `$.a.b`, `$.list[0]`, `$['a.b']`, `$.a[-1]` (from the end),
/// optionally wrapped in `{...}` as Argo/kubectl write it.
class JsonPath {
 public:
  struct Step {
    bool is_key = false;
    std::string key;
    long long index = 0;
  };

  /// nullopt and *error ("jsonPath "X": why") when `text` is malformed.
  static std::optional<JsonPath> parse(std::string_view text, std::string* error);
  /// The value at the path; nullopt and *error when it does not exist in `root`.
  std::optional<analysis::Value> select(const analysis::Value& root, std::string* error) const;

 private:
  std::string text_;
  std::vector<Step> steps_;
};

/// JsonPath::parse() then select(), for a path used once.
std::optional<analysis::Value> select_json_path(const analysis::Value& root,
                                                std::string_view path, std::string* error);
/// For config::ExternalChecks::json_path: "" when `path` parses, else why not.
std::string json_path_error(std::string_view path);

}  // namespace vane::control
