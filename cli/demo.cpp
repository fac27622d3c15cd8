// `vane demo`: a live canary on loopback with built-in upstreams and a built-in load, so a
// first-time user sees a rollout walk its steps with no config. The demo drives vane as an
// operator would: it edits the config file, reloads, and reads status from the admin API.
// With --experiment a third act shows an experiment step (SPEC §14) on a second rollout.
// Main thread plus the server's and the load's threads.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include "cli/admin_client.hpp"
#include "cli/command_line.hpp"
#include "control/config_checks.hpp"
#include "cli/demo_upstream.hpp"
#include "proxy/log.hpp"
#include "control/server.hpp"

namespace vane::cli {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;

/// The demo's config: one rollout `shop` over the three versions, judged by `canary-health`.
/// The experiment act's rollout `catalog` (host catalog.demo): an analysis step compares the
/// canary's mean latency with the warm stable's, then an experiment with the same template
/// compares it with a fresh baseline's over the same window.
std::string experiment_config(const std::string& desired) {
  return "  - name: catalog\n"
         "    upstream: " + desired + "\n"
         "    strategy:\n"
         "      canary:\n"
         "        steps:\n"
         "          - setWeight: 20\n"
         "          - analysis:\n"
         "              templates: [{templateName: latency-vs-baseline}]\n"
         "              args: [{name: tolerance, value: \"1.1\"}]\n"
         "          - experiment:\n"
         "              name: fresh-baseline\n"
         "              templates:\n"
         "                - {name: baseline, upstream: catalog-v1-baseline, weight: 20}\n"
         "                - {name: canary, specRef: canary, weight: 20}\n"
         "              analyses:\n"
         "                - name: latency\n"
         "                  templateName: latency-vs-baseline\n"
         "                  args: [{name: tolerance, value: \"1.1\"}]\n"
         "          - setWeight: 50\n";
}

/// The template of the experiment act: mean latency within `tolerance` times the baseline's.
constexpr std::string_view kLatencyTemplate =
    "  - name: latency-vs-baseline\n"
    "    args: [{name: tolerance}]\n"
    "    metrics:\n"
    "      - name: latency-mean\n"
    "        initialDelay: 2s\n"
    "        interval: 1s\n"
    "        count: 3\n"
    "        successCondition: result <= baseline * {{args.tolerance}}\n"
    "        failureLimit: 0\n"
    "        provider: {builtin: {metric: latency-mean, window: 3s, minRequests: 20}}\n";

/// `catalog`: the experiment act's desired version; empty without --experiment.
std::string demo_config(const std::map<std::string, uint16_t>& ports, const std::string& desired,
                        int pause, const std::string& state_dir, const std::string& catalog = "") {
  std::string upstreams;
  for (const auto& [name, port] : ports) {
    upstreams += "  - {name: " + name + ", endpoints: [\"127.0.0.1:" + std::to_string(port) + "\"]}\n";
  }
  const bool experiment = !catalog.empty();
  return "listeners: [{name: demo, address: \"127.0.0.1:0\"}]\n"
         "admin: {address: \"127.0.0.1:0\"}\n"
         "state: {dir: \"" + state_dir + "\"}\n"
         "workers: 1\n"
         "upstreams:\n" + upstreams +
         "routes:\n"
         "  - {name: shop, match: {pathPrefix: /}, rollout: shop}\n" +
         std::string(experiment ? "  - {name: catalog, match: {host: catalog.demo}, rollout: catalog}\n" : "") +
         "analysisTemplates:\n"
         "  - name: canary-health\n"
         "    metrics:\n"
         "      - name: success-rate\n"
         "        initialDelay: 2s\n"
         "        interval: 1s\n"
         "        count: 3\n"
         "        successCondition: result >= 0.95\n"
         "        provider: {builtin: {metric: success-rate, window: 3s, minRequests: 20}}\n"
         "      - name: latency-p95\n"
         "        initialDelay: 2s\n"
         "        interval: 1s\n"
         "        count: 3\n"
         "        successCondition: result <= baseline + 0.05\n"
         "        provider: {builtin: {metric: latency-p95, window: 3s, minRequests: 20}}\n" +
         std::string(experiment ? kLatencyTemplate : "") +
         "rollouts:\n"
         "  - name: shop\n"
         "    upstream: " + desired + "\n"
         "    strategy:\n"
         "      canary:\n"
         "        steps:\n"
         "          - setWeight: 20\n"
         "          - analysis: {templates: [{templateName: canary-health}]}\n"
         "          - setWeight: 50\n"
         "          - pause: {duration: " + std::to_string(pause) + "s}\n"
         "          - setWeight: 80\n"
         "          - analysis: {templates: [{templateName: canary-health}]}\n" +
         (experiment ? experiment_config(catalog) : "");
}

/// Answers counted by the version that served them, shared by the load and the printer.
struct Tally {
  std::mutex mutex;
  std::map<std::string, uint64_t> by_version;
  uint64_t failed = 0;
};

/// Keep-alive GETs of http://host:port/products with Host `authority`, counted in `tally`.
void load(const std::string& host, const std::string& port, std::atomic<bool>& stop, Tally& tally,
          const std::string& authority) {
  boost::asio::io_context io;
  while (!stop) {
    beast::tcp_stream stream(io);
    beast::error_code ec;
    boost::asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, port, ec), ec);
    beast::flat_buffer buffer;
    for (int i = 0; i < 1000 && !stop && !ec; ++i) {
      bhttp::request<bhttp::empty_body> request{bhttp::verb::get, "/products", 11};
      request.set(bhttp::field::host, authority);
      bhttp::write(stream, request, ec);
      bhttp::response<bhttp::string_body> response;
      if (!ec) bhttp::read(stream, buffer, response, ec);
      std::lock_guard lock(tally.mutex);
      if (ec || response.result_int() >= 500) {
        ++tally.failed;
        break;
      }
      ++tally.by_version[std::string(response["X-Upstream"])];
      std::this_thread::sleep_for(std::chrono::milliseconds(8));  // a few hundred req/s in all
    }
    if (ec) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string number(const json::value& v) {
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_double()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v.as_double());
    return buf;
  }
  return "-";
}

