#include "control/analysis_providers.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#ifndef VANE_VERSION
#define VANE_VERSION "0.0.0"
#endif

namespace vane::control {
namespace {

using analysis::Value;
namespace json = boost::json;

constexpr size_t kMaxQuotedBody = 200;

/// What every provider request says first; the metric's own headers come after (and win).
std::vector<config::KeyValue> provider_headers(const std::vector<config::KeyValue>& configured) {
  std::vector<config::KeyValue> headers{{"User-Agent", "vane-analysis/" VANE_VERSION},
                                        {"Accept", "application/json"}};
  headers.insert(headers.end(), configured.begin(), configured.end());
  return headers;
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n";
  const auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

/// "HTTP 503" plus the start of the body, for errors.
std::string status_text(const HttpReply& reply) {
  std::string text = "HTTP " + std::to_string(reply.status);
  std::string_view body = trim(reply.body);
  if (body.empty()) return text;
  if (body.size() > kMaxQuotedBody) body = body.substr(0, kMaxQuotedBody);
  return text + ": " + std::string(body) + (trim(reply.body).size() > kMaxQuotedBody ? "..." : "");
}

Value to_value(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return Value::nil();
    case json::kind::bool_: return Value::boolean(v.get_bool());
    case json::kind::int64: return Value::number(static_cast<double>(v.get_int64()));
    case json::kind::uint64: return Value::number(static_cast<double>(v.get_uint64()));
    case json::kind::double_: return Value::number(v.get_double());
    case json::kind::string: return Value::string(std::string(v.get_string()));
    case json::kind::array: {
      Value::List items;
      for (const json::value& item : v.get_array()) items.push_back(to_value(item));
      return Value::list(std::move(items));
    }
    case json::kind::object: {
      Value::Object members;
      for (const auto& member : v.get_object()) {
        members.push_back({std::string(member.key()), to_value(member.value())});
      }
      return Value::object(std::move(members));
    }
  }
  return Value::nil();
}

/// A Prometheus sample value: "0.97", "NaN", "+Inf", "-Inf".
std::optional<double> sample_number(const json::value& v) {
  if (!v.is_string()) return std::nullopt;
  std::string_view text = v.get_string();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

/// The value of `[timestamp, "value"]`.
const json::value* pair_value(const json::value& pair) {
  if (!pair.is_array() || pair.get_array().size() != 2) return nullptr;
  return &pair.get_array()[1];
}

ProviderResult prometheus_data(const json::object& data) {
  const json::value* type = data.if_contains("resultType");
  const json::value* result = data.if_contains("result");
  if (!type || !type->is_string() || !result) return {{}, "prometheus: malformed answer"};
  const std::string_view kind = type->get_string();
  if (kind == "scalar" || kind == "string") {
    const json::value* sample = pair_value(*result);
    if (sample && kind == "string" && sample->is_string()) {
      return {Value::string(std::string(sample->get_string())), {}};
    }
    const auto number = sample ? sample_number(*sample) : std::nullopt;
    if (!number) return {{}, "prometheus: malformed " + std::string(kind)};
    return {Value::number(*number), {}};
  }
  if (kind != "vector") {
    return {{}, "prometheus: resultType " + std::string(kind) +
                    " is not supported (the query must give a scalar or an instant vector)"};
  }
  if (!result->is_array()) return {{}, "prometheus: malformed vector"};
  std::vector<double> numbers;
  for (const json::value& series : result->get_array()) {
    const json::value* value = series.is_object() ? series.get_object().if_contains("value")
                                                  : nullptr;
    const json::value* sample = value ? pair_value(*value) : nullptr;
    const auto number = sample ? sample_number(*sample) : std::nullopt;
    if (!number) return {{}, "prometheus: malformed vector sample"};
    numbers.push_back(*number);
  }
  return {Value::numbers(numbers), {}};
}

/// `{$.x}` (Argo's and kubectl's form) as `$.x`; surrounding whitespace dropped.
std::string_view unbraced(std::string_view path) {
  path = trim(path);
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') {
    path = trim(path.substr(1, path.size() - 2));
  }
  return path;
}

/// Reads `[N]` or `['key']` / `["key"]` at `pos` (just after '[').
std::optional<JsonPath::Step> read_bracket(std::string_view path, size_t& pos) {
  JsonPath::Step b;
  if (pos < path.size() && (path[pos] == '\'' || path[pos] == '"')) {
    const char quote = path[pos];
    const size_t close = path.find(quote, pos + 1);
    if (close == std::string_view::npos) return std::nullopt;
    b.is_key = true;
    b.key = std::string(path.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  } else {
    const size_t close = path.find(']', pos);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view digits = trim(path.substr(pos, close - pos));
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), b.index);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    pos = close;
  }
  if (pos >= path.size() || path[pos] != ']') return std::nullopt;
  ++pos;
  return b;
}

const Value* member(const Value& v, const std::string& key, std::string* error) {
  if (v.type() != Value::Type::Object) {
    *error = "cannot select " + quoted(key) + " of a " + std::string(analysis::type_name(v.type()));
    return nullptr;
  }
  const Value* found = v.find(key);
  if (!found) *error = "no member " + quoted(key);
  return found;
}

const Value* element(const Value& v, long long index, std::string* error) {
  if (v.type() != Value::Type::List) {
    *error = "cannot index a " + std::string(analysis::type_name(v.type()));
    return nullptr;
  }
  const auto size = static_cast<long long>(v.as_list().size());
  const long long at = index < 0 ? size + index : index;
  if (at < 0 || at >= size) {
    *error = "index " + std::to_string(index) + " out of range (" + std::to_string(size) +
             " elements)";
    return nullptr;
  }
  return &v.as_list()[static_cast<size_t>(at)];
}

}  // namespace

