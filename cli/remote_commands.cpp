#include "cli/remote_commands.hpp"

#include <cstdio>
#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "cli/command_table.hpp"
#include "cli/status_view.hpp"
#include "config/duration.hpp"
#include "control/json_text.hpp"

namespace vane::cli {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kDefaultAdmin = "http://127.0.0.1:9901";
constexpr const char* kClearScreen = "\x1b[H\x1b[2J";
constexpr milliseconds kWaitInterval{500};
constexpr milliseconds kWatchInterval{1'000};

}  // namespace

std::optional<AdminClient> make_client(const Args& args) {
  std::string token;
  if (args.has("--token-file")) {
    const std::string path = args.get("--token-file");
    auto content = read_token_file(path);
    if (!content) {
      std::cerr << "vane: cannot read token file \"" << path << "\"\n";
      return std::nullopt;
    }
    token = std::move(*content);
  }
  AdminClient client(args.get("--admin", kDefaultAdmin), std::move(token));
  if (!client.url_error().empty()) {
    std::cerr << "vane: --admin: " << client.url_error() << "\n";
    return std::nullopt;
  }
  return client;
}

std::string unreachable(const AdminClient& client, const AdminResult& result) {
  return (result.connected ? "no answer from the admin API at " : "cannot reach the admin API at ") +
         client.base_url() + ": " + result.error;
}

int check(const AdminClient& client, const AdminResult& result, std::ostream& err) {
  if (!result.answered()) {
    err << "vane: " << unreachable(client, result) << "\n";
    return 1;
  }
  if (result.ok()) return 0;
  err << "vane: " << error_message(result);
  if (result.status == 401) err << " (is --token-file the admin token file?)";
  err << "\n";
  return 1;
}

std::optional<json::object> parse_object(const AdminResult& result, std::ostream& err) {
  boost::system::error_code ec;
  json::value value = json::parse(result.body, ec);
  if (ec || !value.is_object()) {
    err << "vane: the admin API answered with malformed JSON\n";
    return std::nullopt;
  }
  return std::move(value.as_object());
}

namespace {

std::string rollout_path(std::string_view name) {
  return "/api/v1/rollouts/" + boost::urls::encode(name, boost::urls::unreserved_chars);
}

/// Polls STATUS (or the list) for `vane status`: once, or on --watch / --wait.
class StatusPoller {
 public:
  StatusPoller(const AdminClient& client, const StatusOptions& options, std::ostream& out,
               std::ostream& err)
      : client_(client), options_(options), out_(out), err_(err),
        deadline_(Clock::now() + options.timeout) {}

  int run() {
    for (int polls = 1;; ++polls) {
      if (auto code = poll(polls == 1)) return *code;
      if (options_.max_polls > 0 && polls >= options_.max_polls) return options_.wait ? 2 : 0;
      if (options_.wait && Clock::now() >= deadline_) return timed_out();
      auto pause = options_.interval;
      if (options_.wait) pause = std::min(pause, remaining());
      std::this_thread::sleep_for(pause);
    }
  }

 private:
  milliseconds remaining() const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    return std::max(left, milliseconds{0});
  }

  /// One request; an exit code once the command is done.
  std::optional<int> poll(bool first) {
    // A request never outlasts --wait's deadline by much, nor 10 s.
    if (options_.wait) {
      client_.set_timeout(std::clamp(remaining(), milliseconds{200}, AdminClient::kDefaultTimeout));
    }
    const AdminResult result =
        client_.get(options_.name.empty() ? "/api/v1/rollouts" : rollout_path(options_.name));
    if (!result.answered() && !first && (options_.watch || options_.wait)) {
      // vane may be restarting: keep polling, and say so.
      if (options_.watch && options_.terminal && !options_.json) out_ << kClearScreen;
      err_ << "vane: " << unreachable(client_, result) << " (retrying)\n";
      return std::nullopt;
    }
    if (check(client_, result, err_) != 0) return 1;
    auto status = parse_object(result, err_);
    if (!status) return 1;
    last_text_ = control::to_text(*status);
    show(*status);
    const auto outcome = judge(*status);
    if (options_.wait && outcome) {
      if (options_.json && !options_.watch) out_ << last_text_ << "\n";
      return *outcome;
    }
    if (!options_.watch && !options_.wait) return 0;
    return std::nullopt;
  }

