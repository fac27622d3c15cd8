// notifications (SPEC §11).

#include "config/parse.hpp"
#include "config/validate.hpp"

namespace vane::config {
namespace {

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

void parse_notifications(Reader& r, const Value& v, std::vector<Notifier>& out) {
  for (const Value& item : r.list(v)) {
    Notifier notifier;
    if (parse_notifier(r, item, notifier)) out.push_back(std::move(notifier));
  }
}

}  // namespace vane::config
