#include "tests/integration/harness.hpp"
#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace vane::it {
namespace {

constexpr std::string_view built_vane = VANE_BIN;
constexpr std::string_view upstream_path = VANE_TEST_UPSTREAM_BIN;
constexpr Millis startup_timeout = 10s;
constexpr Millis sanitized_drain = 5s;
/// The exit code of a child that could not set up its private hosts file.
constexpr int private_hosts_failed = 125;

/// In a forked child (of a threaded parent: async-signal-safe calls only), on stderr.
void child_error(const char* step) {
  const char* reason = ::strerrordesc_np(errno);
  for (const char* part : {"private hosts file: ", step, ": ", reason ? reason : "?", "\n"})
    if (::write(2, part, ::strlen(part)) < 0) return;
}

/// In the child: a mount namespace of its own in which `hosts` covers the system's hosts file.
/// The system file is only the mount target, never opened; the mount dies with the namespace.
bool mount_private_hosts(const char* hosts) {
  if (::unshare(CLONE_NEWNS) != 0) {
    child_error("unshare(CLONE_NEWNS) (needs root)");
    return false;
  }
  // Private first: where / is a shared mount, a bind mount would also appear outside.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    child_error("mount --make-rprivate /");
    return false;
  }
  if (::mount(hosts, "/etc/hosts", nullptr, MS_BIND, nullptr) != 0) {
    child_error("mount --bind");
    return false;
  }
  return true;
}

/// `hosts`: empty, or the child's private hosts file.
[[noreturn]] void exec_child(std::vector<char*>& argv, const char* cwd, const char* out,
                             const char* err, const char* hosts, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent is already gone
  if (cwd[0] != '\0' && ::chdir(cwd) != 0) ::_exit(127);
  const int in_fd = ::open("/dev/null", O_RDONLY);
  const int out_fd = ::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(127);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  if (hosts[0] != '\0' && !mount_private_hosts(hosts)) ::_exit(private_hosts_failed);
  ::close_range(3, ~0U, 0);  // no test socket may stay open in the child
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

/// Waits for a JSON file written by a child that is starting; throws with its stderr if the
/// child exits first or the time runs out.
boost::json::object wait_ready_file(const std::filesystem::path& path, Process& process,
                                    const std::filesystem::path& err_log) {
  boost::json::object ready;
  const bool ok = wait_until(
      [&] {
        if (!process.running()) return true;
        boost::system::error_code ec;
        const auto value = boost::json::parse(read_file(path), ec);
        if (!ec && value.is_object()) ready = value.as_object();
        return !ready.empty();
      },
      startup_timeout);
  if (!ok || ready.empty())
    throw std::runtime_error("not ready: " + path.string() + "; stderr:\n" + read_file(err_log));
  return ready;
}

/// The part of a child's stderr from its first sanitizer report on (at most 16 KiB), if any. The
/// runtimes name themselves in a report ("ERROR: AddressSanitizer:", "WARNING: ThreadSanitizer:",
/// UBSan's "FILE:LINE:COL: runtime error:"), words vane never logs.
std::optional<std::string> sanitizer_report(const std::string& text) {
  size_t first = std::string::npos;
  for (const char* mark : {"AddressSanitizer:", "LeakSanitizer:", "ThreadSanitizer:",
                           "UndefinedBehaviorSanitizer:", ": runtime error: "})
    first = std::min(first, text.find(mark));
  if (first == std::string::npos) return std::nullopt;
  const size_t line = text.rfind('\n', first);  // from the start of the report's line
  return text.substr(line == std::string::npos ? 0 : line + 1, 16384);
}

std::string text_of(const boost::json::value& v) {
  const auto& s = v.as_string();
  return std::string(s.data(), s.size());
}

uint16_t port_of(const boost::json::value& address) {
  const std::string text = text_of(address);
  return static_cast<uint16_t>(std::stoul(text.substr(text.rfind(':') + 1)));
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "vane-it-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::system_error(errno, std::generic_category(), "mkdtemp");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Process::Process(std::vector<std::string> argv, const std::filesystem::path& cwd,
                 const std::filesystem::path& out, const std::filesystem::path& err,
                 const std::filesystem::path& private_hosts)
    : err_(err) {
  argv.at(0) = support::resolve_program(argv.at(0));
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const std::string cwd_text = cwd.string(), out_text = out.string(), err_text = err.string();
  const std::string hosts_text = private_hosts.string();
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0)
    exec_child(args, cwd_text.c_str(), out_text.c_str(), err_text.c_str(), hosts_text.c_str(),
               parent);
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (const auto report = sanitizer_report(read_file(err_)))
    ADD_FAILURE() << "sanitizer report from " << err_.string() << ":\n" << *report;
}

bool Process::running() {
  if (exit_code_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

void Process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

std::optional<int> Process::exit_code() {
  running();
  return exit_code_;
}

std::optional<int> Process::wait_exit(Millis timeout) {
  wait_until([&] { return !running(); }, timeout);
  return exit_code_;
}

CommandResult run_command(std::vector<std::string> argv, Millis timeout,
                          const std::filesystem::path& cwd,
                          const std::filesystem::path& private_hosts) {
  TempDir dir;
  CommandResult result;
  {
    Process process(std::move(argv), cwd, dir.path() / "out", dir.path() / "err", private_hosts);
    result.exit_code = process.wait_exit(timeout).value_or(-1);
  }
  result.out = read_file(dir.path() / "out");
  result.err = read_file(dir.path() / "err");
  return result;
}

std::string private_hosts_unsupported() {
  TempDir dir;
  write_file(dir.path() / "hosts", "127.0.0.1 localhost\n");
  const CommandResult r = run_command({"true"}, 10s, {}, dir.path() / "hosts");
  if (r.exit_code == 0) return {};
  if (r.err.empty()) return "exit code " + std::to_string(r.exit_code);
  return r.err.substr(0, r.err.find_last_not_of('\n') + 1);
}

CommandResult curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"curl", "-sS", "--max-time", "10"});
  return run_command(std::move(args), 15s);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

