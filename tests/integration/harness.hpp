// Integration-test harness: runs the real `vane` binary and vane-test-upstream servers as child
// processes (killed and reaped on teardown, and by the kernel if the test process dies), on
// loopback port 0, and reads what they report. Test thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/raw_client.hpp"

namespace vane::it {

/// A fresh directory under /tmp, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A child process with stdin from /dev/null and stdout/stderr in files. Destroying it kills
/// (SIGKILL) and reaps it; PR_SET_PDEATHSIG kills it if the test process dies first. A sanitizer
/// report in its stderr (a sanitized build) fails the running test, with the report.
///
/// `private_hosts`: when given, the child runs in a mount namespace of its own where this file is
/// mounted over the system's hosts file: a test edits that file, seen by this child alone, and
/// never the machine's. It needs root; private_hosts_unsupported() says why it fails.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::filesystem::path& cwd,
          const std::filesystem::path& out, const std::filesystem::path& err,
          const std::filesystem::path& private_hosts = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  /// The exit code once the process has ended, else nothing; never waits.
  std::optional<int> exit_code();
  /// Waits up to `timeout` for the exit; the exit code (128+N when killed by signal N).
  std::optional<int> wait_exit(Millis timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::filesystem::path err_;
};

struct CommandResult {
  int exit_code = -1;  ///< -1: did not finish in time (then killed)
  std::string out;
  std::string err;
};

/// Runs a program (found in PATH when `argv[0]` has no '/') to completion, at most `timeout`
/// (`private_hosts`: as for Process).
CommandResult run_command(std::vector<std::string> argv, Millis timeout = 20s,
                          const std::filesystem::path& cwd = {},
                          const std::filesystem::path& private_hosts = {});

/// Why a child cannot have a private hosts file here (e.g. not root); empty when it can.
std::string private_hosts_unsupported();

/// `curl -sS --max-time 10 ARGS...`.
CommandResult curl(std::vector<std::string> args);

std::string read_file(const std::filesystem::path& path);
/// The non-empty lines of `text`, without their newlines.
std::vector<std::string> lines_of(const std::string& text);
void write_file(const std::filesystem::path& path, const std::string& text);

/// Replaces every `{{key}}` in `text` with its value.
std::string render(std::string text, const std::map<std::string, std::string>& vars);

/// Polls `condition` every few milliseconds until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, Millis timeout);

/// The vane under test: $VANE_BIN when set (scripts/test.sh points it at a sanitized build's
/// vane, or at vane-plain-asio), else the one built beside these tests.
std::string vane_binary();
/// Whether that vane is sanitized ($VANE_SANITIZED=1, set with VANE_BIN): it is then stopped by
/// SIGTERM, so that LeakSanitizer checks every run at exit, and its memory carries shadow bytes.
bool vane_sanitized();
/// The test upstream, always the one built beside these tests.
std::string upstream_binary();

struct UpstreamStats {
  uint64_t connections = 0;  ///< connections that carried proxied requests
  uint64_t requests = 0;     ///< proxied requests (not /__stats or /healthz)
  uint64_t active = 0;       ///< proxied requests being served now
  uint64_t closed = 0;       ///< connections of `connections` the upstream has closed
};

/// One vane-test-upstream process on 127.0.0.1:0 (or on `port`, to come back where it was; on
/// another loopback `host`, e.g. 127.0.0.2, to share a port with another upstream).
class TestUpstream {
 public:
  explicit TestUpstream(std::string name, unsigned health_status = 200, uint16_t port = 0,
                        std::string host = "127.0.0.1");
  uint16_t port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  const std::string& name() const { return name_; }
  /// Only for an upstream on 127.0.0.1 (where RawClient connects).
  UpstreamStats stats() const;

 private:
  std::string name_;
  std::string host_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
};

struct VaneOptions {
  std::vector<std::string> args;        ///< more arguments of `vane run`
  std::filesystem::path private_hosts;  ///< as for Process
};

/// `vane run` on a config written to a temporary directory (also its working directory, so the
/// default state dir lands there). Prints the tail of vane's stderr when the test has failed.
class Vane {
 public:
  explicit Vane(const std::string& yaml, const VaneOptions& options = {});
  ~Vane();
  Vane(const Vane&) = delete;
  Vane& operator=(const Vane&) = delete;

  uint16_t port(const std::string& listener = "public") const { return listeners_.at(listener); }
  uint16_t admin_port() const { return admin_port_; }
  pid_t pid() const { return process_->pid(); }
  Process& process() { return *process_; }
  std::filesystem::path config_path() const { return dir_.path() / "vane.yaml"; }
  std::string log() const;

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  uint16_t admin_port_ = 0;
  std::map<std::string, uint16_t> listeners_;
};

/// What vane-test-upstream saw of a request with `echo=1`.
struct Echo {
  std::string name;
  std::string method;
  std::string target;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;  ///< as received, in order
  uint64_t body_bytes = 0;
  uint64_t body_fnv = 0;

  /// Every value of a field, case-insensitively, in order.
  std::vector<std::string> values(std::string_view field) const;
};

std::optional<Echo> parse_echo(const std::string& body);

/// A line of /proc/PID/status in KiB (VmRSS, VmHWM); 0 when unreadable.
uint64_t proc_status_kib(pid_t pid, std::string_view key);
/// Resets the process's peak RSS (VmHWM) so a later VmHWM covers only what follows.
bool reset_peak_rss(pid_t pid);

}  // namespace vane::it
