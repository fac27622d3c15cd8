// gRPC through vane (SPEC §10): a real gRPC client and servers (Debian's python3-grpcio, generic
// handlers: tests/integration/grpc_peer.py) — unary and streaming calls both ways through the
// rollout's split, trailers end to end, grpc-status read for the measurements (so a canary that
// fails with HTTP 200 and grpc-status 14 is caught), and gRPC to an HTTP/1.1 upstream answered
// UNAVAILABLE.
#include <gtest/gtest.h>

#include "tests/integration/rollout_support.hpp"
#include "tests/integration/script_server.hpp"

namespace vane::it {
namespace {

/// One call (or `unary-many`) of grpc_peer.py's client through vane: its JSON line.
json::value call(uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/python3", VANE_GRPC_PEER, "client", "127.0.0.1:" + std::to_string(port)});
  const CommandResult r = run_command(args, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return parse_json(r.out);
}

int64_t code_of(const json::value& result) { return static_cast<int64_t>(num(field(result, "code"))); }

/// gRPC servers v1 (stable) and v2 (`v2_args`: e.g. --fail 14) behind a rollout `canary`.
struct GrpcRig {
  GrpcRig(std::string canary, std::vector<std::string> v2_args = {}, std::string top_extra = "")
      : v1(VANE_GRPC_PEER, {"server", "--name", "v1"}), v2(VANE_GRPC_PEER, with(std::move(v2_args))) {
    RolloutSetup setup;
    setup.listener_extra = ", protocols: [http1, h2]";
    setup.canary = std::move(canary);
    setup.top_extra = std::move(top_extra);
    setup.endpoints = {{"v1", v1.address()}, {"v2", v2.address()}, {"v3", v1.address()}};
    // v3 is the same server as v1, reached over HTTP/1.1: what a gRPC client must not get.
    setup.upstream_options = {{"v1", "protocol: h2"}, {"v2", "protocol: h2"}};
    rig.emplace(setup);
  }
  static std::vector<std::string> with(std::vector<std::string> args) {
    args.insert(args.begin(), {"server", "--name", "v2"});
    return args;
  }

  ScriptServer v1, v2;
  std::optional<RolloutRig> rig;
};

constexpr const char* kHalf = "        steps:\n          - setWeight: 50\n          - pause: {}\n";

TEST(GrpcTest, UnaryAndStreamingCallsCrossTheSplitWithTheirTrailers) {
  GrpcRig g(kHalf);
  ASSERT_NE(g.v1.port(), 0) << g.v1.err();
  RolloutRig& rig = *g.rig;
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s)) << summary(s);

  // Each call picks its side: 60 calls land on both.
  const json::value many = call(rig.port(), {"unary-many", "60", "hi"});
  EXPECT_EQ(num(field(field(many, "codes"), "0")), 60) << json::serialize(many);
  const double v1 = num(field(field(many, "replies"), "v1:hi")), v2 = num(field(field(many, "replies"), "v2:hi"));
  EXPECT_EQ(v1 + v2, 60);
  EXPECT_NEAR(v2, 30.0, binomial_band(0.5, 60)) << json::serialize(many);

  const json::value unary = call(rig.port(), {"unary", "hello", "--metadata", "x-echo=ping"});
  EXPECT_EQ(code_of(unary), 0) << json::serialize(unary);
  const std::string side = str(field(field(unary, "trailers"), "x-peer-name"));
  EXPECT_TRUE(side == "v1" || side == "v2") << json::serialize(unary);
  EXPECT_EQ(str(field(unary, "reply")), side + ":hello");
  EXPECT_EQ(str(field(field(unary, "trailers"), "x-echo-back")), "ping") << "metadata both ways";

  const json::value down = call(rig.port(), {"server-stream", "5"});
  EXPECT_EQ(code_of(down), 0) << json::serialize(down);
  EXPECT_EQ(field(down, "replies").as_array().size(), 5u) << json::serialize(down);

  const json::value up = call(rig.port(), {"client-stream", "7"});
  EXPECT_EQ(code_of(up), 0) << json::serialize(up);
  const std::string reply = str(field(up, "reply"));
  EXPECT_TRUE(reply.ends_with(":7:14")) << json::serialize(up);

