#include "control/process_metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace vane::control {
namespace {

TEST(ProcessMetrics, ProcStatFieldsAfterACommandNameWithSpacesAndParentheses) {
  // Fields 1-24 of proc(5); utime 250 and stime 150 ticks, starttime 9000, rss 300 pages.
  const std::string text =
      "4242 (va ne) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 9000 "
      "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const auto stat = parse_proc_stat(text, 100, 4096);
  ASSERT_TRUE(stat);
  EXPECT_DOUBLE_EQ(stat->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(stat->rss_bytes, 300.0 * 4096);
  EXPECT_DOUBLE_EQ(stat->start_ticks, 9000);
}

TEST(ProcessMetrics, AShortOrGarbledStatIsNothing) {
  EXPECT_FALSE(parse_proc_stat("", 100, 4096));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 2 3", 100, 4096));
  EXPECT_FALSE(parse_proc_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 1 0 0 20 0 1 0 1 1 1", 100, 4096));
}

TEST(ProcessMetrics, ThisProcessHasEveryFamily) {
  std::vector<prometheus::MetricFamily> families;
  add_process_metrics(families);
  std::vector<std::string> names;
  for (const auto& f : families) names.push_back(f.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"process_cpu_seconds_total", "process_max_fds",
                                             "process_open_fds", "process_resident_memory_bytes",
                                             "process_start_time_seconds"}));
}

}  // namespace
}  // namespace vane::control
