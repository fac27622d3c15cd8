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
       {"/", "", "/healthz/", "/healthzx", "/HEALTHZ", "/readyz/x", "/nope", "/api/v1/nothing",
        "healthz", "/?/healthz"}) {
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

}  // namespace
}  // namespace vane::control
