#include "proxy/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

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

}  // namespace

void append_access_line(std::string& out, const AccessRecord& r) {
  out += "{\"time\":\"";
  append_time(out);
  out += "\",\"request_id\":";
  append_json_string(out, r.request_id);
  out += ",\"method\":";
  append_json_string(out, r.method);
  out += ",\"path\":";
  append_json_string(out, r.path);
  out += ",\"protocol\":";
  append_json_string(out, r.protocol);
  out += ",\"status\":" + std::to_string(r.status) + ",\"target\":";
  append_json_string(out, r.target);
  out += ",\"upstream\":";
  append_json_string(out, r.upstream);
  char tail[64];
  std::snprintf(tail, sizeof tail, ",\"bytes\":%llu,\"duration\":%.6f}\n",
                static_cast<unsigned long long>(r.bytes), r.seconds);
  out += tail;
}

AccessLog::AccessLog(std::string path) : path_(std::move(path)) {}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  if (fd_ > STDERR_FILENO) ::close(fd_);
}

bool AccessLog::start() {
  fd_ = path_ == "-" ? STDERR_FILENO : ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) return false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void AccessLog::submit(std::string batch) {
  {
    std::lock_guard lock(mutex_);
    if (backlog_ + batch.size() > kMaxBacklogBytes) {
      ++dropped_;
      return;
    }
    backlog_ += batch.size();
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
}

uint64_t AccessLog::dropped_batches() const {
  std::lock_guard lock(mutex_);
  return dropped_;
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
