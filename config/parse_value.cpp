// Values that may come from a file (SPEC §5): headers of providers and notifiers, and analysis
// args. `valueFrom: {file: PATH}` is read while loading, so a reload rereads it.
#include <array>
#include <fstream>
#include <utility>

#include "config/parse.hpp"

namespace vane::config {
namespace {

/// A secret in a file is a token or a few lines, not a data file.
constexpr std::size_t kValueFileLimit = 64 * 1024;

/// Argo's other sources of a value, each refused with what to write instead.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kArgoSources{{
    {"secretKeyRef",
     "a Kubernetes Secret reaches vane as a mounted file: use valueFrom: {file: PATH}"},
    {"podTemplateHashValue", "vane runs no pods: give the value, or valueFrom: {file: PATH}"},
    {"fieldRef", "vane runs no pods: give the value, or valueFrom: {file: PATH}"},
}};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// A value as written (`value`) or read from a file (`valueFrom`), and where it was given.
struct GivenValue {
  std::optional<std::string> text;  ///< nullopt: none (reported)
  std::optional<Value> at;
};

/// Either `value` or `valueFrom` of `m`; a missing one is reported.
GivenValue value_or_file(Reader& r, MapReader& m) {
  const auto value = m.take("value");
  const auto from = m.take("valueFrom");
  if (value && from) {
    r.error(*from, "give value or valueFrom, not both");
    return {std::nullopt, from};
  }
  if (value) return {r.string(*value), value};
  if (from) return {value_from(r, *from), from};
  m.missing("value");
  return {};
}

}  // namespace

std::optional<std::string> value_from(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
  bool refused = false;
  for (const auto& [key, instead] : kArgoSources) {
    if (const auto source = m.take(key)) {
      r.error(*source, std::string(instead));
      refused = true;
    }
  }
  if (refused) return std::nullopt;
  const auto file = m.require("file");
  const auto path = file ? r.string(*file) : std::nullopt;
  if (!path) return std::nullopt;
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    r.error(*file, "cannot read " + *path);
    return std::nullopt;
  }
  std::string text(kValueFileLimit + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kValueFileLimit) {
    r.error(*file, *path + " is larger than 64 KiB");
    return std::nullopt;
  }
  return std::string(trim(text));
}

void parse_headers(Reader& r, MapReader& m, std::vector<KeyValue>& out) {
  const auto headers = m.take("headers");
  if (!headers) return;
  for (const Value& item : r.list(*headers)) {
    MapReader h(r, item);
    if (!h.valid()) continue;
    const auto key = h.require("key");
    const auto key_text = key ? r.string(*key) : std::nullopt;
    if (key_text && !is_token(*key_text)) r.error(*key, "must be a valid header name");
    GivenValue value = value_or_file(r, h);
    if (value.text && value.text->find_first_of("\r\n") != std::string::npos) {
      r.error(*value.at, "a header value cannot hold a line break");
      value.text.reset();
    }
    if (key_text && is_token(*key_text) && value.text) out.push_back({*key_text, *value.text});
  }
}

void parse_arg(Reader& r, const Value& v, Presence value, std::vector<Arg>& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  Arg arg;
  m.get("name", arg.name, Presence::Required);
  if (value == Presence::Required || m.has("value") || m.has("valueFrom")) {
    // "" after a reported problem: the load fails anyway, without a follow-up "needs arg".
    arg.value = value_or_file(r, m).text.value_or("");
  }
  out.push_back(std::move(arg));
}

}  // namespace vane::config
