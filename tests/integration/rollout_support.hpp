// Helpers for the rollout integration tests (SPEC §3, §4, §6, §8): a vane with one rollout `web`
// over upstreams v1/v2/v3 and a state dir of its own, the admin API, traffic counted by side, and
// Prometheus text. Header-only (the integration CMakeLists lists its helper sources explicitly).
// Test thread only.
#pragma once

#include <signal.h>
#include <time.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness.hpp"

namespace vane::it {

namespace json = boost::json;

// ---- admin API -------------------------------------------------------------------------------

/// One admin request on a fresh connection (`Connection: close`; POSTs carry an empty body).
inline Response admin_call(uint16_t admin_port, std::string_view method, std::string_view target,
                           std::string_view token = "", Millis timeout = 5s) {
  RawClient client(admin_port);
  std::string extra = "Connection: close\r\n";
  if (method == "POST") extra += "Content-Length: 0\r\n";
  if (!token.empty()) extra += "Authorization: Bearer " + std::string(token) + "\r\n";
  if (!client.send(request(method, target, "127.0.0.1", extra))) return Response{};
  return client.read_response(timeout);
}

/// The JSON of a body; null when it is not JSON.
inline json::value parse_json(const std::string& body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) return nullptr;
  return value;
}

inline std::string str(const json::value& v) {
  if (!v.is_string()) return "(not a string: " + json::serialize(v) + ")";
  return std::string(v.get_string());
}

/// A JSON number as a double (int64, uint64 or double); NaN for anything else.
inline double num(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nan("");
}

/// A field of an object, or null when the value is not an object or lacks it.
inline json::value field(const json::value& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  const json::value* v = object.get_object().if_contains(key);
  return v ? *v : json::value(nullptr);
}

/// The requests a series point (GET …/series) counts on `side`: its rps, null when none (§12).
inline double series_requests(const json::value& point, std::string_view side) {
  const json::value rps = field(field(point, side), "rps");
  return rps.is_null() ? 0.0 : num(rps);
}

/// GET /api/v1/rollouts/NAME as JSON (null when not a 200 with JSON).
inline json::value rollout_status(uint16_t admin_port, std::string_view name = "web") {
  const Response r = admin_call(admin_port, "GET", "/api/v1/rollouts/" + std::string(name));
  if (r.status != 200) return nullptr;
  return parse_json(r.body);
}

/// A short text for failure messages: phase, step, weights, message.
inline std::string summary(const json::value& status) {
  if (!status.is_object()) return "(no status)";
  std::ostringstream out;
  out << "phase=" << json::serialize(field(status, "phase"))
      << " step=" << json::serialize(field(status, "currentStepIndex"))
      << " weights=" << json::serialize(field(status, "weights"))
      << " stable=" << json::serialize(field(status, "stable"))
      << " canary=" << json::serialize(field(status, "canary"))
      << " aborted=" << json::serialize(field(status, "aborted"))
      << " message=" << json::serialize(field(status, "message"));
  return out.str();
}

/// Polls the STATUS until `condition` holds (true) or `timeout` passes (false); `last` gets the
/// last STATUS seen.
inline bool wait_status(uint16_t admin_port, const std::function<bool(const json::value&)>& condition,
                        json::value& last, Millis timeout = 5s, std::string_view name = "web") {
  return wait_until(
      [&] {
        last = rollout_status(admin_port, name);
        return last.is_object() && condition(last);
      },
      timeout);
}

/// Waits for a phase at a step index; the canary weight too when `canary_weight` >= 0.
inline bool wait_phase(uint16_t admin_port, std::string_view phase, int64_t step, double canary_weight,
                       json::value& last, Millis timeout = 5s) {
  return wait_status(
      admin_port,
      [&](const json::value& s) {
        return str(field(s, "phase")) == phase && num(field(s, "currentStepIndex")) == static_cast<double>(step) &&
               (canary_weight < 0 || num(field(field(s, "weights"), "canary")) == canary_weight);
      },
      last, timeout);
}

/// Waits for a phase, whatever the step.
inline bool wait_for_phase(uint16_t admin_port, std::string_view phase, json::value& last,
                           Millis timeout = 5s) {
  return wait_status(admin_port, [&](const json::value& s) { return str(field(s, "phase")) == phase; },
                     last, timeout);
}

/// Waits until `stable` is the stable version of a Healthy rollout (a completed rollout).
inline bool wait_stable(uint16_t admin_port, std::string_view stable, json::value& last,
                        Millis timeout = 5s) {
  return wait_status(admin_port, [&](const json::value& s) {
    return str(field(s, "phase")) == "Healthy" && str(field(s, "stable")) == stable;
  }, last, timeout);
}

