// The access log (off by default; SPEC §11): one JSON line per request. Workers batch lines in
// their own buffer and hand whole batches over a queue to one writer thread, so a slow disk never
// blocks a worker; past a backlog cap, batches are dropped (the workers count their lines). Any
// thread.
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
  /// `path` is a file (appended to); "/dev/stdout", "/dev/stderr" and "-" (stderr) write to the
  /// process's own descriptors.
  explicit AccessLog(std::string path);
  ~AccessLog();

  /// False when the file cannot be opened.
  bool start();
  /// Writes to `path` from the next batch on (a reload: the file may have been rotated). False,
  /// and the old file kept, when it cannot be opened.
  bool reopen(const std::string& path);
  /// Hands over a batch of complete lines; never blocks on I/O. False: dropped (backlog full).
  bool submit(std::string batch);

 private:
  void run();

  static constexpr size_t kMaxBacklogBytes = 8 << 20;
  std::string path_;
  int fd_ = -1;       ///< the writer thread's
  int next_fd_ = -1;  ///< under mutex_: reopen()'s, taken by the writer before its next batch
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  size_t backlog_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

/// An error message when `path` cannot be opened for appending (config validation), else "".
/// Creates nothing.
std::string access_log_error(const std::string& path);

/// One request as the access log shows it. Names are config names; "" when there is none.
struct AccessRecord {
  std::string_view request_id;
  std::string_view client_ip;
  uint16_t client_port = 0;
  std::string_view method;
  std::string_view host;
  std::string_view path;
  std::string_view protocol;  ///< the client's: "HTTP/1.1", "HTTP/1.0", "HTTP/2"
  int status = 0;
  std::string_view route;
  std::string_view rollout;
  std::string_view target;    ///< stable, canary, mirror, experiment:NAME
  std::string_view upstream;
  std::string_view endpoint;  ///< the endpoint that answered, as configured ("host:port")
  uint64_t bytes_in = 0;      ///< request body bytes read from the client
  uint64_t bytes_out = 0;     ///< response body bytes sent to the client
  double duration_ms = 0;
  std::string_view user_agent;
};
/// Appends one access-log line (JSON, with a newline) to `out`.
void append_access_line(std::string& out, const AccessRecord& record);

}  // namespace vane::proxy