std::string text_of(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

/// One progress line from a STATUS answer and the tally.
std::string progress_line(const json::object& status, Tally& tally, double seconds) {
  char head[32];
  std::snprintf(head, sizeof head, "t=%5.1fs  ", seconds);
  std::string line = head + std::string(status.at("phase").as_string());
  const auto& step = status.at("currentStep");
  line += "  step " + number(status.at("currentStepIndex")) + "/" + number(status.at("stepCount"));
  if (step.is_string()) line += " (" + std::string(step.as_string()) + ")";
  const auto& weights = status.at("weights").as_object();
  line += "  weights stable/canary " + number(weights.at("stable")) + "/" + number(weights.at("canary"));
  if (const json::value* e = status.if_contains("experiment"); e && e->is_object()) {
    line += "  experiment " + text_of(e->as_object(), "name") + ":";
    for (const auto& t : e->as_object().at("templates").as_array()) {
      line += " " + text_of(t.as_object(), "name") + "=" + number(t.as_object().at("weight"));
    }
  }
  std::lock_guard lock(tally.mutex);
  line += "  served:";
  for (const auto& [name, count] : tally.by_version) line += " " + name + "=" + std::to_string(count);
  if (tally.failed > 0) line += " failed=" + std::to_string(tally.failed);
  return line;
}

/// Prints the measurements and run verdicts of STATUS's analysis runs not printed before.
void print_analysis(const json::object& status, std::set<std::string>& printed) {
  const json::value* runs = status.if_contains("analysisRuns");
  if (!runs || !runs->is_array()) return;
  for (auto it = runs->as_array().rbegin(); it != runs->as_array().rend(); ++it) {  // oldest first
    if (!it->is_object()) continue;
    const json::object& run = it->as_object();
    const std::string name = text_of(run, "name");
    if (const json::value* metrics = run.if_contains("metrics"); metrics && metrics->is_array()) {
      for (const auto& metric : metrics->as_array()) {
        const json::value* ms = metric.as_object().if_contains("measurements");
        if (!ms || !ms->is_array()) continue;
        for (const auto& m : ms->as_array()) {
          const json::object& measurement = m.as_object();
          const std::string key = name + "/" + text_of(metric.as_object(), "name") + "/" +
                                  text_of(measurement, "startedAt");
          if (text_of(measurement, "finishedAt").empty() || !printed.insert(key).second) continue;
          std::cout << "          measured " << text_of(metric.as_object(), "name") << " = "
                    << text_of(measurement, "value") << "  " << text_of(measurement, "phase") << "\n";
        }
      }
    }
    const std::string phase = text_of(run, "phase");
    if (phase == "Running" || phase == "Pending" || !printed.insert(name + "/" + phase).second) continue;
    std::cout << "          analysis run " << name << ": " << phase;
    if (const std::string message = text_of(run, "message"); !message.empty()) std::cout << " (" << message << ")";
    std::cout << "\n";
  }
}

/// Prints progress until `ended` holds for the rollout's STATUS or `limit` passes; whether it held.
bool follow(AdminClient& admin, Tally& tally, std::chrono::seconds limit,
            const std::function<bool(const json::object&)>& ended,
            const std::string& rollout = "shop") {
  const auto started = std::chrono::steady_clock::now();
  std::set<std::string> printed;
  while (std::chrono::steady_clock::now() - started < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto answer = admin.get("/api/v1/rollouts/" + rollout);
    if (!answer.ok()) continue;
    const auto status = json::parse(answer.body).as_object();
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << progress_line(status, tally, t) << "\n";
    print_analysis(status, printed);
    std::cout << std::flush;
    if (ended(status)) return true;
  }
  return false;
}

void reset(Tally& tally) {
  std::lock_guard lock(tally.mutex);
  tally.by_version.clear();
  tally.failed = 0;
}

/// Act 3 (--experiment): catalog-v2 passes an analysis against the warm stable, then an
/// experiment catches it against a fresh baseline; whether it ended aborted that way.
/// `count` keep-alive clients sending to `address` (HOST:PORT) with Host `host` until `stop`.
std::vector<std::thread> start_load(int count, const std::string& address, std::atomic<bool>& stop,
                                    Tally& tally, const char* host) {
  const auto colon = address.rfind(':');
  std::vector<std::thread> clients;
  for (int i = 0; i < count; ++i) {
    clients.emplace_back(load, address.substr(0, colon), address.substr(colon + 1), std::ref(stop),
                         std::ref(tally), host);
  }
  return clients;
}

bool experiment_act(AdminClient& admin, const std::string& address,
                    const std::function<void(const std::string&)>& set_desired) {
  std::cout << "\nAct 3: a second rollout, catalog. Its stable catalog-v1 has run warm for a "
               "while and answers in 40 ms; a fresh copy of it (catalog-v1-baseline) answers in "
               "30 ms. The desired version becomes catalog-v2, 39 ms: 30% slower than the fresh "
               "copy, yet within 1.1 x the warm stable. Both judgements use `result <= baseline * "
               "1.1` over the mean latency:\n";
  std::atomic<bool> stop{false};
  Tally tally;
  std::vector<std::thread> clients = start_load(6, address, stop, tally, "catalog.demo");
  set_desired("catalog-v2");
  const bool aborted = follow(admin, tally, std::chrono::seconds(40), [](const json::object& s) {
    return s.at("phase").as_string() == "Degraded" || s.at("phase").as_string() == "Healthy";
  }, "catalog");
  stop = true;
  for (auto& client : clients) client.join();
  const auto answer = admin.get("/api/v1/rollouts/catalog");
  if (!aborted || !answer.ok()) {
    std::cout << "\nact 3 did not end.\n";
    return false;
  }
  const auto status = json::parse(answer.body).as_object();
  const std::string reason = text_of(status, "abortReason");
  const bool caught = text_of(status, "phase") == "Degraded" &&
                      reason.find("experiment fresh-baseline") != std::string::npos;
  std::cout << (caught ? "\nThe analysis against the warm stable passed (step 1); the experiment "
                         "against the fresh baseline caught catalog-v2 and vane aborted it: "
                       : "\nact 3 did not end with the experiment catching catalog-v2: ")
            << (reason.empty() ? text_of(status, "message") : reason) << "\n";
  return caught;
}

}  // namespace

