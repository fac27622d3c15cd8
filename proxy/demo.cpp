// `vane demo`: a live canary on loopback with built-in upstreams and a built-in load, so a
// first-time user sees a rollout walk its steps with no config. The demo drives vane as an
// operator would: it edits the config file, reloads, and reads status from the admin API.
// Main thread plus the server's and the load's threads.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include "proxy/admin_client.hpp"
#include "proxy/cli.hpp"
#include "proxy/config_checks.hpp"
#include "proxy/demo_upstream.hpp"
#include "proxy/log.hpp"
#include "proxy/server.hpp"

namespace vane::proxy {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;

constexpr const char* kDemoUsage = R"(Usage: vane demo [--duration SECONDS]

Runs a live canary rollout on loopback, with no config file: two built-in upstreams (shop-v1,
the stable version, and shop-v2, the new one), vane in front of them, and a steady load of a few
hundred requests per second. It writes a config with shop-v1 desired, then changes the desired
version to shop-v2 and reloads, as an operator would; vane then walks the canary steps
(setWeight 20, pause, setWeight 50, pause, setWeight 80, pause) by itself. The demo prints each
step, the weights in force and what each version really served, and exits 0 once shop-v2 is the
stable version (within about a minute), after a graceful shutdown.

Options:
  --duration SECONDS   seconds for each pause step (default 2, at most 20)
)";

std::string demo_config(uint16_t v1, uint16_t v2, const std::string& desired, int pause,
                        const std::string& state_dir) {
  const std::string p = std::to_string(pause) + "s";
  return "listeners: [{name: demo, address: \"127.0.0.1:0\"}]\n"
         "admin: {address: \"127.0.0.1:0\"}\n"
         "state: {dir: \"" + state_dir + "\"}\n"
         "workers: 1\n"
         "upstreams:\n"
         "  - {name: shop-v1, endpoints: [\"127.0.0.1:" + std::to_string(v1) + "\"]}\n"
         "  - {name: shop-v2, endpoints: [\"127.0.0.1:" + std::to_string(v2) + "\"]}\n"
         "routes:\n"
         "  - {name: shop, match: {pathPrefix: /}, rollout: shop}\n"
         "rollouts:\n"
         "  - name: shop\n"
         "    upstream: " + desired + "\n"
         "    strategy:\n"
         "      canary:\n"
         "        steps:\n"
         "          - setWeight: 20\n"
         "          - pause: {duration: " + p + "}\n"
         "          - setWeight: 50\n"
         "          - pause: {duration: " + p + "}\n"
         "          - setWeight: 80\n"
         "          - pause: {duration: " + p + "}\n";
}

/// Answers counted by the version that served them, shared by the load and the printer.
struct Tally {
  std::mutex mutex;
  std::map<std::string, uint64_t> by_version;
  uint64_t failed = 0;
};

void load(const std::string& host, const std::string& port, std::atomic<bool>& stop, Tally& tally) {
  boost::asio::io_context io;
  while (!stop) {
    beast::tcp_stream stream(io);
    beast::error_code ec;
    boost::asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, port, ec), ec);
    beast::flat_buffer buffer;
    for (int i = 0; i < 1000 && !stop && !ec; ++i) {
      bhttp::request<bhttp::empty_body> request{bhttp::verb::get, "/products", 11};
      request.set(bhttp::field::host, "shop.demo");
      bhttp::write(stream, request, ec);
      bhttp::response<bhttp::string_body> response;
      if (!ec) bhttp::read(stream, buffer, response, ec);
      std::lock_guard lock(tally.mutex);
      if (ec || response.result_int() >= 500) {
        ++tally.failed;
        break;
      }
      ++tally.by_version[std::string(response["X-Upstream"])];
      std::this_thread::sleep_for(std::chrono::milliseconds(4));  // a few hundred req/s in all
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
  std::lock_guard lock(tally.mutex);
  line += "  served:";
  for (const auto& [name, count] : tally.by_version) line += " " + name + "=" + std::to_string(count);
  if (tally.failed > 0) line += " failed=" + std::to_string(tally.failed);
  return line;
}

}  // namespace

int run_demo(const Args& args) {
  if (args.has("--help") || args.has("-h")) return std::cout << kDemoUsage, 0;
  const int pause = std::clamp(std::atoi(args.get("--duration", "2").c_str()), 1, 20);
  log::set_level(log::Level::Warn);
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("vane-demo-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "vane.yaml").string();
  DemoUpstream v1({"shop-v1", 0, 1});
  DemoUpstream v2({"shop-v2", 0, 1});
  auto write = [&](const std::string& desired) {
    std::ofstream(file, std::ios::trunc) << demo_config(v1.port(), v2.port(), desired, pause, (dir / "state").string());
  };
  write("shop-v1");
  auto loaded = load_config(file);
  for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
  if (!loaded.config) return 1;

  Server server(loaded.config, ServerOptions{file, "", false, false, ""});
  server.start();
  std::thread control([&] { server.run(); });
  const std::string address = server.listener_addresses().at("demo");
  AdminClient admin("http://" + server.admin_address(), "");
  std::cout << "vane demo: proxy on http://" << address << ", admin http://" << server.admin_address()
            << "\n  try: curl -i http://" << address << "/products   or   vane status shop --admin http://"
            << server.admin_address() << "\n\n";

  std::atomic<bool> stop{false};
  Tally tally;
  const auto colon = address.rfind(':');
  std::thread client(load, address.substr(0, colon), address.substr(colon + 1), std::ref(stop), std::ref(tally));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::cout << "shop-v1 is stable and serves everything. Now the desired version becomes shop-v2:\n";
  write("shop-v2");
  const auto reloaded = admin.post("/api/v1/reload");
  std::cout << "  edited " << file << ", POST /api/v1/reload -> " << reloaded.status << "\n\n";

  const auto started = std::chrono::steady_clock::now();
  bool done = false;
  std::string last;
  while (!done && std::chrono::steady_clock::now() - started < std::chrono::seconds(20 + 6 * pause)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto answer = admin.get("/api/v1/rollouts/shop");
    if (!answer.ok()) continue;
    const auto status = json::parse(answer.body).as_object();
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << progress_line(status, tally, t) << "\n" << std::flush;
    done = status.at("phase").as_string() == "Healthy" && status.at("stable").as_string() == "shop-v2";
  }
  stop = true;
  client.join();
  server.request_stop();
  control.join();
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  std::cout << (done ? "\nshop-v2 is now stable: the canary walked every step with no operator action, "
                       "and vane drained and stopped.\n"
                     : "\nthe rollout did not complete in time.\n");
  return done && tally.failed == 0 ? 0 : 1;
}

}  // namespace vane::proxy
