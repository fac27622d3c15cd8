// The access log as config (SPEC §11): `accessLog` writes one JSON line per request with every
// field, over HTTP/1.1 and HTTP/2 (curl); `run --access-log` wins over it; a reload reopens it.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {
namespace {

/// The log's lines as JSON objects, once it has `count` of them (else what it has after 10 s).
std::vector<json::value> wait_lines(const std::filesystem::path& log, size_t count) {
  std::vector<json::value> lines;
  wait_until([&] {
    lines.clear();
    std::istringstream in(std::filesystem::exists(log) ? read_file(log) : std::string());
    for (std::string line; std::getline(in, line);) lines.push_back(parse_json(line));
    return lines.size() >= count;
  }, 10s);
  return lines;
}

json::value line_for(const std::vector<json::value>& lines, std::string_view path) {
  for (const auto& line : lines) {
    if (field(line, "path").is_string() && str(field(line, "path")) == path) return line;
  }
  return nullptr;
}

TEST(AccessLogTest, EachRequestIsOneJsonLineWithEveryField) {
  TempDir dir;
  const auto log = dir.path() / "access.log";
  RolloutSetup setup;
  setup.listener_extra = ", protocols: [http1, h2]";
  setup.top_extra = "accessLog: {path: \"" + log.string() + "\", format: json}\n";
  RolloutRig rig(setup);
  const std::string base = "http://127.0.0.1:" + std::to_string(rig.port());
  const CommandResult one = curl({"--http1.1", "-o", "/dev/null", "-w", "%{size_download}",
                                  "-H", "X-Request-Id: req-one", "-A", "test-agent/1",
                                  "--data-binary", "0123456789", base + "/one?body_bytes=321"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CommandResult two = curl({"--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{size_download}",
                                  "-A", "test-agent/2", base + "/two?body_bytes=123"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto lines = wait_lines(log, 2);
  ASSERT_EQ(lines.size(), 2U) << read_file(log);

  const json::value a = line_for(lines, "/one?body_bytes=321");
  ASSERT_TRUE(a.is_object()) << read_file(log);
  EXPECT_TRUE(parse_utc(str(field(a, "time")))) << json::serialize(a);
  EXPECT_EQ(str(field(a, "request_id")), "req-one");
  EXPECT_EQ(str(field(a, "client")).rfind("127.0.0.1:", 0), 0U) << json::serialize(a);
  EXPECT_GT(std::stoi(str(field(a, "client")).substr(10)), 0);
  EXPECT_EQ(str(field(a, "method")), "POST");
  EXPECT_EQ(str(field(a, "host")), "127.0.0.1:" + std::to_string(rig.port()));
  EXPECT_EQ(str(field(a, "protocol")), "HTTP/1.1");
  EXPECT_EQ(num(field(a, "status")), 200);
  EXPECT_EQ(str(field(a, "route")), "web");
  EXPECT_EQ(str(field(a, "rollout")), "web");
  EXPECT_EQ(str(field(a, "target")), "stable");
  EXPECT_EQ(str(field(a, "upstream")), "v1");
  EXPECT_EQ(str(field(a, "endpoint")), rig.v1().address());
  EXPECT_EQ(num(field(a, "bytes_in")), 10);
  EXPECT_EQ(num(field(a, "bytes_out")), std::stod(one.out));
  EXPECT_GE(num(field(a, "duration_ms")), 0);
  EXPECT_LT(num(field(a, "duration_ms")), 10000);
  EXPECT_EQ(str(field(a, "user_agent")), "test-agent/1");

  const json::value b = line_for(lines, "/two?body_bytes=123");
  ASSERT_TRUE(b.is_object()) << read_file(log);
  EXPECT_EQ(str(field(b, "protocol")), "HTTP/2");
  EXPECT_EQ(str(field(b, "method")), "GET");
  EXPECT_EQ(str(field(b, "host")), "127.0.0.1:" + std::to_string(rig.port()));
  EXPECT_EQ(str(field(b, "client")).rfind("127.0.0.1:", 0), 0U) << json::serialize(b);
  EXPECT_EQ(str(field(b, "request_id")).size(), 36U);  // a new UUID
  EXPECT_EQ(num(field(b, "bytes_in")), 0);
  EXPECT_EQ(num(field(b, "bytes_out")), std::stod(two.out));
  EXPECT_EQ(str(field(b, "upstream")), "v1");
  EXPECT_EQ(str(field(b, "user_agent")), "test-agent/2");
}

std::string plain_config(const std::string& upstream, const std::string& access_log) {
  return R"(listeners: [{name: public, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
upstreams: [{name: u, endpoints: [")" + upstream + R"("]}]
routes: [{name: all, match: {pathPrefix: /}, upstream: u}]
)" + access_log;
}

TEST(AccessLogTest, TheCommandLinesPathWinsOverTheConfigs) {
  TestUpstream upstream("u");
  TempDir dir;
  const auto from_config = dir.path() / "config.log";
  const auto from_flag = dir.path() / "flag.log";
  Vane vane(plain_config(upstream.address(), "accessLog: {path: \"" + from_config.string() + "\"}\n"),
            VaneOptions{{"--access-log", from_flag.string()}, {}});
  const std::string base = "http://127.0.0.1:" + std::to_string(vane.port());
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/flag"}).out, "200");
  const auto lines = wait_lines(from_flag, 1);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(str(field(lines[0], "path")), "/flag");
  EXPECT_EQ(str(field(lines[0], "rollout")), "");
  EXPECT_FALSE(std::filesystem::exists(from_config));
}

TEST(AccessLogTest, AReloadReopensTheFileOrTurnsTheLogOff) {
  TestUpstream upstream("u");
  TempDir dir;
  const auto first = dir.path() / "first.log";
  const auto second = dir.path() / "second.log";
  Vane vane(plain_config(upstream.address(), "accessLog: {path: \"" + first.string() + "\"}\n"),
            VaneOptions{{"--no-watch-config"}, {}});
  const std::string base = "http://127.0.0.1:" + std::to_string(vane.port());
  const auto reload = [&](const std::string& access_log) {
    write_file(vane.config_path(), plain_config(upstream.address(), access_log));
    return admin_call(vane.admin_port(), "POST", "/api/v1/reload").status;
  };
  EXPECT_EQ(curl({"-o", "/dev/null", base + "/a"}).exit_code, 0);
  ASSERT_EQ(wait_lines(first, 1).size(), 1U);

  // Rotated away, as logrotate does: the reload writes to a new file at the path.
  std::filesystem::rename(first, dir.path() / "first.log.1");
  ASSERT_EQ(reload("accessLog: {path: \"" + first.string() + "\"}\n"), 200);
  EXPECT_EQ(curl({"-o", "/dev/null", base + "/b"}).exit_code, 0);
  auto lines = wait_lines(first, 1);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(str(field(lines[0], "path")), "/b");

  ASSERT_EQ(reload("accessLog: {path: \"" + second.string() + "\"}\n"), 200);
  EXPECT_EQ(curl({"-o", "/dev/null", base + "/c"}).exit_code, 0);
  lines = wait_lines(second, 1);
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(str(field(lines[0], "path")), "/c");

  // Off: nothing more is written; on again: lines come back.
  ASSERT_EQ(reload(""), 200);
  EXPECT_EQ(curl({"-o", "/dev/null", base + "/off"}).exit_code, 0);
  ASSERT_EQ(reload("accessLog: {path: \"" + second.string() + "\"}\n"), 200);
  EXPECT_EQ(curl({"-o", "/dev/null", base + "/on"}).exit_code, 0);
  lines = wait_lines(second, 2);
  ASSERT_EQ(lines.size(), 2U) << read_file(second);
  EXPECT_EQ(str(field(lines[1], "path")), "/on");
}

}  // namespace
}  // namespace vane::it
