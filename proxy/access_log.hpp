// The access log (off by default): one JSON line per request. Workers batch lines in their own
// buffer and hand whole batches over a queue to one writer thread, so a slow disk never blocks a
// worker; past a backlog cap, batches are dropped and counted. Any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace vane::proxy {

class AccessLog {
 public:
  /// `path` is a file (appended to) or "-" for stderr.
  explicit AccessLog(std::string path);
  ~AccessLog();

  /// False when the file cannot be opened.
  bool start();
  /// Hands over a batch of complete lines; never blocks on I/O.
  void submit(std::string batch);
  uint64_t dropped_batches() const;

 private:
  void run();

  static constexpr size_t kMaxBacklogBytes = 8 << 20;
  std::string path_;
  int fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  size_t backlog_ = 0;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

/// Appends one access-log line (JSON, with a newline) to `out`.
struct AccessRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;
  std::string_view protocol;  ///< the client's: "HTTP/1.1", "HTTP/1.0", "HTTP/2"
  int status = 0;
  std::string_view target;
  std::string_view upstream;  ///< "host:port" of the endpoint that answered, or ""
  uint64_t bytes = 0;         ///< response body bytes sent to the client
  double seconds = 0;
};
void append_access_line(std::string& out, const AccessRecord& record);

}  // namespace vane::proxy