/// An analysis template `success-rate`: the canary's builtin success rate >= 0.95, measured every
/// second on a 3 s window from 2 s after the run starts (a measurement at once would find no
/// canary traffic yet: Inconclusive), three times; one failure fails it.
inline constexpr std::string_view kSuccessRateTemplate = R"(analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        initialDelay: 2s
        interval: 1s
        count: 3
        successCondition: result >= 0.95
        failureLimit: 0
        provider:
          builtin: {metric: success-rate, window: 3s, minRequests: 5}
)";

inline std::string admin_url(uint16_t admin_port) {
  return "http://127.0.0.1:" + std::to_string(admin_port);
}

/// `vane ARGS... --admin URL` to completion.
inline CommandResult vane_cli(uint16_t admin_port, std::vector<std::string> args, Millis timeout = 20s) {
  args.insert(args.begin(), vane_binary());
  args.push_back("--admin");
  args.push_back(admin_url(admin_port));
  return run_command(std::move(args), timeout);
}

/// An RFC 3339 UTC time as vane writes it ("2024-05-01T12:00:30.250Z"); nullopt otherwise.
inline std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  const int fields = std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%3d%c", &tm.tm_year, &tm.tm_mon,
                                 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &zone);
  if (fields != 8 || zone != 'Z') return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t secs = ::timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(millis);
}

// ---- Prometheus text -------------------------------------------------------------------------

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// The samples of a text exposition (comments skipped). Label values must not hold `"` or `,`
/// escapes beyond `\"`, which vane's config names never do.
inline std::vector<Sample> parse_metrics(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t pos = line.find_first_of("{ ");
    if (pos == std::string::npos) continue;
    s.name = line.substr(0, pos);
    if (line[pos] == '{') {
      const size_t end = line.find('}', pos);
      if (end == std::string::npos) continue;
      std::string_view body(line.data() + pos + 1, end - pos - 1);
      while (!body.empty()) {
        const size_t eq = body.find('=');
        if (eq == std::string_view::npos || eq + 1 >= body.size() || body[eq + 1] != '"') break;
        const size_t close = body.find('"', eq + 2);
        if (close == std::string_view::npos) break;
        s.labels[std::string(body.substr(0, eq))] = std::string(body.substr(eq + 2, close - eq - 2));
        body.remove_prefix(std::min(body.size(), close + 2));  // past `",`
      }
      pos = end + 1;
    }
    try {
      s.value = std::stod(line.substr(pos));
    } catch (const std::exception&) {
      continue;
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

/// Sum of the samples named `name` whose labels include every pair of `labels`.
inline double metric_sum(const std::vector<Sample>& samples, std::string_view name,
                         const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      const auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) sum += s.value;
  }
  return sum;
}

inline std::string scrape(uint16_t admin_port) {
  const Response r = admin_call(admin_port, "GET", "/metrics");
  return r.status == 200 ? r.body : std::string();
}

// ---- traffic ---------------------------------------------------------------------------------

/// Responses counted by the upstream that answered (`X-Upstream`); anything but a 200 from an
/// upstream counts under "status N".
struct SideCounts {
  std::map<std::string, int> by_side;
  int total = 0;
  int count(const std::string& side) const {
    const auto it = by_side.find(side);
    return it == by_side.end() ? 0 : it->second;
  }
  std::string describe() const {
    std::string text;
    for (const auto& [side, n] : by_side) text += side + "=" + std::to_string(n) + " ";
    return text + "of " + std::to_string(total);
  }
};

inline std::string side_of(const Response& r) {
  if (r.status != 200 || !r.complete) return "status " + std::to_string(r.status);
  return r.header("X-Upstream").value_or("(no X-Upstream)");
}

/// Sends `n` GETs of `target` on keep-alive connections, pipelined `batch` at a time, with the
/// `extra` header lines; counts the sides. Stops early (counting what is missing as
/// "unanswered") when a connection fails or `budget` runs out.
inline SideCounts send_requests(uint16_t port, int n, std::string_view target = "/split",
                                std::string_view extra = "", int batch = 50, Millis budget = 30s) {
  SideCounts counts;
  const auto deadline = Clock::now() + budget;
  std::unique_ptr<RawClient> client;
  while (counts.total < n && Clock::now() < deadline) {
    if (!client) client = std::make_unique<RawClient>(port);
    const int k = std::min(batch, n - counts.total);
    std::string pipeline;
    for (int i = 0; i < k; ++i) pipeline += request("GET", target, "web.test", extra);
    if (!client->send(pipeline)) break;
    for (int i = 0; i < k; ++i) {
      const Response r = client->read_response();
      ++counts.by_side[side_of(r)];
      ++counts.total;
      if (!r.complete || r.peer_closed) {
        client.reset();  // the rest of this batch is lost: count it and start over
        counts.by_side["unanswered"] += k - i - 1;
        counts.total += k - i - 1;
        break;
      }
    }
  }
  if (counts.total < n) {
    counts.by_side["unanswered"] += n - counts.total;
    counts.total = n;
  }
  return counts;
}