int run_demo(const Args& args) {
  const int pause = std::clamp(std::atoi(args.get("--duration", "2").c_str()), 1, 20);
  proxy::log::set_level(proxy::log::Level::Warn);
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("vane-demo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "vane.yaml").string();
  DemoUpstream v1({"shop-v1", 0, 1});
  DemoUpstream v2({"shop-v2", 0, 1});
  DemoUpstream v3({"shop-v3", 0.3, 150});
  std::map<std::string, uint16_t> ports{{"shop-v1", v1.port()}, {"shop-v2", v2.port()}, {"shop-v3", v3.port()}};
  // The experiment act: the warm stable answers in 40 ms, a fresh copy of it in 30 ms, and the
  // new version in 39 ms: within 1.1 x stable, 30% slower than the fresh baseline.
  const bool experiment = args.has("--experiment");
  std::vector<std::unique_ptr<DemoUpstream>> catalog;
  if (experiment) {
    for (const auto& [name, ms] : {std::pair{"catalog-v1", 40u}, std::pair{"catalog-v1-baseline", 30u},
                                   std::pair{"catalog-v2", 39u}}) {
      catalog.push_back(std::make_unique<DemoUpstream>(DemoUpstreamOptions{name, 0, ms}));
      ports[name] = catalog.back()->port();
    }
  }
  std::string catalog_desired = experiment ? "catalog-v1" : "";
  std::string shop_desired = "shop-v1";
  auto write = [&] {
    std::ofstream(file, std::ios::trunc)
        << demo_config(ports, shop_desired, pause, (dir / "state").string(), catalog_desired);
  };
  write();
  auto loaded = control::load_config(file);
  for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
  if (!loaded.config) return 1;

  control::Server server(loaded.config, control::ServerOptions{file, "", false, false, ""});
  server.start();
  std::thread control([&] { server.run(); });
  const std::string address = server.listener_addresses().at("demo");
  AdminClient admin("http://" + server.admin_address(), "");
  std::cout << "vane demo: proxy on http://" << address << ", admin http://" << server.admin_address()
            << "\n  dashboard: http://" << server.admin_address() << "/   (open it to watch live)"
            << "\n  try: curl -i http://" << address << "/products   or   vane status shop --admin http://"
            << server.admin_address() << "\n\n";

  std::atomic<bool> stop{false};
  Tally tally;
  // Four keep-alive clients: enough canary traffic for a verdict even while shop-v3 is slow.
  std::vector<std::thread> clients = start_load(4, address, stop, tally, "shop.demo");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto set_desired = [&](const std::string& desired) {
    (desired.starts_with("catalog") ? catalog_desired : shop_desired) = desired;
    write();
    const auto reloaded = admin.post("/api/v1/reload");
    std::cout << "  edited " << file << " (upstream: " << desired << "), POST /api/v1/reload -> "
              << reloaded.status << "\n\n";
    reset(tally);
  };

  std::cout << "Act 1: shop-v1 is stable and serves everything. The desired version becomes shop-v2, "
               "a good one:\n";
  set_desired("shop-v2");
  const bool promoted = follow(admin, tally, std::chrono::seconds(30 + pause), [](const json::object& s) {
    return s.at("phase").as_string() != "Progressing" && s.at("phase").as_string() != "Paused";
  });
  const auto after_act1 = admin.get("/api/v1/rollouts/shop");
  const bool act1 = promoted && after_act1.ok() &&
                    json::parse(after_act1.body).as_object().at("stable").as_string() == "shop-v2";
  std::cout << (act1 ? "\nshop-v2 passed every analysis and is now stable, with no operator action.\n\n"
                     : "\nact 1 did not end with shop-v2 stable.\n\n");

  bool act2 = false;
  if (act1) {
    std::cout << "Act 2: the desired version becomes shop-v3, which fails 30% of requests and is "
                 "150 ms slower:\n";
    const auto act2_started = std::chrono::steady_clock::now();
    set_desired("shop-v3");
    act2 = follow(admin, tally, std::chrono::seconds(30), [](const json::object& s) {
      return s.at("phase").as_string() == "Degraded";
    });
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - act2_started).count();
    const auto aborted = admin.get("/api/v1/rollouts/shop");
    if (act2 && aborted.ok()) {
      const auto status = json::parse(aborted.body).as_object();
      char when[64];
      std::snprintf(when, sizeof when, "%.1f s", took);
      std::cout << "\nvane aborted shop-v3 by itself (seen " << when << " after the reload): "
                << text_of(status, "abortReason") << "\nAll traffic is back on "
                << text_of(status, "stable") << "; `vane retry shop` would try shop-v3 again.\n";
    } else {
      std::cout << "\nact 2 did not end with shop-v3 aborted.\n";
    }
  }
  bool act3 = !experiment;
  if (experiment && act2) act3 = experiment_act(admin, address, set_desired);
  stop = true;
  for (auto& client : clients) client.join();
  server.request_stop();
  control.join();
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return act1 && act2 && act3 ? 0 : 1;
}

}  // namespace vane::cli