std::string render(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string mark = "{{" + key + "}}";
    for (size_t at = text.find(mark); at != std::string::npos;
         at = text.find(mark, at + value.size()))
      text.replace(at, mark.size(), value);
  }
  return text;
}

bool wait_until(const std::function<bool()>& condition, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

std::string vane_binary() {
  const char* chosen = std::getenv("VANE_BIN");
  return chosen && *chosen ? chosen : std::string(built_vane);
}
bool vane_sanitized() {
  const char* flag = std::getenv("VANE_SANITIZED");
  return flag && std::string_view(flag) == "1";
}
std::string upstream_binary() { return std::string(upstream_path); }

TestUpstream::TestUpstream(std::string name, unsigned health_status, uint16_t port,
                           std::string host)
    : name_(std::move(name)), host_(std::move(host)) {
  const auto ready = dir_.path() / "ready.json";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{upstream_binary(), "--name", name_, "--ready-file", ready.string(),
                               "--health-status", std::to_string(health_status), "--port",
                               std::to_string(port), "--address", host_},
      dir_.path(), dir_.path() / "out", dir_.path() / "err");
  const auto info = wait_ready_file(ready, *process_, dir_.path() / "err");
  port_ = static_cast<uint16_t>(info.at("port").to_number<uint64_t>());
}

UpstreamStats TestUpstream::stats() const {
  if (host_ != "127.0.0.1")
    throw std::logic_error("stats(): upstream " + name_ + " is on " + host_ + ", not 127.0.0.1");
  const Response r = http_get(port_, "/__stats", "127.0.0.1");
  if (r.status != 200) throw std::runtime_error("GET /__stats failed on upstream " + name_);
  const auto json = boost::json::parse(r.body).as_object();
  return {json.at("connections").to_number<uint64_t>(), json.at("requests").to_number<uint64_t>(),
          json.at("active").to_number<uint64_t>(), json.at("closed").to_number<uint64_t>()};
}

Vane::Vane(const std::string& yaml, const VaneOptions& options) {
  const auto ready = dir_.path() / "ready.json";
  write_file(config_path(), yaml);
  std::vector<std::string> argv{vane_binary(), "run", "-c", config_path().string(),
                                "--ready-file", ready.string()};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  process_ = std::make_unique<Process>(argv, dir_.path(), dir_.path() / "vane.stdout",
                                       dir_.path() / "vane.stderr", options.private_hosts);
  const auto info = wait_ready_file(ready, *process_, dir_.path() / "vane.stderr");
  admin_port_ = port_of(info.at("admin"));
  for (const auto& [name, address] : info.at("listeners").as_object())
    listeners_[std::string(name)] = port_of(address);
}

Vane::~Vane() {
  // Sanitized, vane ends as in production (SIGTERM: drain, then exit), so that LeakSanitizer
  // checks the whole run at exit and TSan watches the shutdown; still draining, it is killed.
  if (vane_sanitized() && process_->running()) {
    process_->signal(SIGTERM);
    process_->wait_exit(sanitized_drain);
  }
  // A crash is a failure of whatever test was running, even one that saw nothing wrong.
  const int code = process_->exit_code().value_or(0);
  if (code > 128 && code != 128 + SIGKILL) ADD_FAILURE() << "vane died of signal " << code - 128;
  if (::testing::Test::HasFailure()) {
    const std::string text = log();
    std::cerr << "---- vane stderr (last 4 KiB) ----\n"
              << text.substr(text.size() - std::min<size_t>(text.size(), 4096)) << "\n----\n";
  }
}

std::string Vane::log() const { return read_file(dir_.path() / "vane.stderr"); }

std::vector<std::string> Echo::values(std::string_view field) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers)
    if (key.size() == field.size() && ::strncasecmp(key.data(), field.data(), key.size()) == 0)
      out.push_back(value);
  return out;
}

std::optional<Echo> parse_echo(const std::string& body) try {
  const auto value = boost::json::parse(body);
  const auto& o = value.as_object();
  Echo echo;
  echo.name = text_of(o.at("name"));
  echo.method = text_of(o.at("method"));
  echo.target = text_of(o.at("target"));
  echo.version = text_of(o.at("version"));
  for (const auto& h : o.at("headers").as_array())
    echo.headers.emplace_back(text_of(h.as_array().at(0)), text_of(h.as_array().at(1)));
  echo.body_bytes = o.at("body_bytes").to_number<uint64_t>();
  echo.body_fnv = std::stoull(text_of(o.at("body_fnv")));
  return echo;
} catch (const std::exception&) {
  return std::nullopt;  // not an echo body: the test says what it expected
}

uint64_t proc_status_kib(pid_t pid, std::string_view key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == ':')
      return std::stoull(line.substr(key.size() + 1));
  }
  return 0;
}

bool reset_peak_rss(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  return static_cast<bool>(out.flush());
}

}  // namespace vane::it
