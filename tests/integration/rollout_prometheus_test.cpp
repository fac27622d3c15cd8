// The prometheus provider against a real Prometheus (Debian's `prometheus`, started here on
// loopback, scraping vane's /metrics every second): a success-rate query over vane's own
// vane_requests_total passes for a good canary and fails for one answering half its requests 500.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// A loopback port free right now (bound to port 0, then released) for a server that must be
/// told its port on the command line.
uint16_t free_port() {
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

/// GET on a fresh connection to 127.0.0.1:port.
Response http_get(uint16_t port, const std::string& target) {
  try {
    RawClient client(port);
    if (!client.send(request("GET", target, "127.0.0.1", "Connection: close\r\n"))) return {};
    return client.read_response(5s);
  } catch (const std::exception&) {
    return {};  // not listening (yet)
  }
}

/// A Prometheus that scrapes `admin_port`'s /metrics every second, with its data in a temp dir.
class Prometheus {
 public:
  Prometheus(uint16_t port, uint16_t admin_port) : port_(port) {
    write_file(dir_.path() / "prometheus.yml", render(R"(global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: vane
    static_configs: [{targets: ["127.0.0.1:{{admin}}"]}]
)", {{"admin", std::to_string(admin_port)}}));
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"prometheus", "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port)},
        dir_.path(), dir_.path() / "out", dir_.path() / "err");
  }

  /// Ready, and vane's target scraped up.
  bool wait_scraping(Millis timeout) {
    return wait_until([&] {
      const Response r = http_get(port_, "/api/v1/query?query=up%7Bjob%3D%22vane%22%7D");
      return r.status == 200 && r.body.find(R"("1"])") != std::string::npos;
    }, timeout);
  }

  std::string log() const { return read_file(dir_.path() / "err"); }

 private:
  uint16_t port_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

RolloutSetup prometheus_setup(uint16_t prometheus_port) {
  RolloutSetup setup;
  // The canary's share of non-5xx answers over the last 5 s, as Argo users write it.
  setup.top_extra = render(R"(analysisTemplates:
  - name: prom-success
    metrics:
      - name: success-rate
        initialDelay: 4s
        interval: 2s
        count: 2
        successCondition: len(result) > 0 && result[0] >= 0.95
        failureLimit: 0
        provider:
          prometheus:
            address: http://127.0.0.1:{{port}}
            query: sum(rate(vane_requests_total{rollout="web",target="canary",code_class!="5xx"}[5s])) / sum(rate(vane_requests_total{rollout="web",target="canary"}[5s]))
            timeout: 5
)", {{"port", std::to_string(prometheus_port)}});
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: prom-success}]
)";
  return setup;
}

TEST(RolloutPrometheusTest, ASuccessRateQueryPassesAGoodCanaryAndFailsABadOne) {
  const uint16_t prometheus_port = free_port();
  RolloutRig rig(prometheus_setup(prometheus_port));
  Prometheus prometheus(prometheus_port, rig.admin());
  ASSERT_TRUE(prometheus.wait_scraping(30s)) << prometheus.log();
  LoadLoop load(rig.port());

  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_stable(rig.admin(), "v2", s, 40s)) << summary(s) << "\n" << json::serialize(field(s, "analysisRuns"));

  behave(rig.v3(), 50);
  ASSERT_EQ(rig.set_desired("v3").status, 200);
  ASSERT_TRUE(wait_for_phase(rig.admin(), "Degraded", s, 40s)) << summary(s) << "\n" << json::serialize(field(s, "analysisRuns"));
  EXPECT_EQ(str(field(s, "stable")), "v2");
  const json::value runs = field(s, "analysisRuns");
  ASSERT_TRUE(runs.is_array() && !runs.get_array().empty()) << summary(s);
  const json::value& run = runs.get_array()[0];
  EXPECT_EQ(str(field(run, "phase")), "Failed") << json::serialize(run);
  // The measured value is Prometheus' vector, shown as a list: about half succeed.
  const std::string text = json::serialize(run);
  EXPECT_NE(text.find(R"("value":"[0.)"), std::string::npos) << text;
}

}  // namespace
}  // namespace vane::it