  void show(const json::object& status) {
    if (options_.json) {
      if (!options_.watch && options_.wait) return;  // --wait --json: the last answer only
      if (options_.watch && last_shown_ == last_text_) return;
      out_ << last_text_ << "\n" << std::flush;
      last_shown_ = last_text_;
    } else if (options_.watch) {
      watch(draw(status));
    } else if (options_.wait) {
      print_changes(status);
    } else {
      out_ << draw(status);
    }
  }

  /// A terminal redraws in place; a pipe or file gets a block only when it differs from the last.
  void watch(const std::string& frame) {
    if (options_.terminal) {
      out_ << kClearScreen << frame << std::flush;
    } else if (frame != last_shown_) {
      out_ << (last_shown_.empty() ? "" : "\n") << frame << std::flush;
    }
    last_shown_ = frame;
  }

  std::string draw(const json::object& status) const {
    if (!options_.name.empty()) return render_status(status);
    const json::value* rollouts = status.if_contains("rollouts");
    if (!rollouts || !rollouts->is_array()) return render_list(json::array{});
    return render_list(rollouts->get_array());
  }

  /// --wait without --watch: a line per rollout whenever its phase, step or message changes.
  void print_changes(const json::object& status) {
    for (const json::object* rollout : rollouts_of(status)) {
      const json::value* name = rollout->if_contains("name");
      const std::string key = name && name->is_string() ? std::string(name->get_string()) : "";
      std::string line = "rollout \"" + key + "\": " + render_summary(*rollout);
      const json::value* message = rollout->if_contains("message");
      if (message && message->is_string() && !message->get_string().empty()) {
        line += " - " + std::string(message->get_string());
      }
      if (last_lines_[key] == line) continue;
      last_lines_[key] = line;
      out_ << line << "\n" << std::flush;
    }
  }

  std::vector<const json::object*> rollouts_of(const json::object& status) const {
    if (!options_.name.empty()) return {&status};
    std::vector<const json::object*> list;
    const json::value* rollouts = status.if_contains("rollouts");
    if (!rollouts || !rollouts->is_array()) return list;
    for (const auto& r : rollouts->get_array()) {
      if (r.is_object()) list.push_back(&r.get_object());
    }
    return list;
  }

  /// 0 once Healthy (every rollout), 1 once Degraded (any), nullopt while in progress.
  std::optional<int> judge(const json::object& status) const {
    bool all_healthy = true;
    for (const json::object* rollout : rollouts_of(status)) {
      const json::value* phase = rollout->if_contains("phase");
      const std::string_view p = phase && phase->is_string() ? std::string_view(phase->get_string()) : "";
      if (p == "Degraded") return 1;
      if (p != "Healthy") all_healthy = false;
    }
    return all_healthy ? std::optional<int>(0) : std::nullopt;
  }

  int timed_out() {
    if (options_.json && !options_.watch && !last_text_.empty()) out_ << last_text_ << "\n";
    const std::string what =
        options_.name.empty() ? "every rollout" : "rollout \"" + options_.name + "\"";
    err_ << "vane: timed out after " << config::format_duration(options_.timeout) << " waiting for "
         << what << " to become Healthy\n";
    return 2;
  }

