// The YAML the import writes: every string reads back as itself (yaml-cpp, as vane's loader reads
// it), plain where that is safe, and the sections in SPEC §2's order with their comments.
#include "cli/config_writer.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace vane::cli {
namespace {

/// As the writer puts it: a field ends with its line break.
std::string read_back(const std::string& scalar) { return YAML::Load("k: " + scalar + "\n")["k"].as<std::string>(); }

TEST(ConfigWriter, ScalarsReadBackAsWritten) {
  for (const std::string text :
       {"plain", "yes", "No", "null", "~", "true", "0.99", "- dash", "a: b", "a #b", "#x", "{{args.x}}",
        "*.example.com", "trailing ", "tab\there", "quote\"s and \\", "'single'", "@at", "%p", "!tag",
        "&anchor", "|pipe", ">fold", "[list]", "colon:", "result[0] >= 0.99 && result != 'x'",
        "line one\nline two\n", "no newline\nat end", "two\n\n", "  indented\nfirst line", "ctrl\x01"}) {
    EXPECT_EQ(read_back(yaml_scalar(text, 2)), text) << yaml_scalar(text, 2);
    EXPECT_EQ(YAML::Load("{k: " + flow_scalar(text) + "}")["k"].as<std::string>(), text) << flow_scalar(text);
  }
  EXPECT_EQ(yaml_scalar("shop-v2"), "shop-v2");
  EXPECT_EQ(yaml_scalar("yes"), "\"yes\"");
  EXPECT_EQ(yaml_scalar("a\nb\n", 4), "|\n    a\n    b");
  EXPECT_EQ(flow_scalar("a,b"), "\"a,b\"");
}

TEST(ConfigWriter, SectionsInOrderWithComments) {
  CommentedConfig in;
  in.header = {"made by a test"};
  config::Listener listener;
  listener.name = "public";
  listener.address = "0.0.0.0:8080";
  in.config.listeners.push_back(listener);
  config::Upstream upstream;
  upstream.name = "v1";
  upstream.endpoints.push_back(config::Endpoint{"v1.default.svc:80", "", 0, false});
  in.config.upstreams.push_back(upstream);
  config::Route route;
  route.name = "web";
  route.rollout = "web";
  route.match.host = "web.test";
  in.config.routes.push_back(route);
  config::Rollout rollout;
  rollout.name = "web";
  rollout.upstream = "v1";
  rollout.canary.emplace();
  config::Step weight;
  weight.weight_centi = 1250;
  rollout.canary->steps.push_back(weight);
  in.config.rollouts.push_back(rollout);
  in.comments["upstreams[0]"] = "Service/v1 (a.yaml:3)";
  in.comments["rollouts[0].upstream"] = "the stable Service";
  EXPECT_EQ(write_config(in), R"(# made by a test

listeners:
  - name: public
    address: 0.0.0.0:8080

upstreams:
  # Service/v1 (a.yaml:3)
  - name: v1
    endpoints: ["v1.default.svc:80"]

routes:
  - name: web
    match: {host: web.test, pathPrefix: /}
    rollout: web

rollouts:
  - name: web
    upstream: v1  # the stable Service
    strategy:
      canary:
        steps:
          - setWeight: 12.5
)");
}

}  // namespace
}  // namespace vane::cli
