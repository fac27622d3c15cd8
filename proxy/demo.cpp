// `vane demo`: a live run of vane on loopback with built-in upstreams and a built-in load, so a
// first-time user sees it work with no config. Main thread plus the server's and load's threads.
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "config/loader.hpp"
#include "proxy/cli.hpp"
#include "proxy/config_checks.hpp"
#include "proxy/demo_upstream.hpp"
#include "proxy/log.hpp"
#include "proxy/server.hpp"

namespace vane::proxy {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;

constexpr const char* kDemoUsage = R"(Usage: vane demo [--duration SECONDS]

Starts two built-in demo upstreams and vane on free loopback ports (no config file needed),
sends a steady load through vane for a few seconds, prints live what each upstream served, then
shuts vane down gracefully and exits 0.

Options:
  --duration SECONDS   how long the load runs (default 5, at most 60)
)";

std::string demo_config(uint16_t a, uint16_t b) {
  return "listeners: [{name: demo, address: \"127.0.0.1:0\"}]\n"
         "admin: {address: \"127.0.0.1:0\"}\n"
         "workers: 1\n"
         "upstreams:\n"
         "  - name: shop-v1\n"
         "    endpoints: [\"127.0.0.1:" + std::to_string(a) + "\", \"127.0.0.1:" +
         std::to_string(b) + "\"]\n"
         "routes:\n"
         "  - {name: shop, match: {pathPrefix: /}, upstream: shop-v1}\n";
}

/// Counts answers by upstream, shared by the load threads and the printer.
struct Tally {
  std::mutex mutex;
  std::map<std::string, uint64_t> by_upstream;
  uint64_t failed = 0;
};

void load(const std::string& host, const std::string& port, std::atomic<bool>& stop, Tally& tally) {
  boost::asio::io_context io;
  while (!stop) {
    beast::tcp_stream stream(io);
    beast::error_code ec;
    boost::asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(host, port, ec), ec);
    if (ec) {
      std::lock_guard lock(tally.mutex);
      ++tally.failed;
      continue;
    }
    beast::flat_buffer buffer;
    for (int i = 0; i < 1000 && !stop; ++i) {
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
      ++tally.by_upstream[std::string(response["X-Upstream"])];
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a steady few hundred req/s
    }
  }
}

}  // namespace

int run_demo(const Args& args) {
  if (args.has("--help") || args.has("-h")) return std::cout << kDemoUsage, 0;
  const int seconds = std::clamp(std::atoi(args.get("--duration", "5").c_str()), 1, 60);
  log::set_level(log::Level::Warn);
  DemoUpstream a({"shop-v1 (endpoint a)", 0, 1});
  DemoUpstream b({"shop-v1 (endpoint b)", 0, 1});
  auto loaded = config::load_string(demo_config(a.port(), b.port()), "demo.yaml", config_checks());
  if (!loaded.config) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    return 1;
  }
  Server server(loaded.config, ServerOptions{"", "", false});
  server.start();
  std::thread control([&] { server.run(); });
  const std::string address = server.listener_addresses().at("demo");
  const auto colon = address.rfind(':');
  std::cout << "vane demo: proxy on http://" << address << " (admin " << server.admin_address()
            << "), upstream shop-v1 = 127.0.0.1:" << a.port() << " + 127.0.0.1:" << b.port()
            << "\n";
  std::cout << "try it meanwhile: curl -i http://" << address << "/products\n\n";

  std::atomic<bool> stop{false};
  Tally tally;
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back(load, address.substr(0, colon), address.substr(colon + 1),
                         std::ref(stop), std::ref(tally));
  }
  for (int s = 1; s <= seconds; ++s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::lock_guard lock(tally.mutex);
    std::cout << "t=" << s << "s ";
    for (const auto& [name, count] : tally.by_upstream) std::cout << " " << name << ": " << count;
    std::cout << "  failed: " << tally.failed << "\n" << std::flush;
  }
  stop = true;
  for (auto& t : clients) t.join();
  server.request_stop();
  control.join();
  uint64_t total = 0;
  for (const auto& [name, count] : tally.by_upstream) total += count;
  std::cout << "\nvane served " << total << " requests round-robin over both endpoints, "
            << tally.failed << " failed; drained and stopped.\n";
  return tally.failed == 0 && total > 0 ? 0 : 1;
}

}  // namespace vane::proxy
