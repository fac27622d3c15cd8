#include "cli/events_command.hpp"

#include <csignal>
#include <cstdint>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "cli/remote_commands.hpp"
#include "control/json_text.hpp"

namespace vane::cli {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

// A signal handler can only set a flag of static storage: the one global besides the logger.
volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int) { g_stop_signal = 1; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

std::string text_of(const json::object& o, std::string_view key, std::string_view none) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string(none);
  if (v->is_string()) return std::string(v->get_string());
  return control::to_text(*v);
}

std::optional<std::int64_t> id_of(const json::object& event) {
  const json::value* id = event.if_contains("id");
  if (!id || !id->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const auto n = id->to_number<std::int64_t>(ec);
  return ec ? std::nullopt : std::optional<std::int64_t>(n);
}

std::string padded(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

/// Reads the trail, then (--follow) what is new since the last event printed.
class EventsReader {
 public:
  EventsReader(const AdminClient& client, const EventsOptions& options, std::ostream& out,
               std::ostream& err)
      : client_(client), options_(options), out_(out), err_(err) {}

  int run(const std::function<bool()>& stopped) {
    for (int polls = 1;; ++polls) {
      if (auto code = poll(polls == 1)) return *code;
      if (!options_.follow || (options_.max_polls > 0 && polls >= options_.max_polls)) return 0;
      if (stopped()) return 0;
      std::this_thread::sleep_for(options_.interval);
      if (stopped()) return 0;
    }
  }

 private:
  std::string target() const {
    std::string query;
    if (!options_.name.empty()) {
      query += "rollout=" + boost::urls::encode(options_.name, boost::urls::unreserved_chars);
    }
    if (last_id_) query += (query.empty() ? "" : "&") + ("since=" + std::to_string(*last_id_));
    return "/api/v1/events" + (query.empty() ? "" : "?" + query);
  }

  /// One request; an exit code once the command is done.
  std::optional<int> poll(bool first) {
    const AdminResult result = client_.get(target());
    if (!result.answered() && !first) {  // vane may be restarting: say so once, keep polling
      if (!retrying_) err_ << "vane: " << unreachable(client_, result) << " (retrying)\n";
      retrying_ = true;
      return std::nullopt;
    }
    retrying_ = false;
    if (check(client_, result, err_) != 0) return 1;
    const auto answer = parse_object(result, err_);
    if (!answer) return 1;
    const json::value* events = answer->if_contains("events");
    if (!events || !events->is_array()) {
      err_ << "vane: the admin API's answer has no \"events\" list\n";
      return 1;
    }
    for (const json::value& event : events->get_array()) {
      if (event.is_object()) print(event.get_object());
    }
    out_ << std::flush;
    return options_.follow ? std::nullopt : std::optional<int>(0);
  }

  void print(const json::object& event) {
    const auto id = id_of(event);
    if (id && last_id_ && *id <= *last_id_) return;  // already printed
    if (id) last_id_ = id;
    out_ << (options_.json ? control::to_text(event) : event_line(event)) << "\n";
  }

  const AdminClient& client_;
  const EventsOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::optional<std::int64_t> last_id_;
  bool retrying_ = false;
};

}  // namespace

std::string event_line(const json::object& event) {
  std::string line = padded(text_of(event, "id", "-"), 6) + " " + padded(text_of(event, "time", "-"), 24) +
                     " " + padded(text_of(event, "event", "-"), 28) + " " +
                     padded(text_of(event, "rollout", "-"), 12) + " " + text_of(event, "message", "");
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

int show_events(const AdminClient& client, const EventsOptions& options, std::ostream& out,
                std::ostream& err, const std::function<bool()>& stopped) {
  return EventsReader(client, options, out, err).run(stopped);
}

int cmd_events(const Args& args) {
  EventsOptions options;
  if (!args.positional.empty()) options.name = args.positional.front();
  options.json = args.has("--json");
  options.follow = args.has("--follow");
  auto client = make_client(args);
  if (!client) return 1;
  if (options.follow) install_stop_handlers();
  return show_events(*client, options, std::cout, std::cerr, [] { return g_stop_signal != 0; });
}

}  // namespace vane::cli
