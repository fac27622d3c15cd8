#include "control/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace vane::control {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void add_one(std::vector<MetricFamily>& out, const char* name, const char* help, MetricType type,
             double value) {
  ClientMetric metric;
  if (type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  out.push_back(MetricFamily{name, help, type, {metric}});
}

/// The boot time in Unix seconds: /proc/stat's `btime` line.
std::optional<double> boot_time() {
  std::istringstream in(read_file("/proc/stat"));
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<double> open_fds() {
  std::error_code ec;
  double count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++count;
  }
  if (ec) return std::nullopt;
  return count - 1;  // the directory iterator's own descriptor
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text, long ticks_per_second,
                                        long page_bytes) {
  // Fields after the command's closing parenthesis, from field 3 (state) on: utime is field
  // 14, stime 15, starttime 22, rss 24 (proc(5)).
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream in{std::string(text.substr(close + 1))};
  std::string field;
  double utime = 0, stime = 0, start = 0, rss = 0;
  for (int n = 3; n <= 24 && in >> field; ++n) {
    double* into = n == 14 ? &utime : n == 15 ? &stime : n == 22 ? &start : n == 24 ? &rss : nullptr;
    if (!into) continue;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *into);
    if (ec != std::errc{} || end != field.data() + field.size()) return std::nullopt;
    if (n == 24) {
      const auto ticks = static_cast<double>(ticks_per_second);
      return ProcStat{(utime + stime) / ticks, rss * static_cast<double>(page_bytes), start};
    }
  }
  return std::nullopt;
}

void add_process_metrics(std::vector<MetricFamily>& out) {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (const auto stat = parse_proc_stat(read_file("/proc/self/stat"), ticks, ::sysconf(_SC_PAGESIZE))) {
    add_one(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
            MetricType::Counter, stat->cpu_seconds);
    add_one(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
            MetricType::Gauge, stat->rss_bytes);
    if (const auto boot = boot_time()) {
      add_one(out, "process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
              *boot + stat->start_ticks / static_cast<double>(ticks));
    }
  }
  if (const auto fds = open_fds()) {
    add_one(out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds);
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const double max = limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<double>(limit.rlim_cur);
    if (max >= 0) {
      add_one(out, "process_max_fds", "Maximum number of open file descriptors.",
              MetricType::Gauge, max);
    }
  }
}

}  // namespace vane::control
