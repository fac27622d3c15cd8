// The prometheus and web providers' requests and answer parsing (scalar, vector, NaN/Inf, errors),
// and the jsonPath subset. Pure functions: no I/O.
#include "control/analysis_providers.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace vane::control {
namespace {

using namespace std::chrono_literals;

/// A successful answer of `type` with `result`.
std::string success(std::string_view type, std::string_view result) {
  return R"({"status":"success","data":{"resultType":")" + std::string(type) + R"(","result":)" +
         std::string(result) + "}}";
}

ProviderResult parse(unsigned status, std::string body) {
  return prometheus_result(HttpReply{status, std::move(body), {}, true});
}

TEST(AnalysisProviders, PrometheusResults) {
  auto scalar = parse(200, success("scalar", R"([1, "0.5"])"));
  ASSERT_TRUE(scalar.ok()) << scalar.error;
  EXPECT_EQ(analysis::to_text(scalar.value), "0.5");
  auto vector = parse(200, success("vector", R"([{"metric": {}, "value": [1, "0.25"]},
                                                 {"metric": {"a": "b"}, "value": [1, "1"]}])"));
  ASSERT_TRUE(vector.ok()) << vector.error;
  EXPECT_EQ(analysis::to_text(vector.value), "[0.25,1]");
  auto empty = parse(200, success("vector", "[]"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(analysis::to_text(empty.value), "[]");
  auto nan = parse(200, success("scalar", R"([1, "NaN"])"));
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(std::isnan(nan.value.as_number()));
  auto inf = parse(200, success("scalar", R"([1, "+Inf"])"));
  ASSERT_TRUE(inf.ok());
  EXPECT_TRUE(std::isinf(inf.value.as_number()));
  EXPECT_NE(parse(200, success("matrix", "[]")).error.find("resultType matrix is not supported"),
            std::string::npos);
  EXPECT_FALSE(parse(200, success("vector", R"([{"value": [1, "x"]}])")).ok());
  EXPECT_FALSE(parse(200, "not json").ok());
  EXPECT_EQ(parse(422, R"({"status":"error","errorType":"execution","error":"boom"})").error,
            "prometheus: execution: boom");
  EXPECT_NE(parse(503, "overloaded").error.find("HTTP 503: overloaded"), std::string::npos);
  EXPECT_EQ(prometheus_result(HttpReply{0, {}, "no answer within 30s", true}).error,
            "prometheus: no answer within 30s");
}

TEST(AnalysisProviders, PrometheusQueryIsPercentEncoded) {
  config::PrometheusProvider p;
  p.address = "http://prom:9090/";
  p.query = "a{x=\"1\"} + 1";
  p.timeout_seconds = 5;
  const HttpCall call = prometheus_call(p);
  EXPECT_EQ(call.url, "http://prom:9090/api/v1/query?query=a%7Bx%3D%221%22%7D%20%2B%201");
  EXPECT_EQ(call.timeout, 5s);
}

TEST(AnalysisProviders, RequestsIdentifyThemselvesAndKeepTheMetricsHeaders) {
  config::WebProvider w;
  w.url = "https://example.com/check";
  w.headers = {{"X-Rev", "v2"}, {"Accept", "text/plain"}};
  const HttpCall call = web_call(w);
  ASSERT_EQ(call.headers.size(), 4u);
  EXPECT_EQ(call.headers[0].key, "User-Agent");
  EXPECT_EQ(call.headers[0].value.rfind("vane-analysis/", 0), 0u) << call.headers[0].value;
  EXPECT_EQ(call.headers[1].key, "Accept");
  EXPECT_EQ(call.headers[1].value, "application/json");
  // The metric's own come after: the client lets a later header of the same name win.
  EXPECT_EQ(call.headers[2].key, "X-Rev");
  EXPECT_EQ(call.headers[3].value, "text/plain");
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.timeout, 10s);
  config::PrometheusProvider p;
  p.address = "http://prom:9090";
  p.headers = {{"Authorization", "Bearer t"}};
  EXPECT_EQ(prometheus_call(p).headers.size(), 3u);
  EXPECT_EQ(prometheus_call(p).headers[2].value, "Bearer t");
}

TEST(AnalysisProviders, JsonPath) {
  const auto root = parse_json_value(R"({"data": {"ok": true, "list": [1, 2, 3]}, "a.b": "x"})");
  ASSERT_TRUE(root);
  const auto select = [&](std::string_view path) {
    std::string error;
    auto v = select_json_path(*root, path, &error);
    return v ? analysis::to_text(*v) : "error: " + error;
  };
  EXPECT_EQ(select("$.data.ok"), "true");
  EXPECT_EQ(select("$.data.list[0]"), "1");
  EXPECT_EQ(select("$.data.list[-1]"), "3");
  EXPECT_EQ(select("$.data.list"), "[1,2,3]");
  EXPECT_EQ(select("$['a.b']"), "x");
  EXPECT_EQ(select("{$.data.ok}"), "true");
  EXPECT_EQ(select("$"), analysis::to_text(*root));
  EXPECT_EQ(select("$.data.missing"), "error: jsonPath \"$.data.missing\": no member \"missing\"");
  EXPECT_EQ(select("$.data.list[3]"),
            "error: jsonPath \"$.data.list[3]\": index 3 out of range (3 elements)");
  EXPECT_EQ(select("$.data.ok.x"),
            "error: jsonPath \"$.data.ok.x\": cannot select \"x\" of a bool");
  EXPECT_EQ(select("data"), "error: jsonPath \"data\": must start with $");
}

TEST(AnalysisProviders, JsonPathSyntax) {
  EXPECT_EQ(json_path_error("$.a[0]['b.c']"), "");
  EXPECT_EQ(json_path_error("{$.data.ok}"), "");
  EXPECT_EQ(json_path_error("$.a..b"), "jsonPath \"$.a..b\": empty member name at column 4");
  EXPECT_EQ(json_path_error("$.a[x]"), "jsonPath \"$.a[x]\": malformed [...]");
  EXPECT_EQ(json_path_error("$x"), "jsonPath \"$x\": unexpected \"x\" at column 2");
}

TEST(AnalysisProviders, WebResults) {
  const auto web = [](unsigned status, std::string body, std::string_view path) {
    return web_result(HttpReply{status, std::move(body), {}, true}, path);
  };
  EXPECT_EQ(analysis::to_text(web(200, "plain text", "$").value), "plain text");
  // Not JSON: the body is the result whatever the jsonPath, as Argo does.
  EXPECT_EQ(analysis::to_text(web(200, "plain text", "{$.a}").value), "plain text");
  EXPECT_EQ(analysis::to_text(web(204, R"({"v": 0.5})", "$.v").value), "0.5");
  EXPECT_EQ(web(404, "", "$").error, "answered HTTP 404");
}

}  // namespace
}  // namespace vane::control