  // Each message goes out only once the answer to the one before came back: the request body
  // and the answer flow at the same time.
  const json::value both = call(rig.port(), {"bidi", "20"});
  EXPECT_EQ(code_of(both), 0) << json::serialize(both);
  const json::value replies_value = field(both, "replies");
  const json::array& replies = replies_value.as_array();
  ASSERT_EQ(replies.size(), 20u) << json::serialize(both);
  EXPECT_TRUE(str(replies[19]).ends_with(":m19"));
  EXPECT_EQ(metric_sum(parse_metrics(scrape(rig.admin())), "vane_http2_streams_active", {}), 0);
}

TEST(GrpcTest, MetadataMatchesAHeaderRoute) {
  GrpcRig g(R"(        steps:
          - setHeaderRoute:
              name: beta
              match:
                - headerName: x-beta
                  headerValue: {exact: "yes"}
          - pause: {}
)");
  RolloutRig& rig = *g.rig;
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 0, s)) << summary(s);
  const json::value beta = call(rig.port(), {"unary-many", "10", "hi", "--metadata", "x-beta=yes"});
  EXPECT_EQ(num(field(field(beta, "replies"), "v2:hi")), 10) << json::serialize(beta);
  const json::value rest = call(rig.port(), {"unary-many", "10", "hi"});
  EXPECT_EQ(num(field(field(rest, "replies"), "v1:hi")), 10) << json::serialize(rest);
}

TEST(GrpcTest, ACallInFlightOutlivesAReload) {
  GrpcRig g(kHalf);
  RolloutRig& rig = *g.rig;
  TempDir dir;
  Process slow({"/usr/bin/python3", VANE_GRPC_PEER, "client", "127.0.0.1:" + std::to_string(rig.port()),
                "unary", "sleep=3000"},
               dir.path(), dir.path() / "out", dir.path() / "err");
  ASSERT_TRUE(wait_until([&] {
    return metric_sum(parse_metrics(scrape(rig.admin())), "vane_http2_streams_active") == 1;
  }, 10s)) << "the call is in flight";
  ASSERT_EQ(rig.set_desired("v2").status, 200);  // a reload: a new config generation
  ASSERT_EQ(slow.wait_exit(20s), 0);
  const json::value result = parse_json(read_file(dir.path() / "out"));
  EXPECT_EQ(code_of(result), 0) << json::serialize(result);
  EXPECT_EQ(str(field(result, "reply")), "v1:sleep=3000");
}

TEST(GrpcTest, FailingGrpcStatusesAreMeasuredAsServerErrors) {
  GrpcRig g(kHalf);
  RolloutRig& rig = *g.rig;
  for (const std::string text : {"status=14", "status=13", "status=4"}) {
    EXPECT_EQ(code_of(call(rig.port(), {"unary", text})), std::stoi(text.substr(7)));
  }
  for (const std::string text : {"status=5", "status=3", "fine"}) {  // NOT_FOUND, INVALID_ARGUMENT: the caller's
    call(rig.port(), {"unary", text});
  }
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"code_class", "5xx"}}), 3);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"code_class", "2xx"}}), 3);
}

TEST(GrpcTest, AGrpcCallToAnHttp1UpstreamIsUnavailable) {
  GrpcRig g(kHalf);
  RolloutRig& rig = *g.rig;
  ASSERT_EQ(rig.set_desired("v3").status, 200);  // v3: HTTP/1.1 to the same gRPC server
  json::value s;
  ASSERT_TRUE(wait_phase(rig.admin(), "Paused", 1, 50, s)) << summary(s);
  const json::value many = call(rig.port(), {"unary-many", "40", "hi"});
  const double failed = num(field(field(many, "codes"), "14"));
  EXPECT_EQ(failed + num(field(field(many, "codes"), "0")), 40) << json::serialize(many);
  EXPECT_NEAR(failed, 20.0, binomial_band(0.5, 40)) << json::serialize(many);
  const auto samples = parse_metrics(scrape(rig.admin()));
  EXPECT_EQ(metric_sum(samples, "vane_upstream_failures_total", {{"upstream", "v3"}, {"kind", "protocol"}}), failed);
  EXPECT_EQ(metric_sum(samples, "vane_requests_total", {{"target", "canary"}, {"code_class", "5xx"}}), failed);
}

TEST(GrpcTest, ACanaryFailingWithGrpcStatusesIsAbortedByItsAnalysis) {
  GrpcRig g(std::string(kAnalysisSteps), {"--fail", "14"}, std::string(kSuccessRateTemplate));
  RolloutRig& rig = *g.rig;
  // HTTP says 200 to every call; only grpc-status tells the canary's calls fail.
  Process load({"/usr/bin/python3", VANE_GRPC_PEER, "client", "127.0.0.1:" + std::to_string(rig.port()),
                "unary-many", "100000", "hi"},
               std::filesystem::temp_directory_path(), "/dev/null", "/dev/null");
  ASSERT_EQ(rig.set_desired("v2").status, 200);
  json::value s;
  ASSERT_TRUE(wait_status(rig.admin(), [](const json::value& st) { return field(st, "aborted").as_bool(); },
                          s, 20s))
      << summary(s);
  EXPECT_EQ(str(field(s, "phase")), "Degraded") << summary(s);
  EXPECT_EQ(num(field(field(s, "weights"), "canary")), 0);
}

}  // namespace
}  // namespace vane::it