HttpCall prometheus_call(const config::PrometheusProvider& p) {
  std::string_view address = p.address;
  while (!address.empty() && address.back() == '/') address.remove_suffix(1);
  HttpCall call;
  call.url = std::string(address) + "/api/v1/query?query=" +
             boost::urls::encode(p.query, boost::urls::unreserved_chars);
  call.headers = provider_headers(p.headers);
  call.timeout = std::chrono::seconds{p.timeout_seconds > 0 ? p.timeout_seconds : 30};
  return call;
}

ProviderResult prometheus_result(const HttpReply& reply) {
  if (!reply.answered()) return {{}, "prometheus: " + reply.error};
  boost::system::error_code ec;
  const json::value body = json::parse(reply.body, ec);
  const json::object* answer = !ec && body.is_object() ? &body.get_object() : nullptr;
  const json::value* status = answer ? answer->if_contains("status") : nullptr;
  if (status && status->is_string() && status->get_string() == "error") {
    const json::value* type = answer->if_contains("errorType");
    const json::value* error = answer->if_contains("error");
    std::string message = "prometheus: ";
    if (type && type->is_string()) message += std::string(type->get_string()) + ": ";
    message += error && error->is_string() ? std::string(error->get_string()) : "query failed";
    return {{}, std::move(message)};
  }
  if (reply.status < 200 || reply.status >= 300) return {{}, "prometheus: " + status_text(reply)};
  const json::value* data = answer ? answer->if_contains("data") : nullptr;
  if (!status || !status->is_string() || status->get_string() != "success" || !data ||
      !data->is_object()) {
    return {{}, "prometheus: malformed answer: " + status_text(reply)};
  }
  return prometheus_data(data->get_object());
}

HttpCall web_call(const config::WebProvider& w) {
  HttpCall call;
  call.method = w.method.empty() ? "GET" : w.method;
  call.url = w.url;
  call.headers = provider_headers(w.headers);
  call.body = w.body;
  call.timeout = std::chrono::seconds{w.timeout_seconds > 0 ? w.timeout_seconds : 10};
  return call;
}

ProviderResult web_result(const HttpReply& reply, std::string_view json_path) {
  if (!reply.answered()) return {{}, reply.error};
  if (!reply.success()) return {{}, "answered " + status_text(reply)};
  return output_result(reply.body, json_path);
}

ProviderResult exec_result(const ExecResult& run, const config::ExecProvider& x) {
  if (!run.exited) return {{}, run.error};
  if (run.exit_code != 0) {
    std::string failed = x.command.front() + " exited with code " + std::to_string(run.exit_code);
    const std::string_view line = trim(std::string_view(run.err).substr(0, run.err.find('\n')));
    if (!line.empty()) failed += ": " + std::string(line);
    return {{}, {}, std::move(failed)};
  }
  return output_result(trim(run.out), x.json_path);
}

ProviderResult output_result(std::string_view output, std::string_view json_path) {
  auto parsed = parse_json_value(output);
  if (!parsed) return {Value::string(std::string(output)), {}};  // whatever the jsonPath, as Argo
  std::string error;
  auto selected = select_json_path(*parsed, json_path, &error);
  if (!selected) return {{}, std::move(error)};
  return {std::move(*selected), {}};
}

std::optional<Value> parse_json_value(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec) return std::nullopt;
  return to_value(v);
}

std::optional<JsonPath> JsonPath::parse(std::string_view text, std::string* error) {
  JsonPath out;
  out.text_ = std::string(text);
  std::string_view path = unbraced(text);
  if (path.empty()) return out;
  const auto fail = [&](std::string why) {
    *error = "jsonPath " + quoted(text) + ": " + why;
    return std::nullopt;
  };
  if (path.front() != '$') return fail("must start with $");
  size_t pos = 1;
  while (pos < path.size()) {
    if (path[pos] == '.') {
      const size_t end = std::min(path.find_first_of(".[", pos + 1), path.size());
      Step step;
      step.is_key = true;
      step.key = std::string(path.substr(pos + 1, end - pos - 1));
      if (step.key.empty()) return fail("empty member name at column " + std::to_string(pos + 1));
      out.steps_.push_back(std::move(step));
      pos = end;
    } else if (path[pos] == '[') {
      ++pos;
      auto step = read_bracket(path, pos);
      if (!step) return fail("malformed [...]");
      out.steps_.push_back(std::move(*step));
    } else {
      return fail("unexpected " + quoted(path.substr(pos, 1)) + " at column " +
                  std::to_string(pos + 1));
    }
  }
  return out;
}

std::optional<Value> JsonPath::select(const Value& root, std::string* error) const {
  const Value* at = &root;
  std::string why;
  for (const Step& step : steps_) {
    at = step.is_key ? member(*at, step.key, &why) : element(*at, step.index, &why);
    if (!at) {
      *error = "jsonPath " + quoted(text_) + ": " + why;
      return std::nullopt;
    }
  }
  return *at;
}

std::optional<Value> select_json_path(const Value& root, std::string_view path,
                                      std::string* error) {
  const auto parsed = JsonPath::parse(path, error);
  if (!parsed) return std::nullopt;
  return parsed->select(root, error);
}

std::string json_path_error(std::string_view path) {
  std::string error;
  return JsonPath::parse(path, &error) ? std::string() : error;
}

}  // namespace vane::control
