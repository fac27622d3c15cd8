#include "cli/status_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <boost/json/serialize.hpp>

namespace vane::cli {
namespace {

namespace json = boost::json;

constexpr std::size_t kLabelWidth = 17;  // "Header routes:   " — the value column

// --- reading fields that may be missing or null -----------------------------------------------

const json::value* field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

std::string_view text(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}

bool flag(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_bool() && v->get_bool();
}

const json::object* object_at(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

const json::array* array_at(const json::object& o, std::string_view key) {
  const json::value* v = field(o, key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}

/// A JSON number with at most two decimals and no trailing zeros ("50", "12.5"); "-" otherwise.
std::string number(const json::value* v) {
  if (!v || !v->is_number()) return "-";
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  const double d = v->get_double();
  if (!std::isfinite(d)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", d);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string number_at(const json::object& o, std::string_view key) { return number(field(o, key)); }

// --- layout -------------------------------------------------------------------------------------

/// Columns a string takes on a terminal: one per UTF-8 code point (the symbols are narrow).
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string pad(std::string_view s, std::size_t columns) {
  std::string out(s);
  const std::size_t w = width(s);
  if (w < columns) out.append(columns - w, ' ');
  return out;
}

/// "Label:           value\n"; an empty label continues the previous field.
void line(std::string& out, std::string_view label, std::string_view value, std::size_t indent = 0) {
  std::string head(indent, ' ');
  if (!label.empty()) head += std::string(label) + ":";
  std::string row = pad(head, kLabelWidth) + std::string(value);
  while (!row.empty() && row.back() == ' ') row.pop_back();
  out += row + "\n";
}

std::string with_symbol(std::string_view phase) {
  if (phase.empty()) return "-";
  return std::string(phase_symbol(phase)) + " " + std::string(phase);
}

std::string step_text(const json::object& status) {
  return number_at(status, "currentStepIndex") + "/" + number_at(status, "stepCount");
}

bool is_canary(const json::object& status) { return text(status, "strategy") != "blueGreen"; }

// --- parts of a rollout ---------------------------------------------------------------------

std::string weights_text(const json::object* weights) {
  if (!weights) return "-";
  return "stable " + number_at(*weights, "stable") + "%, canary " + number_at(*weights, "canary") + "%";
}

/// Blue-green: the gate it waits on, where the preview route goes, the auto-promotion.
void render_blue_green(std::string& out, const json::object& status) {
  const json::object* bg = object_at(status, "blueGreen");
  if (!bg) return;
  const std::string_view waiting = text(*bg, "waitingFor");
  std::string gate = waiting.empty() ? "-" : std::string(waiting);
  if (const auto at = text(*bg, "autoPromotionAt"); !at.empty()) gate += " at " + std::string(at);
  line(out, "Waiting for", gate, 2);
  if (const auto route = text(*bg, "previewRoute"); !route.empty()) {
    const std::string_view preview = text(*bg, "preview");
    const std::string_view target = preview.empty() ? text(*bg, "active") : preview;
    line(out, "Preview route", std::string(route) + " -> " + std::string(target), 2);
  }
  const json::value* enabled = field(*bg, "autoPromotionEnabled");
  std::string promotion = "on promote";
  if (!enabled || (enabled->is_bool() && enabled->get_bool())) {
    promotion = number_at(*bg, "autoPromotionSeconds") + "s after the preview is ready";
  }
  line(out, "Promotion", promotion, 2);
}

void render_strategy(std::string& out, const json::object& status) {
  line(out, "Strategy", is_canary(status) ? "Canary" : "BlueGreen");
  if (is_canary(status)) {
    std::string step = step_text(status);
    if (const auto current = text(status, "currentStep"); !current.empty()) {
      step += " (" + std::string(current) + ")";
    }
    line(out, "Step", step, 2);
  } else {
    render_blue_green(out, status);
  }
  line(out, "Weights", weights_text(object_at(status, "weights")), 2);
  const json::object* measured = object_at(status, "measuredWeights");
  line(out, "Measured", measured ? weights_text(measured) + " (last 60s)" : "-", 2);
}

void render_upstreams(std::string& out, const json::object& status) {
  const bool canary = is_canary(status);
  const std::string_view stable = text(status, "stable");
  const std::string_view preview = text(status, "canary");
  const std::string_view desired = text(status, "desired");
  std::vector<std::string> rows;
  if (!stable.empty()) rows.push_back(std::string(stable) + (canary ? " (stable)" : " (active)"));
  if (!preview.empty()) rows.push_back(std::string(preview) + (canary ? " (canary)" : " (preview)"));
  if (!desired.empty() && desired != stable && desired != preview) {
    rows.push_back(std::string(desired) + " (desired)");
  }
  if (const json::object* bg = object_at(status, "blueGreen")) {
    if (const auto previous = text(*bg, "previousActive"); !previous.empty()) {
      const std::string_view until = text(*bg, "scaleDownAt");
      rows.push_back(std::string(previous) + " (previous active, kept warm" +
                     (until.empty() ? std::string(")") : " until " + std::string(until) + ")"));
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) line(out, i == 0 ? "Upstreams" : "", rows[i]);
}

void render_pause_and_abort(std::string& out, const json::object& status) {
  const std::string_view since = text(status, "pausedSince");
  const std::string_view until = text(status, "pauseUntil");
  if (!since.empty() || !until.empty()) {
    std::string pause = since.empty() ? "" : "since " + std::string(since);
    if (!until.empty()) pause += (pause.empty() ? "until " : ", until ") + std::string(until);
    else if (text(status, "phase") == "Paused") pause += " (until promoted)";
    line(out, "Paused", pause);
  }
  if (flag(status, "aborted")) {
    const std::string_view reason = text(status, "abortReason");
    line(out, "Aborted", reason.empty() ? "yes" : reason);
  }
}

/// `{"exact": "yes"}` -> `exact "yes"`; anything else as compact JSON.
std::string string_match(const json::value& v) {
  if (v.is_object() && v.get_object().size() == 1) {
    const auto& [kind, value] = *v.get_object().begin();
    if (value.is_string()) return std::string(kind) + " " + json::serialize(value);
  }
  return json::serialize(v);
}

/// One match entry (its conditions AND): `X-Beta exact "yes", path prefix "/api"`.
std::string match_entry(const json::value& entry) {
  if (!entry.is_object()) return json::serialize(entry);
  const json::object& o = entry.get_object();
  std::vector<std::string> parts;
  if (const auto name = text(o, "headerName"); !name.empty()) {
    const json::value* value = field(o, "headerValue");
    parts.push_back(std::string(name) + (value ? " " + string_match(*value) : ""));
  }
  for (const auto& [key, value] : o) {
    if (key == "headerName" || key == "headerValue") continue;
    if (key == "headers" && value.is_object()) {
      for (const auto& [name, match] : value.get_object()) {
        parts.push_back(std::string(name) + " " + string_match(match));
      }
    } else {
      parts.push_back(std::string(key) + " " + string_match(value));
    }
  }
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : ", ") + part;
  return joined;
}

void render_routes(std::string& out, std::string_view label, const json::array* routes) {
  if (!routes || routes->empty()) return;
  bool first = true;
  for (const auto& route : *routes) {
    if (!route.is_object()) continue;
    const json::object& r = route.get_object();
    std::string head(text(r, "name"));
    if (field(r, "percentage")) head += " " + number_at(r, "percentage") + "%";
    if (flag(r, "suspended")) head += " (suspended: canary has no healthy endpoint)";
    line(out, first ? label : "", head);
    first = false;
    if (const json::array* match = array_at(r, "match")) {
      for (const auto& entry : *match) line(out, "", "  " + match_entry(entry));
    }
  }
}

// --- analysis runs ----------------------------------------------------------------------------

std::string last_value(const json::object& metric) {
  const json::array* measurements = array_at(metric, "measurements");
  if (!measurements || measurements->empty() || !measurements->back().is_object()) return "";
  const std::string_view value = text(measurements->back().get_object(), "value");
  return value.empty() ? "" : "  last " + std::string(value);
}

void render_metric(std::string& out, const json::object& metric, std::size_t name_width) {
  std::string row = "    " + pad(text(metric, "name"), name_width - 2) +
                    pad(with_symbol(text(metric, "phase")), 16);
  for (const char* key : {"successful", "failed", "inconclusive", "error"}) {
    row += pad(number_at(metric, key), 5);
  }
  while (!row.empty() && row.back() == ' ') row.pop_back();
  row += last_value(metric);
  if (flag(metric, "dryRun")) row += "  (dry run)";
  out += row + "\n";
  if (const auto message = text(metric, "message"); !message.empty()) {
    out += "      " + std::string(message) + "\n";
  }
}

std::size_t run_name_width(const json::array& runs) {
  std::size_t w = 20;
  for (const auto& run : runs) {
    if (!run.is_object()) continue;
    w = std::max(w, width(text(run.get_object(), "name")) + 2);
    if (const json::array* metrics = array_at(run.get_object(), "metrics")) {
      for (const auto& m : *metrics) {
        if (m.is_object()) w = std::max(w, width(text(m.get_object(), "name")) + 4);
      }
    }
  }
  return w;
}

void render_runs(std::string& out, const json::array* runs) {
  if (!runs || runs->empty()) return;
  const std::size_t name_width = run_name_width(*runs);
  out += "Analysis runs:\n";
  out += "  " + pad("NAME", name_width) + pad("STATUS", 16) + "✔    ✖    ?    ⚠\n";
  for (const auto& run_value : *runs) {
    if (!run_value.is_object()) continue;
    const json::object& run = run_value.get_object();
    std::string row = "  " + pad(text(run, "name"), name_width) + with_symbol(text(run, "phase"));
    if (flag(run, "terminated")) row += " (terminated)";
    out += row + "\n";
    if (const auto message = text(run, "message"); !message.empty()) {
      out += "      " + std::string(message) + "\n";
    }
    if (const json::array* metrics = array_at(run, "metrics")) {
      for (const auto& m : *metrics) {
        if (m.is_object()) render_metric(out, m.get_object(), name_width);
      }
    }
  }
}

}  // namespace

std::string_view phase_symbol(std::string_view phase) {
  if (phase == "Healthy" || phase == "Successful") return "✔";
  if (phase == "Progressing" || phase == "Running") return "◌";
  if (phase == "Paused") return "॥";
  if (phase == "Degraded" || phase == "Failed") return "✖";
  if (phase == "Error") return "⚠";
  if (phase == "Inconclusive") return "?";
  if (phase == "Pending") return "◷";
  return "•";
}

std::string render_summary(const json::object& status) {
  const std::string_view phase = text(status, "phase");
  std::string out(phase.empty() ? "Unknown" : phase);
  const bool in_progress = phase == "Progressing" || phase == "Paused";
  if (is_canary(status) && in_progress && field(status, "stepCount")) {
    out += ", step " + step_text(status);
    if (const auto current = text(status, "currentStep"); !current.empty()) {
      out += " (" + std::string(current) + ")";
    }
  }
  const json::object* bg = object_at(status, "blueGreen");
  if (!is_canary(status) && in_progress && bg) {
    if (const auto waiting = text(*bg, "waitingFor"); !waiting.empty()) {
      out += ", waiting for " + std::string(waiting);
    }
  }
  return out;
}

std::string render_status(const json::object& status) {
  std::string out;
  line(out, "Name", text(status, "name"));
  line(out, "Status", with_symbol(text(status, "phase")));
  if (const auto message = text(status, "message"); !message.empty()) line(out, "Message", message);
  render_strategy(out, status);
  render_upstreams(out, status);
  render_pause_and_abort(out, status);
  render_routes(out, "Header routes", array_at(status, "headerRoutes"));
  render_routes(out, "Mirror routes", array_at(status, "mirrorRoutes"));
  render_runs(out, array_at(status, "analysisRuns"));
  return out;
}

std::string render_list(const json::array& rollouts) {
  if (rollouts.empty()) return "No rollouts.\n";
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "STRATEGY", "PHASE", "STEP", "WEIGHT", "STABLE", "CANARY"});
  for (const auto& value : rollouts) {
    if (!value.is_object()) continue;
    const json::object& r = value.get_object();
    const json::object* weights = object_at(r, "weights");
    const std::string_view canary = text(r, "canary");
    rows.push_back({std::string(text(r, "name")), std::string(text(r, "strategy")),
                    with_symbol(text(r, "phase")), is_canary(r) ? step_text(r) : "-",
                    weights ? number_at(*weights, "canary") : "-", std::string(text(r, "stable")),
                    canary.empty() ? "-" : std::string(canary)});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string text_row;
    for (std::size_t i = 0; i < row.size(); ++i) {
      text_row += i + 1 < row.size() ? pad(row[i], widths[i] + 2) : row[i];
    }
    out += text_row + "\n";
  }
  return out;
}

}  // namespace vane::cli
