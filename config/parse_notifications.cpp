// notifications (SPEC §11) and the header lists that analysis providers share with them.
#include <array>
#include <fstream>
#include <iterator>

#include "config/parse.hpp"
#include "config/validate.hpp"

namespace vane::config {
namespace {

/// A secret in a file is a token or a few lines, not a data file.
constexpr std::size_t kValueFileLimit = 64 * 1024;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

/// `valueFrom: {file: PATH}`: the file's content, surrounding whitespace dropped.
std::optional<std::string> value_from(Reader& r, const Value& v) {
  MapReader m(r, v);
  if (!m.valid()) return std::nullopt;
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

bool parse_notifier(Reader& r, const Value& v, Notifier& out) {
  MapReader m(r, v);
  if (!m.valid()) return false;
  out.mark = v.mark;
  m.get("name", out.name, Presence::Required);
  read_webhook_url(r, m, out.url);
  if (const auto events = m.take("events")) {
    for (const Value& item : r.list(*events)) {
      const auto name = r.string(item);
      if (!name) continue;
      if (const auto trigger = trigger_from_string(*name)) {
        out.events.push_back(*trigger);
      } else {
        r.error(item, "unknown event " + quoted(*name) + " (on-rollout-updated, on-rollout-aborted, …: see docs/api.md)");
      }
    }
  }
  if (const auto rollouts = m.take("rollouts")) {
    for (const Value& item : r.list(*rollouts)) {
      if (const auto name = r.string(item)) out.rollouts.push_back(*name);
    }
  }
  parse_headers(r, m, out.headers);
  if (const auto format = m.take("format")) {
    if (const auto text = r.string(*format)) {
      if (*text == "json") {
        out.format = Notifier::Format::Json;
      } else if (*text == "slack") {
        out.format = Notifier::Format::Slack;
      } else {
        r.error(*format, "must be one of json, slack");
      }
    }
  }
  uint32_t seconds = static_cast<uint32_t>(out.timeout.count());
  if (m.get("timeoutSeconds", seconds, Range{1, 300})) out.timeout = std::chrono::seconds{seconds};
  read_ca_file(r, m, out.tls.ca_file);
  return true;
}

}  // namespace

void read_webhook_url(Reader& r, MapReader& m, std::string& out) {
  const auto url = m.require("url");
  const auto text = url ? r.string(*url) : std::nullopt;
  if (!text) return;
  if (!text->starts_with("http://") && !text->starts_with("https://")) {
    return r.error(*url, "must be an http:// or https:// URL");
  }
  out = *text;
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
    const auto value = h.take("value");
    const auto from = h.take("valueFrom");
    std::optional<std::string> value_text;
    if (value && from) {
      r.error(*from, "give value or valueFrom, not both");
    } else if (value) {
      value_text = r.string(*value);
    } else if (from) {
      value_text = value_from(r, *from);
    } else {
      h.missing("value");
    }
    if (value_text && value_text->find_first_of("\r\n") != std::string::npos) {
      r.error(value ? *value : *from, "a header value cannot hold a line break");
      value_text.reset();
    }
    if (key_text && is_token(*key_text) && value_text) out.push_back({*key_text, *value_text});
  }
}

void parse_notifications(Reader& r, const Value& v, std::vector<Notifier>& out) {
  for (const Value& item : r.list(v)) {
    Notifier notifier;
    if (parse_notifier(r, item, notifier)) out.push_back(std::move(notifier));
  }
}

}  // namespace vane::config
