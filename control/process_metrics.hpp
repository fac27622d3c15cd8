// Prometheus' standard process_* families (prometheus-cpp has no process collector), read from
// /proc/self and getrlimit at scrape time. Control thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <prometheus/metric_family.h>

namespace vane::control {

/// What /proc/self/stat says about the process.
struct ProcStat {
  double cpu_seconds = 0;   ///< user + system
  double rss_bytes = 0;
  double start_ticks = 0;   ///< clock ticks after boot
};

/// Parses the text of /proc/self/stat (the command name may hold spaces and parentheses).
std::optional<ProcStat> parse_proc_stat(std::string_view text, long ticks_per_second,
                                        long page_bytes);

/// process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
/// process_max_fds, process_start_time_seconds; a family whose source cannot be read is left out.
void add_process_metrics(std::vector<prometheus::MetricFamily>& out);

}  // namespace vane::control
