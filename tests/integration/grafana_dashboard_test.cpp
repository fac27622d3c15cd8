// deploy/grafana/vane.json and deploy/prometheus/vane-alerts.yaml against a real vane and a real
// Prometheus: vane runs a canary (v1 -> v2 at 50%, a builtin analysis, then a pause) under steady
// traffic, with a few requests the upstream resets and an upstream that fails its health checks;
// Prometheus scrapes it every second and evaluates the alert rules. Every panel query of the
// dashboard must return data and every alert rule must load and evaluate without error.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "tests/integration/load_loop.hpp"
#include "tests/integration/prometheus_server.hpp"

namespace vane::it {
namespace {

/// One panel query of the dashboard.
struct PanelQuery {
  std::string panel;
  std::string expr;  ///< with the dashboard's variables substituted
};

/// Every target expr of every panel (rows' nested panels too), with $rollout and
/// $__rate_interval as Grafana would fill them in for this test.
std::vector<PanelQuery> panel_queries(const json::value& dashboard, const std::string& rollout) {
  std::vector<PanelQuery> queries;
  std::vector<json::value> panels;
  const json::value top = field(dashboard, "panels");
  for (const json::value& p : top.as_array()) {
    panels.push_back(p);
    const json::value nested = field(p, "panels");
    if (nested.is_array()) panels.insert(panels.end(), nested.as_array().begin(), nested.as_array().end());
  }
  for (const json::value& p : panels) {
    const json::value targets = field(p, "targets");
    if (!targets.is_array()) continue;
    for (const json::value& t : targets.as_array()) {
      std::string expr = str(field(t, "expr"));
      // 10 s: ten scrapes, as $__rate_interval is at least four scrape intervals.
      expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval|\$\{__rate_interval\})"), "10s");
      expr = std::regex_replace(expr, std::regex(R"(\$rollout|\$\{rollout\})"), rollout);
      queries.push_back({str(field(p, "title")) + " / " + str(field(t, "refId")), expr});
    }
  }
  return queries;
}

/// Rollout web: 50% on the canary, a builtin success-rate analysis, then a pause that holds the
/// split. v3 is no version but an upstream whose one address refuses connections and is health
/// checked: it has no healthy endpoint.
RolloutSetup dashboard_setup(uint16_t dead_port) {
  RolloutSetup setup;
  setup.top_extra = std::string(kSuccessRateTemplate);
  setup.canary = R"(        steps:
          - setWeight: 50
          - analysis:
              templates: [{templateName: success-rate}]
          - pause: {}
)";
  setup.endpoints["v3"] = "127.0.0.1:" + std::to_string(dead_port);
  setup.upstream_options["v3"] = "healthCheck: {interval: 1s, timeout: 500ms, unhealthyThreshold: 1}";
  return setup;
}

TEST(GrafanaDashboardTest, EveryPanelQueryReturnsDataAndTheAlertRulesLoad) {
  const json::value dashboard = parse_json(read_file(VANE_GRAFANA_DASHBOARD));
  ASSERT_TRUE(field(dashboard, "panels").is_array()) << VANE_GRAFANA_DASHBOARD << " is not a dashboard";
  const std::vector<PanelQuery> queries = panel_queries(dashboard, "web");
  ASSERT_GE(queries.size(), 10u);
  for (const auto& q : queries) ASSERT_EQ(q.expr.find('$'), std::string::npos) << q.panel << ": " << q.expr;

  RolloutRig rig(dashboard_setup(free_port()));  // nothing listens on v3's port
  Prometheus prometheus(free_port(), rig.admin(), {VANE_ALERT_RULES});
  ASSERT_TRUE(prometheus.wait_scraping(30s)) << prometheus.log();

  LoadLoop load(rig.port());
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 2, 50, s, 30s)) << summary(s);
  // Upstream failures (the upstream resets), after the reload that started the counters afresh.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_with(rig.port(), "/x?reset=1", "").status, 502);

  // Until every query has data (rates need a few scrapes of the canary at 50%), bounded.
  std::vector<std::string> empty;
  wait_until([&] {
    empty.clear();
    for (const auto& q : queries) {
      const json::value result = prometheus.query(q.expr);
      if (!result.is_array() || result.as_array().empty()) empty.push_back(q.panel + ": " + q.expr);
    }
    return empty.empty();
  }, 60s);
  for (const auto& e : empty) ADD_FAILURE() << "no data: " << e;

  // The `rollout` variable's label_values(vane_rollout_info, rollout) offers the rollout.
  const json::value values = prometheus.get("/api/v1/label/rollout/values?match[]=vane_rollout_info");
  EXPECT_EQ(json::serialize(field(values, "data")), R"(["web"])");

  // Every rule of the file loaded, and each evaluates without error once it has been evaluated.
  const std::string rules_text = read_file(VANE_ALERT_RULES);
  size_t expected = 0;
  for (size_t at = rules_text.find("- alert: "); at != std::string::npos; at = rules_text.find("- alert: ", at + 1))
    ++expected;
  std::vector<std::string> not_ok;
  size_t loaded = 0;
  wait_until([&] {
    not_ok.clear();
    loaded = 0;
    const json::value groups = field(field(prometheus.get("/api/v1/rules"), "data"), "groups");
    if (!groups.is_array()) return false;
    for (const json::value& g : groups.as_array()) {
      const json::value rules = field(g, "rules");
      if (!rules.is_array()) continue;
      for (const json::value& r : rules.as_array()) {
        ++loaded;
        if (str(field(r, "health")) != "ok")
          not_ok.push_back(str(field(r, "name")) + ": " + json::serialize(field(r, "health")) + " " +
                           json::serialize(field(r, "lastError")));
      }
    }
    return loaded == expected && not_ok.empty();
  }, 20s);
  EXPECT_EQ(loaded, expected) << prometheus.log();
  for (const auto& e : not_ok) ADD_FAILURE() << "rule not ok: " << e;

  // The rules see vane's metrics: v3 has no healthy endpoint (pending for its `for:`), and the
  // rollout is not Degraded.
  std::set<std::string> active;
  wait_until([&] {
    active.clear();
    const json::value alerts = field(field(prometheus.get("/api/v1/alerts"), "data"), "alerts");
    if (alerts.is_array())
      for (const json::value& a : alerts.as_array()) {
        const json::value labels = field(a, "labels");
        active.insert(str(field(labels, "alertname")) + "/" + str(field(labels, "upstream")));
      }
    return active.count("VaneUpstreamNoHealthyEndpoint/v3") > 0;
  }, 20s);
  EXPECT_EQ(active.count("VaneUpstreamNoHealthyEndpoint/v3"), 1u);
  EXPECT_EQ(active.count("VaneUpstreamNoHealthyEndpoint/v1"), 0u);
  EXPECT_EQ(active.count("VaneRolloutDegraded/(not a string: null)"), 0u);
  const SideCounts counts = load.counts();
  EXPECT_GT(counts.count("v2"), 0) << counts.describe();
}

}  // namespace
}  // namespace vane::it