/// One GET of `target` per entry of `extras` (its header lines), pipelined `batch` at a time on
/// keep-alive connections; the responses in order (status 0 for any not received in `budget`).
inline std::vector<Response> send_each(uint16_t port, const std::vector<std::string>& extras,
                                       std::string_view target = "/sticky", size_t batch = 50,
                                       Millis budget = 30s) {
  std::vector<Response> responses;
  const auto deadline = Clock::now() + budget;
  std::unique_ptr<RawClient> client;
  while (responses.size() < extras.size() && Clock::now() < deadline) {
    if (!client) client = std::make_unique<RawClient>(port);
    const size_t first = responses.size();
    const size_t k = std::min(batch, extras.size() - first);
    std::string pipeline;
    for (size_t i = 0; i < k; ++i) pipeline += request("GET", target, "web.test", extras[first + i]);
    if (!client->send(pipeline)) break;
    for (size_t i = 0; i < k; ++i) {
      responses.push_back(client->read_response());
      if (!responses.back().complete || responses.back().peer_closed) {
        client.reset();
        responses.resize(first + k);  // the rest of the batch: never answered
        break;
      }
    }
  }
  responses.resize(extras.size());
  return responses;
}

/// Makes a vane-test-upstream fail (500) `fail_percent`% of its later requests, evenly spread,
/// and wait `delay_ms` before each: a bad canary without changing what clients send.
inline void behave(const TestUpstream& upstream, int fail_percent, int delay_ms = 0) {
  RawClient client(upstream.port());
  const std::string target =
      "/__behave?fail_percent=" + std::to_string(fail_percent) + "&delay_ms=" + std::to_string(delay_ms);
  ASSERT_TRUE(client.send(request("GET", target, "upstream", "Connection: close\r\n")));
  ASSERT_EQ(client.read_response().status, 200);
}

/// One GET with extra header lines on a fresh connection.
inline Response get_with(uint16_t port, std::string_view target, std::string_view extra) {
  RawClient client(port);
  if (!client.send(request("GET", target, "web.test", std::string(extra) + "Connection: close\r\n")))
    return Response{};
  return client.read_response();
}

/// Half-width of a 4.5-sigma band for a binomial share `p` (0–1) of `n` trials, in the same units
/// as p×n: wide enough never to fail by chance (p ≈ 7e-6), narrow enough to catch a wrong split.
inline double binomial_band(double p, int n) {
  return 4.5 * std::sqrt(p * (1 - p) * static_cast<double>(n));
}

// ---- a vane with a rollout -------------------------------------------------------------------

