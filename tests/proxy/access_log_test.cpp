#include "proxy/access_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vane::proxy {
namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Polls until the file holds `text` (the writer thread's), at most 5 s.
bool wait_for(const std::filesystem::path& path, const std::string& text) {
  for (int i = 0; i < 500; ++i) {
    if (read(path) == text) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(AccessLog, ALineHoldsEveryFieldInOrderAndEscapesStrings) {
  AccessRecord r;
  r.request_id = "id";
  r.client_ip = "::1";
  r.client_port = 4242;
  r.method = "GET";
  r.host = "h";
  r.path = "/a\"b\\c\n";
  r.protocol = "HTTP/2";
  r.status = 503;
  r.route = "web";
  r.rollout = "shop";
  r.target = "canary";
  r.upstream = "v2";
  r.endpoint = "10.0.0.1:80";
  r.bytes_in = 7;
  r.bytes_out = 9;
  r.duration_ms = 1.5;
  r.user_agent = "curl/8";
  std::string line;
  append_access_line(line, r);
  const std::string tail = R"(","request_id":"id","client":"[::1]:4242","method":"GET","host":"h",)"
                           R"("path":"/a\"b\\c\u000a","protocol":"HTTP/2","status":503,"route":"web",)"
                           R"("rollout":"shop","target":"canary","upstream":"v2",)"
                           R"("endpoint":"10.0.0.1:80","bytes_in":7,"bytes_out":9,"duration_ms":1.500,)"
                           R"("user_agent":"curl/8"})"
                           "\n";
  ASSERT_GT(line.size(), tail.size());
  EXPECT_EQ(line.substr(line.size() - tail.size()), tail);
  EXPECT_EQ(line.rfind(R"({"time":")", 0), 0U);
}

TEST(AccessLog, AnIPv4ClientHasNoBrackets) {
  AccessRecord r;
  r.client_ip = "127.0.0.1";
  r.client_port = 80;
  std::string line;
  append_access_line(line, r);
  EXPECT_NE(line.find(R"("client":"127.0.0.1:80")"), std::string::npos) << line;
}

TEST(AccessLog, PathsThatCannotBeOpenedAreErrorsAndNothingIsCreated) {
  const auto dir = std::filesystem::temp_directory_path() / ("vane-access-log-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_EQ(access_log_error("/dev/stdout"), "");
  EXPECT_EQ(access_log_error((dir / "new.log").string()), "");
  EXPECT_FALSE(std::filesystem::exists(dir / "new.log"));
  EXPECT_EQ(access_log_error((dir / "no" / "a.log").string()),
            "cannot open " + (dir / "no" / "a.log").string() + ": its directory " +
                (dir / "no").string() + " is missing or not writable");
  EXPECT_NE(access_log_error(dir.string()), "");  // a directory is no file to append to
  std::filesystem::remove_all(dir);
}

TEST(AccessLog, BatchesAreAppendedAndAReopenMovesToTheNewFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("vane-access-log-r" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    AccessLog log((dir / "a.log").string());
    ASSERT_TRUE(log.start());
    EXPECT_TRUE(log.submit("one\n"));
    ASSERT_TRUE(wait_for(dir / "a.log", "one\n"));
    std::filesystem::rename(dir / "a.log", dir / "a.log.1");
    ASSERT_TRUE(log.reopen((dir / "a.log").string()));
    EXPECT_TRUE(log.submit("two\n"));
    ASSERT_TRUE(wait_for(dir / "a.log", "two\n"));
    EXPECT_FALSE(log.reopen((dir / "no" / "b.log").string()));  // the old file is kept
    EXPECT_TRUE(log.submit("three\n"));
  }  // the destructor writes what is queued
  EXPECT_EQ(read(dir / "a.log"), "two\nthree\n");
  EXPECT_EQ(read(dir / "a.log.1"), "one\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vane::proxy