  AdminClient client_;  ///< a copy: --wait shortens its timeout near the deadline
  const StatusOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  Clock::time_point deadline_;
  std::string last_text_;   ///< the last answer, as to_text writes it
  std::string last_shown_;  ///< what --watch printed last
  std::map<std::string, std::string> last_lines_;
};

/// promote/abort/retry/pause NAME: POST, then one line with the new phase.
/// `args` were checked against the command's table: exactly one NAME.
int run_action(const Args& args, std::string_view action, std::string_view done) {
  const std::string& name = args.positional.front();
  auto client = make_client(args);
  if (!client) return 1;
  std::string target = rollout_path(name) + "/" + std::string(action);
  if (action == "promote" && args.has("--full")) target += "?full=true";
  const AdminResult result = client->post(target);
  if (const int code = check(*client, result, std::cerr); code != 0) return code;
  auto status = parse_object(result, std::cerr);
  if (!status) return 1;
  std::cout << "rollout \"" << name << "\" " << done << ": " << render_summary(*status) << "\n";
  return 0;
}

}  // namespace

int show_status(const AdminClient& client, const StatusOptions& options, std::ostream& out,
                std::ostream& err) {
  return StatusPoller(client, options, out, err).run();
}

int cmd_status(const Args& args) {
  StatusOptions options;
  if (!args.positional.empty()) options.name = args.positional.front();
  options.json = args.has("--json");
  options.watch = args.has("--watch");
  options.terminal = ::isatty(STDOUT_FILENO) == 1;
  options.wait = args.has("--wait");
  if (args.has("--timeout")) {
    const auto& spec = command_spec("status");
    if (!options.wait) return usage_error(spec, "option '--timeout' needs --wait");
    const auto timeout = config::parse_duration(args.get("--timeout"));
    if (!timeout) return usage_error(spec, "option '--timeout': not a duration");
    options.timeout = *timeout;
  }
  options.interval = options.watch ? kWatchInterval : kWaitInterval;
  auto client = make_client(args);
  if (!client) return 1;
  return show_status(*client, options, std::cout, std::cerr);
}

int cmd_promote(const Args& args) {
  const bool full = args.has("--full");
  return run_action(args, "promote", full ? "fully promoted" : "promoted");
}

int cmd_abort(const Args& args) { return run_action(args, "abort", "aborted"); }

int cmd_retry(const Args& args) { return run_action(args, "retry", "retried"); }

int cmd_pause(const Args& args) { return run_action(args, "pause", "paused"); }

int cmd_cluster(const Args& args) {
  auto client = make_client(args);
  if (!client) return 1;
  const AdminResult result = client->get("/api/v1/cluster");
  if (result.answered() && result.status == 404) {
    std::cerr << "vane: this vane runs without a cluster section (single node)\n";
    return 1;
  }
  if (const int code = check(*client, result, std::cerr); code != 0) return code;
  const auto cluster = parse_object(result, std::cerr);
  if (!cluster) return 1;
  if (args.has("--json")) return std::cout << control::to_text(*cluster) << "\n", 0;
  auto text = [](const json::value* v) {
    return v && v->is_string() ? std::string(v->as_string()) : std::string("-");
  };
  const json::value* connected = cluster->if_contains("connected");
  std::cout << "leader " << text(cluster->if_contains("leader")) << ", asked "
            << text(cluster->if_contains("self"))
            << (connected && connected->is_bool() && connected->as_bool() ? ", connected to etcd"
                                                                         : ", NOT connected to etcd")
            << "\n";
  std::printf("%-24s %-32s %-6s %-16s %-10s %s\n", "NAME", "ADMIN", "LEADER", "CONFIG", "STATE REV",
              "LAST SEEN");
  const json::value* members = cluster->if_contains("members");
  if (!members || !members->is_array()) return 0;
  for (const json::value& m : members->as_array()) {
    if (!m.is_object()) continue;
    const auto& o = m.as_object();
    const json::value* leader = o.if_contains("leader");
    const json::value* revision = o.if_contains("stateRevision");
    std::printf("%-24s %-32s %-6s %-16s %-10s %s\n", text(o.if_contains("name")).c_str(),
                text(o.if_contains("admin")).c_str(),
                leader && leader->is_bool() && leader->as_bool() ? "*" : "",
                text(o.if_contains("configDigest")).c_str(),
                revision ? json::serialize(*revision).c_str() : "-",
                text(o.if_contains("lastSeen")).c_str());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace vane::cli
