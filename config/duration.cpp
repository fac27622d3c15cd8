#include "config/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace vane::config {
namespace {

// Larger durations would overflow when a consumer converts them to nanoseconds.
constexpr int64_t max_ms = std::numeric_limits<int64_t>::max() / 1'000'000;

constexpr int64_t ms_per_second = 1'000;
constexpr int64_t ms_per_minute = 60 * ms_per_second;
constexpr int64_t ms_per_hour = 60 * ms_per_minute;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view take_digits(std::string_view text, std::size_t& i) {
  const std::size_t start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  return text.substr(start, i - start);
}

/// Milliseconds per unit at text[i] ("ms", "s", "m", "h"), advancing i; 0 when there is none.
int64_t take_unit(std::string_view text, std::size_t& i) {
  const std::string_view rest = text.substr(i);
  if (rest.starts_with("ms")) {
    i += 2;
    return 1;
  }
  if (rest.empty()) return 0;
  ++i;
  switch (rest.front()) {
    case 's': return ms_per_second;
    case 'm': return ms_per_minute;
    case 'h': return ms_per_hour;
    default: return 0;
  }
}

/// `whole.fraction` × unit in exact milliseconds; nullopt when not whole or too large.
std::optional<int64_t> component_ms(std::string_view whole, std::string_view fraction,
                                    int64_t unit) {
  int64_t value = 0;
  if (!whole.empty()) {
    const auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), value);
    if (ec != std::errc{} || value > max_ms / unit) return std::nullopt;
  }
  value *= unit;
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.empty()) return value;
  if (fraction.size() > 9) return std::nullopt;  // finer than any unit's millisecond
  int64_t digits = 0;
  int64_t scale = 1;
  for (const char c : fraction) {
    digits = digits * 10 + (c - '0');
    scale *= 10;
  }
  const int64_t scaled = digits * unit;  // < 1e9 × 3.6e6: fits
  if (scaled % scale != 0) return std::nullopt;
  return value + scaled / scale;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration{0};
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view whole = take_digits(text, i);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
      ++i;
      fraction = take_digits(text, i);
    }
    if (whole.empty() && fraction.empty()) return std::nullopt;
    const int64_t unit = take_unit(text, i);
    if (unit == 0) return std::nullopt;
    const auto ms = component_ms(whole, fraction, unit);
    if (!ms || *ms > max_ms - total) return std::nullopt;
    total += *ms;
  }
  return Duration{total};
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < ms_per_second) return out + std::to_string(ms) + "ms";
  const int64_t hours = ms / ms_per_hour;
  const int64_t minutes = ms % ms_per_hour / ms_per_minute;
  const int64_t seconds = ms % ms_per_minute / ms_per_second;
  const int64_t millis = ms % ms_per_second;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (minutes > 0) out += std::to_string(minutes) + "m";
  if (seconds == 0 && millis == 0) return out;
  out += std::to_string(seconds);
  if (millis > 0) {
    std::string fraction = std::to_string(millis + 1000).substr(1);  // zero-padded to 3 digits
    while (fraction.back() == '0') fraction.pop_back();
    out += "." + fraction;
  }
  return out + "s";
}

}  // namespace vane::config
