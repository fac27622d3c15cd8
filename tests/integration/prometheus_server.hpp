// A real Prometheus (Debian's `prometheus`, started by the test on loopback) that scrapes a vane's
// admin /metrics every second, optionally with rule files, and its HTTP query API. Header-only,
// like rollout_support.hpp. Test thread only.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {

/// A loopback port free right now (bound to port 0, then released) for a server that must be
/// told its port on the command line.
inline uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

/// GET on a fresh connection to 127.0.0.1:port; an empty Response when nothing listens (yet).
inline Response http_get(uint16_t port, const std::string& target) {
  try {
    RawClient client(port);
    if (!client.send(request("GET", target, "127.0.0.1", "Connection: close\r\n"))) return {};
    return client.read_response(5s);
  } catch (const std::exception&) {
    return {};
  }
}

/// `text` as a URL query value: unreserved characters kept, everything else %XX.
inline std::string percent_encode(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

/// A Prometheus whose job `vane-admin` (the name the Kubernetes ServiceMonitor gives it) scrapes
/// `admin_port`'s /metrics every second and which evaluates `rule_files` every second, with its
/// data in a temp dir.
class Prometheus {
 public:
  Prometheus(uint16_t port, uint16_t admin_port, const std::vector<std::string>& rule_files = {})
      : port_(port) {
    std::string rules;
    for (const auto& file : rule_files) rules += "  - \"" + file + "\"\n";
    write_file(dir_.path() / "prometheus.yml",
               render(R"(global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files:
{{rules}}scrape_configs:
  - job_name: vane-admin
    static_configs: [{targets: ["127.0.0.1:{{admin}}"]}]
)", {{"admin", std::to_string(admin_port)}, {"rules", rules.empty() ? "  []\n" : rules}}));
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"prometheus", "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port)},
        dir_.path(), dir_.path() / "out", dir_.path() / "err");
  }

  /// Ready, and vane's target scraped up.
  bool wait_scraping(Millis timeout) {
    return wait_until([&] {
      const json::value r = get("/api/v1/query?query=" + percent_encode(R"(up{job="vane-admin"})"));
      return json::serialize(field(field(r, "data"), "result")).find(R"("1"])") != std::string::npos;
    }, timeout);
  }

  /// GET of an API path; its JSON (null when not a 200 with JSON).
  json::value get(const std::string& target) const {
    const Response r = http_get(port_, target);
    return r.status == 200 ? parse_json(r.body) : json::value(nullptr);
  }

  /// An instant query's `data.result` (null when the query failed).
  json::value query(std::string_view expr) const {
    return field(field(get("/api/v1/query?query=" + percent_encode(expr)), "data"), "result");
  }

  std::string log() const { return read_file(dir_.path() / "err"); }

 private:
  uint16_t port_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

}  // namespace vane::it
