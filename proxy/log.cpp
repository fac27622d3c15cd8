#include "proxy/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <string>

namespace vane::proxy::log {
namespace {

std::atomic<Level> g_level{Level::Info};
std::atomic<bool> g_json{false};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + "." + std::to_string(1000 + ms.count()).substr(1) + "Z";
}

void json_escape(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
}

}  // namespace

void set_level(Level level) { g_level = level; }
void set_json(bool json) { g_json = json; }

void write(Level level, std::string_view message) { write(level, message, {}); }

void write(Level level, std::string_view message, Fields fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  std::string line;
  if (g_json.load(std::memory_order_relaxed)) {
    line = "{\"time\":\"" + timestamp() + "\",\"level\":\"" + std::string(level_name(level)) +
           "\",\"msg\":\"";
    json_escape(line, message);
    line += '"';
    for (const auto& [key, value] : fields) {
      line += ",\"";
      json_escape(line, key);
      line += "\":\"";
      json_escape(line, value);
      line += '"';
    }
    line += "}\n";
  } else {
    line = timestamp() + " " + std::string(level_name(level)) + " " + std::string(message) + "\n";
  }
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace vane::proxy::log
