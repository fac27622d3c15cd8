#include "proxy/access_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include "proxy/quiet_thread.hpp"

namespace vane::proxy {
namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_time(std::string& out) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  n += static_cast<size_t>(std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000)));
  out.append(buf, n);
}

/// The process's own descriptor for the paths that name one (a container's stdout may be a
/// socket, which /dev/stdout cannot be opened as), else -1.
int standard_fd(const std::string& path) {
  if (path == "/dev/stdout") return STDOUT_FILENO;
  if (path == "/dev/stderr" || path == "-") return STDERR_FILENO;
  return -1;
}

int open_log(const std::string& path) {
  const int fd = standard_fd(path);
  return fd >= 0 ? fd : ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

void close_log(int fd) {
  if (fd > STDERR_FILENO) ::close(fd);
}

void field(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  append_json_string(out, value);
}

}  // namespace

std::string access_log_error(const std::string& path) {
  if (path.empty()) return "must not be empty";
  if (standard_fd(path) >= 0) return "";
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return "cannot open " + path + ": is a directory";
    return ::access(path.c_str(), W_OK) == 0 ? "" : "cannot open " + path + ": not writable";
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::access(dir.c_str(), W_OK | X_OK) == 0) return "";
  return "cannot open " + path + ": its directory " + dir + " is missing or not writable";
}

void append_access_line(std::string& out, const AccessRecord& r) {
  out += "{\"time\":\"";
  append_time(out);
  out += '"';
  field(out, "request_id", r.request_id);
  const bool v6 = r.client_ip.find(':') != std::string_view::npos;
  std::string client = v6 ? "[" : "";
  client.append(r.client_ip).append(v6 ? "]:" : ":").append(std::to_string(r.client_port));
  field(out, "client", client);
  field(out, "method", r.method);
  field(out, "host", r.host);
  field(out, "path", r.path);
  field(out, "protocol", r.protocol);
  out += ",\"status\":" + std::to_string(r.status);
  field(out, "route", r.route);
  field(out, "rollout", r.rollout);
  field(out, "target", r.target);
  field(out, "upstream", r.upstream);
  field(out, "endpoint", r.endpoint);
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, ",\"bytes_in\":%llu,\"bytes_out\":%llu,\"duration_ms\":%.3f",
                static_cast<unsigned long long>(r.bytes_in),
                static_cast<unsigned long long>(r.bytes_out), r.duration_ms);
  out += numbers;
  field(out, "user_agent", r.user_agent);
  out += "}\n";
}

AccessLog::AccessLog(std::string path) : path_(std::move(path)) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  close_log(fd_);
  close_log(next_fd_);
}

bool AccessLog::start() {
  fd_ = open_log(path_);
  if (fd_ < 0) return false;
  thread_ = start_quiet_thread([this] { run(); });
  return true;
}

bool AccessLog::reopen(const std::string& path) {
  const int fd = open_log(path);
  if (fd < 0) return false;
  std::lock_guard lock(mutex_);
  close_log(next_fd_);  // a reopen the writer has not taken yet
  next_fd_ = fd;
  path_ = path;
  return true;
}

bool AccessLog::submit(std::string batch) {
  {
    std::lock_guard lock(mutex_);
    if (backlog_ + batch.size() > kMaxBacklogBytes) return false;
    backlog_ += batch.size();
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
  return true;
}

void AccessLog::run() {
  for (;;) {
    std::string batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, everything written
      batch = std::move(queue_.front());
      queue_.pop_front();
      backlog_ -= batch.size();
      if (next_fd_ >= 0) {
        close_log(fd_);
        fd_ = std::exchange(next_fd_, -1);
      }
    }
    size_t off = 0;
    while (off < batch.size()) {
      const ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
}

}  // namespace vane::proxy