/// `vane run -c DIR/vane.yaml --ready-file DIR/ready.json ARGS...` in a temporary directory of its
/// own (also its working directory). Like the harness's Vane, plus extra arguments and the
/// config path; prints the tail of vane's stderr when the test has failed.
class VaneRun {
 public:
  VaneRun(const std::string& yaml, std::vector<std::string> args) {
    write_file(config_path(), yaml);
    const auto ready = dir_.path() / "ready.json";
    std::vector<std::string> argv{vane_binary(), "run", "-c", config_path().string(), "--ready-file",
                                  ready.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Process>(argv, dir_.path(), dir_.path() / "vane.stdout",
                                         dir_.path() / "vane.stderr");
    json::object info;
    wait_until(
        [&] {
          if (!process_->running()) return true;
          const json::value v = parse_json(read_file(ready));
          if (v.is_object()) info = v.get_object();
          return !info.empty();
        },
        10s);
    if (info.empty() || !info.contains("admin") || !info.at("listeners").is_object())
      throw std::runtime_error("vane did not start; stderr:\n" + log());
    admin_port_ = port_of(info.at("admin"));
    for (const auto& [name, address] : info.at("listeners").get_object())
      listeners_[std::string(name)] = port_of(address);
  }

  ~VaneRun() {
    const int code = process_->exit_code().value_or(0);
    if (code > 128 && code != 128 + SIGKILL) ADD_FAILURE() << "vane died of signal " << code - 128;
    if (::testing::Test::HasFailure()) {
      const std::string text = log();
      std::cerr << "---- vane stderr (last 4 KiB) ----\n"
                << text.substr(text.size() - std::min<size_t>(text.size(), 4096)) << "\n----\n";
    }
  }

  VaneRun(const VaneRun&) = delete;
  VaneRun& operator=(const VaneRun&) = delete;

  uint16_t port(const std::string& listener = "public") const { return listeners_.at(listener); }
  uint16_t admin_port() const { return admin_port_; }
  Process& process() { return *process_; }
  std::filesystem::path config_path() const { return dir_.path() / "vane.yaml"; }
  std::string log() const { return read_file(dir_.path() / "vane.stderr"); }

 private:
  static uint16_t port_of(const json::value& address) {
    const std::string text = str(address);
    return static_cast<uint16_t>(std::stoul(text.substr(text.rfind(':') + 1)));
  }

  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t admin_port_ = 0;
  std::map<std::string, uint16_t> listeners_;
};

/// What varies between the tests' configs. `canary` is the body of `strategy.canary` (stickiness,
/// steps), indented by 8 spaces.
struct RolloutSetup {
  std::string canary = R"(        steps:
          - setWeight: 20
          - pause: {}
)";
  std::string strategy;       ///< the whole body of `strategy:` (indented by 6), e.g. a
                              ///< `blueGreen:` block; empty: `canary:` with `canary` above
  std::string admin_extra;    ///< e.g. `, tokenFile: /x/token`
  std::string listener_extra;  ///< more keys of the listener, e.g. `, protocols: [http1, h2]`
  std::string top_extra;      ///< top-level YAML (limits, analysisTemplates), at column 0
  std::string rollout_extra;  ///< more keys of rollouts[0], indented by 4 spaces
  std::string more;           ///< more routes/rollouts, appended (its own `routes:` items can't
                              ///< go here: see `routes_extra`)
  std::string routes_extra;   ///< more items of `routes:`, indented by 2 spaces
  int workers = 2;
  std::vector<std::string> run_args;  ///< more arguments of `vane run`, e.g. --log-json
  /// More keys of an upstream's flow mapping, by name: {"v2", "maxConnectionsPerEndpoint: 1"}.
  std::map<std::string, std::string> upstream_options;
  std::map<std::string, std::string> endpoints;  ///< upstream name -> address, instead of the
                                                 ///< rig's own vane-test-upstream
};

/// Upstreams v1, v2, v3 (vane-test-upstream) and a state dir; starts vane with desired v1, which
/// a first start makes stable. `set_desired("v2")` starts a canary through a reload. vane runs
/// with --no-watch-config: the tests decide when a reload happens (POST /api/v1/reload, SIGHUP).
class RolloutRig {
 public:
  explicit RolloutRig(RolloutSetup setup = {}) : setup_(std::move(setup)) { start("v1"); }

