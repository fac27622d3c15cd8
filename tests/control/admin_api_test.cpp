// AdminApi routing of the health endpoints (SPEC §6), without the HTTP server around it.
#include "control/admin_api.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace vane::control {
namespace {

AdminResponse get(const AdminApi& api, std::string_view target, std::string_view method = "GET") {
  return api.handle(AdminRequest{method, target, {}, {}});
}

TEST(AdminApi, HealthzIsAlways200) {
  AdminApi api;
  for (const bool ready : {false, true}) {
    api.set_ready(ready);
    const AdminResponse r = get(api, "/healthz");
    EXPECT_EQ(r.status, 200) << "ready " << ready;
    EXPECT_FALSE(r.body.empty());
  }
}

TEST(AdminApi, ReadyzFollowsSetReady) {
  AdminApi api;
  EXPECT_FALSE(api.ready());
  EXPECT_EQ(get(api, "/readyz").status, 503);
  api.set_ready(true);
  EXPECT_TRUE(api.ready());
  EXPECT_EQ(get(api, "/readyz").status, 200);
  api.set_ready(false);  // draining
  EXPECT_FALSE(api.ready());
  EXPECT_EQ(get(api, "/readyz").status, 503);
}

TEST(AdminApi, HeadIsLikeGet) {
  AdminApi api;
  api.set_ready(true);
  EXPECT_EQ(get(api, "/healthz", "HEAD").status, 200);
  EXPECT_EQ(get(api, "/readyz", "HEAD").status, 200);
}

TEST(AdminApi, UnknownPathIs404) {
  AdminApi api;
  api.set_ready(true);
  for (const std::string_view target :
       {"", "/healthz/", "/healthzx", "/HEALTHZ", "/readyz/x", "/nope", "/api/v1/nothing",
        "healthz", "/dashboard/", "/dashboard/nope.js", "/dashboard/../index.html", "/index.html"}) {
    const AdminResponse r = get(api, target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.content_type, "application/json") << target;
    EXPECT_NE(r.body.find("not found"), std::string::npos) << target;
  }
}

TEST(AdminApi, QueryStringsAreIgnored) {
  AdminApi api;
  EXPECT_EQ(get(api, "/healthz?verbose=1").status, 200);
  EXPECT_EQ(get(api, "/healthz?").status, 200);
  EXPECT_EQ(get(api, "/readyz?x=y&z").status, 503);
  api.set_ready(true);
  EXPECT_EQ(get(api, "/readyz?x=y&z").status, 200);
  EXPECT_EQ(get(api, "/nope?healthz").status, 404);
}

TEST(AdminApi, OtherMethodsOnHealthEndpointsAre405) {
  AdminApi api;
  api.set_ready(true);
  for (const std::string_view method : {"POST", "PUT", "DELETE", "get"}) {
    EXPECT_EQ(get(api, "/healthz", method).status, 405) << method;
    EXPECT_EQ(get(api, "/readyz", method).status, 405) << method;
  }
}

TEST(AdminApi, BodiesAndContentTypes) {
  AdminApi api;
  const AdminResponse health = get(api, "/healthz");
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(health.content_type.rfind("text/plain", 0), 0u);
  const AdminResponse not_ready = get(api, "/readyz");
  EXPECT_EQ(not_ready.body, "not ready\n");
  api.set_ready(true);
  EXPECT_EQ(get(api, "/readyz").body, "ready\n");
}

// ---- the dashboard (SPEC §12) -----------------------------------------------------------------

std::string header(const AdminResponse& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(AdminApi, ServesTheDashboardsFilesWithAStrictPolicy) {
  AdminApi api;
  const struct {
    std::string_view target, type, needle;
  } files[] = {{"/", "text/html; charset=utf-8", "/dashboard/app.js"},
               {"/?rollout=web", "text/html; charset=utf-8", "<!doctype html>"},
               {"/dashboard/app.js", "text/javascript; charset=utf-8", "/api/v1/rollouts"},
               {"/dashboard/app.css", "text/css; charset=utf-8", "prefers-color-scheme"},
               {"/dashboard/icon.svg", "image/svg+xml", "<svg"}};
  for (const auto& file : files) {
    const AdminResponse r = get(api, file.target);
    EXPECT_EQ(r.status, 200) << file.target;
    EXPECT_EQ(r.content_type, file.type) << file.target;
    EXPECT_NE(r.body.find(file.needle), std::string::npos) << file.target;
    const std::string policy = header(r, "Content-Security-Policy");
    EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
    EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe"), std::string::npos) << policy;
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    EXPECT_FALSE(header(r, "ETag").empty());
  }
  // Neither inline script nor inline style: the policy would refuse them.
  const std::string page = get(api, "/").body;
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_EQ(page.find("style="), std::string::npos);
  EXPECT_EQ(page.find("on" "click="), std::string::npos);
  EXPECT_EQ(page.find("http"), std::string::npos) << "no URL off the admin origin";
}

TEST(AdminApi, AnETagThatMatchesIsNotModified) {
  AdminApi api;
  const AdminResponse first = get(api, "/dashboard/app.js");
  const std::string etag = header(first, "ETag");
  ASSERT_EQ(etag.front(), '"');
  AdminRequest again{"GET", "/dashboard/app.js", {}, {}};
  again.if_none_match = etag;
  const AdminResponse cached = api.handle(again);
  EXPECT_EQ(cached.status, 304);
  EXPECT_TRUE(cached.body.empty());
  EXPECT_EQ(header(cached, "ETag"), etag);
  again.if_none_match = "\"something-else\"";
  EXPECT_EQ(api.handle(again).status, 200);
  EXPECT_NE(header(get(api, "/"), "ETag"), etag) << "each file has its own";
}

TEST(AdminApi, TheDashboardTakesNoAction) {
  AdminApi api;
  for (const std::string_view method : {"POST", "PUT", "DELETE"}) {
    EXPECT_EQ(get(api, "/", method).status, 405) << method;
    EXPECT_EQ(get(api, "/dashboard/app.js", method).status, 405) << method;
  }
}

TEST(AdminApi, APostFromAnotherOriginIsRefusedTokenOrNot) {
  AdminApi api;
  int reloads = 0;
  AdminApi::Sources sources;
  sources.reload = [&] {
    ++reloads;
    return std::vector<config::Error>{};
  };
  api.set_sources(std::move(sources));
  AdminRequest post{"POST", "/api/v1/reload", {}, {}};
  post.host = "127.0.0.1:9901";
  EXPECT_EQ(api.handle(post).status, 200) << "no Origin: not a browser (curl, the CLI)";
  for (const std::string_view origin : {"http://evil.example", "http://127.0.0.1:8080", "null",
                                        "http://127.0.0.1:9901.evil.example", "file://"}) {
    post.origin = origin;
    const AdminResponse r = api.handle(post);
    EXPECT_EQ(r.status, 403) << origin;
    EXPECT_NE(r.body.find("cross-origin"), std::string::npos);
  }
  EXPECT_EQ(reloads, 1);
  post.origin = "http://127.0.0.1:9901";  // the dashboard itself
  EXPECT_EQ(api.handle(post).status, 200);
  // A name re-pointed at vane (DNS rebinding) is same-origin: without a token, only addresses act.
  std::string origin;  // post.origin views it
  for (const std::string_view host : {"evil.example:9901", "vane.internal"}) {
    post.host = host;
    post.origin = origin = "http://" + std::string(host);
    EXPECT_EQ(api.handle(post).status, 403) << host;
  }
  for (const std::string_view host : {"localhost:9901", "[::1]:9901", "10.1.2.3"}) {
    post.host = host;
    post.origin = origin = "http://" + std::string(host);
    EXPECT_EQ(api.handle(post).status, 200) << host;
  }
  api.set_token("t0ken");
  post.host = "vane.internal";
  post.origin = "http://vane.internal";
  EXPECT_EQ(api.handle(post).status, 401) << "the same token rules as any client";
  post.authorization = "Bearer t0ken";
  EXPECT_EQ(api.handle(post).status, 200);
  post.origin = "http://evil.example";
  EXPECT_EQ(api.handle(post).status, 403) << "the right token from another origin";
  EXPECT_EQ(reloads, 6);
}

}  // namespace
}  // namespace vane::control
