// Names of the rollout state's enums (as persisted and shown in STATUS) and RFC 3339 times.
#include "rollout/rollout_state.hpp"

#include <array>
#include <cstdio>
#include <utility>

namespace vane::rollout {
namespace {

using namespace std::chrono;

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& names,
                        std::string_view text) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "Unknown";
}

constexpr std::array<std::pair<Phase, std::string_view>, 4> phase_names{{
    {Phase::Healthy, "Healthy"},
    {Phase::Progressing, "Progressing"},
    {Phase::Paused, "Paused"},
    {Phase::Degraded, "Degraded"},
}};

constexpr std::array<std::pair<PauseReason, std::string_view>, 6> pause_reason_names{{
    {PauseReason::None, "None"},
    {PauseReason::Step, "Step"},
    {PauseReason::Manual, "Manual"},
    {PauseReason::Inconclusive, "Inconclusive"},
    {PauseReason::BlueGreen, "BlueGreen"},
    {PauseReason::GateStep, "GateStep"},
}};

constexpr std::array<std::pair<AnalysisStatus, std::string_view>, 4> analysis_status_names{{
    {AnalysisStatus::None, "None"},
    {AnalysisStatus::Running, "Running"},
    {AnalysisStatus::Successful, "Successful"},
    {AnalysisStatus::Inconclusive, "Inconclusive"},
}};

constexpr std::array<std::pair<Gate, std::string_view>, 4> gate_names{{
    {Gate::None, "None"},
    {Gate::Preview, "Preview"},
    {Gate::Promotion, "Promotion"},
    {Gate::PostPromotion, "PostPromotion"},
}};

/// Reads exactly `width` decimal digits at `pos`; advances `pos`.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char lower, char upper) {
  if (pos >= text.size() || (text[pos] != lower && text[pos] != upper)) return false;
  ++pos;
  return true;
}

/// ".250" -> 250 ms; more digits are read and dropped. No fraction: 0.
std::optional<int> fraction_ms(std::string_view text, std::size_t& pos) {
  if (pos >= text.size() || text[pos] != '.') return 0;
  ++pos;
  int ms = 0;
  std::size_t count = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (count < 3) ms = ms * 10 + (text[pos] - '0');
    ++count;
    ++pos;
  }
  if (count == 0) return std::nullopt;
  for (std::size_t i = count; i < 3; ++i) ms *= 10;
  return ms;
}

/// "Z" -> 0; "+hh:mm" / "-hh:mm" -> that offset east of UTC in minutes.
std::optional<int> offset_minutes(std::string_view text, std::size_t& pos) {
  if (expect(text, pos, 'z', 'Z')) return 0;
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
  const int sign = text[pos] == '-' ? -1 : 1;
  ++pos;
  const auto hh = digits(text, pos, 2);
  if (!hh || !expect(text, pos, ':', ':')) return std::nullopt;
  const auto mm = digits(text, pos, 2);
  if (!mm || *hh > 23 || *mm > 59) return std::nullopt;
  return sign * (*hh * 60 + *mm);
}

}  // namespace

std::string_view to_string(Phase phase) { return name_of(phase_names, phase); }
std::optional<Phase> phase_from_string(std::string_view text) {
  return lookup(phase_names, text);
}

std::string_view to_string(PauseReason reason) { return name_of(pause_reason_names, reason); }
std::optional<PauseReason> pause_reason_from_string(std::string_view text) {
  return lookup(pause_reason_names, text);
}

std::string_view to_string(AnalysisStatus status) {
  return name_of(analysis_status_names, status);
}
std::optional<AnalysisStatus> analysis_status_from_string(std::string_view text) {
  return lookup(analysis_status_names, text);
}

std::string_view to_string(Gate gate) { return name_of(gate_names, gate); }
std::optional<Gate> gate_from_string(std::string_view text) { return lookup(gate_names, text); }

std::string format_time(WallTime time) {
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf.data();
}

std::optional<WallTime> parse_time(std::string_view text) {
  std::size_t pos = 0;
  const auto y = digits(text, pos, 4);
  if (!y || !expect(text, pos, '-', '-')) return std::nullopt;
  const auto mo = digits(text, pos, 2);
  if (!mo || !expect(text, pos, '-', '-')) return std::nullopt;
  const auto d = digits(text, pos, 2);
  if (!d || !expect(text, pos, 't', 'T')) return std::nullopt;
  const auto h = digits(text, pos, 2);
  if (!h || !expect(text, pos, ':', ':')) return std::nullopt;
  const auto mi = digits(text, pos, 2);
  if (!mi || !expect(text, pos, ':', ':')) return std::nullopt;
  const auto s = digits(text, pos, 2);
  const auto ms = s ? fraction_ms(text, pos) : std::nullopt;
  const auto offset = ms ? offset_minutes(text, pos) : std::nullopt;
  if (!offset || pos != text.size()) return std::nullopt;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)},
                           day{static_cast<unsigned>(*d)}};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;  // 60: leap second
  const auto local = sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*s} + milliseconds{*ms};
  const auto utc = local - minutes{*offset};
  // WallTime counts nanoseconds in 64 bits (years 1677-2262): a time beyond would overflow.
  constexpr auto kEarliest = ceil<milliseconds>(WallTime::min());
  constexpr auto kLatest = floor<milliseconds>(WallTime::max());
  if (utc < kEarliest || utc > kLatest) return std::nullopt;
  return time_point_cast<WallClock::duration>(utc);
}

}  // namespace vane::rollout