  std::string yaml(std::string_view desired) const {
    std::string text = R"(listeners:
  - {name: public, address: "127.0.0.1:0"{{listener_extra}}}
admin: {address: "127.0.0.1:0"{{admin_extra}}}
state: {dir: "{{state}}"}
workers: {{workers}}
{{top_extra}}
upstreams:
  - {name: v1, endpoints: ["{{v1}}"]{{v1_options}}}
  - {name: v2, endpoints: ["{{v2}}"]{{v2_options}}}
  - {name: v3, endpoints: ["{{v3}}"]{{v3_options}}}
routes:
  - {name: web, match: {pathPrefix: /}, rollout: web}
{{routes_extra}}
rollouts:
  - name: web
    upstream: {{desired}}
{{rollout_extra}}
    strategy:
{{strategy}}
{{more}}
)";
    return render(text, {{"admin_extra", setup_.admin_extra},
                         {"listener_extra", setup_.listener_extra},
                         {"state", state_.path().string()},
                         {"workers", std::to_string(setup_.workers)},
                         {"top_extra", setup_.top_extra},
                         {"v1", endpoint(v1_)},
                         {"v2", endpoint(v2_)},
                         {"v3", endpoint(v3_)},
                         {"v1_options", options_of("v1")},
                         {"v2_options", options_of("v2")},
                         {"v3_options", options_of("v3")},
                         {"routes_extra", setup_.routes_extra},
                         {"desired", std::string(desired)},
                         {"rollout_extra", setup_.rollout_extra},
                         {"strategy", setup_.strategy.empty() ? "      canary:\n" + setup_.canary
                                                              : setup_.strategy},
                         {"more", setup_.more}});
  }

  /// ", KEYS" for an upstream with upstream_options, else nothing.
  std::string options_of(const std::string& upstream) const {
    const auto it = setup_.upstream_options.find(upstream);
    return it == setup_.upstream_options.end() ? "" : ", " + it->second;
  }

  /// Starts vane on yaml(desired) (a previous one must be gone).
  void start(std::string_view desired) {
    desired_ = std::string(desired);
    std::vector<std::string> args{"--no-watch-config"};
    args.insert(args.end(), setup_.run_args.begin(), setup_.run_args.end());
    vane_ = std::make_unique<VaneRun>(yaml(desired), std::move(args));
  }

  /// SIGKILL, reaped: vane gets no chance to write anything.
  void kill9() {
    vane_->process().signal(SIGKILL);
    vane_->process().wait_exit(5s);
  }

  /// kill -9, then a new vane on the same state dir and the same desired upstream.
  void restart_after_kill() {
    kill9();
    vane_.reset();
    start(desired_);
  }

  std::filesystem::path config_path() const { return vane_->config_path(); }

  /// Rewrites the config with another desired upstream and POSTs /api/v1/reload; the answer.
  Response set_desired(std::string_view desired, std::string_view token = "") {
    desired_ = std::string(desired);
    write_file(config_path(), yaml(desired));
    return admin_call(admin(), "POST", "/api/v1/reload", token);
  }

  uint16_t port() const { return vane_->port(); }
  uint16_t admin() const { return vane_->admin_port(); }
  VaneRun& vane() { return *vane_; }
  const std::filesystem::path& state_dir() const { return state_.path(); }
  TestUpstream& v1() { return v1_; }
  TestUpstream& v2() { return v2_; }
  TestUpstream& v3() { return v3_; }

  json::value status() const { return rollout_status(admin()); }

 private:
  std::string endpoint(const TestUpstream& upstream) const {
    const auto it = setup_.endpoints.find(upstream.name());
    return it == setup_.endpoints.end() ? upstream.address() : it->second;
  }

  RolloutSetup setup_;
  TestUpstream v1_{"v1"}, v2_{"v2"}, v3_{"v3"};
  TempDir state_;
  std::string desired_;
  std::unique_ptr<VaneRun> vane_;
};

/// The rollout "web"'s analysis runs (SPEC §6 RUN objects), newest first.
inline json::array runs_of(const RolloutRig& rig) {
  const Response r = admin_call(rig.admin(), "GET", "/api/v1/analysisruns?rollout=web");
  const json::value runs = field(parse_json(r.body), "analysisRuns");
  return runs.is_array() ? runs.get_array() : json::array{};
}

// ---- lifecycle steps -----------------------------------------------------------------------

inline constexpr std::string_view four_steps = R"(        steps:
          - setWeight: 20
          - pause: {}
          - setWeight: 50
          - pause: {}
)";

/// Canary steps with a timed pause between two weights: it ends by itself after 2 s.
inline constexpr std::string_view kTimedPauseSteps = R"(        steps:
          - setWeight: 20
          - pause: {duration: 2s}
          - setWeight: 50
          - pause: {}
)";

/// Canary steps: setWeight 50, an analysis step (template success-rate), then completion.
constexpr std::string_view kAnalysisSteps = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: success-rate}]
          - setWeight: 80
)";

inline RolloutSetup four_step_setup() {
  RolloutSetup setup;
  setup.canary = std::string(four_steps);
  return setup;
}

/// Starts canary `desired` through a reload and waits for the first pause of four_steps (or of the
/// default steps): step 1 at 20%.
inline void start_first_pause(RolloutRig& rig, std::string_view desired = "v2") {
  const Response reload = rig.set_desired(desired);
  ASSERT_EQ(reload.status, 200) << reload.body;
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 20, s)) << summary(s);
  EXPECT_EQ(str(field(s, "canary")), desired);
}

inline Response post(const RolloutRig& rig, std::string_view what) {
  return admin_call(rig.admin(), "POST", "/api/v1/rollouts/" + std::string(what));
}

/// A POST that must answer `status`; its body's STATUS (null when not JSON).
inline json::value expect_post(const RolloutRig& rig, std::string_view what, int status) {
  const Response r = post(rig, what);
  EXPECT_EQ(r.status, status) << "POST " << what << ": " << r.body << "\nnow: " << summary(rig.status());
  return parse_json(r.body);
}

/// Every one of `n` requests answered by `side`.
inline void expect_all_on(const RolloutRig& rig, const std::string& side, int n = 300) {
  const SideCounts c = send_requests(rig.port(), n);
  EXPECT_EQ(c.count(side), n) << c.describe();
}


}  // namespace vane::it
