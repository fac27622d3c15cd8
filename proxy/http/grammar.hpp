// Character classes of RFC 9110/9112 as one 256-entry table, so each byte costs one lookup.
// Header-only and constexpr; used by the head parsers and the chunked decoder on worker threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace vane::proxy::http::grammar {

inline constexpr uint8_t kTchar = 1U << 0;      ///< token (RFC 9110 §5.6.2)
inline constexpr uint8_t kFieldChar = 1U << 1;  ///< field-value: VCHAR, obs-text, SP, HTAB
/// request-target bytes: VCHAR (0x21-0x7E) but '#', since a request-target has no fragment
/// (RFC 9112 §3.2): one lookup rejects it where the target is scanned anyway.
inline constexpr uint8_t kTarget = 1U << 2;
inline constexpr uint8_t kRegName = 1U << 3;    ///< reg-name: unreserved, sub-delims, '%'
inline constexpr uint8_t kHex = 1U << 4;        ///< HEXDIG
inline constexpr uint8_t kDigit = 1U << 5;      ///< DIGIT
inline constexpr uint8_t kQdtext = 1U << 6;     ///< quoted-string content (RFC 9110 §5.6.4)
inline constexpr uint8_t kRequestId = 1U << 7;  ///< X-Request-Id: [A-Za-z0-9._:-]

constexpr bool in_set(int c, std::string_view set) {
  for (char s : set) {
    if (static_cast<unsigned char>(s) == c) return true;
  }
  return false;
}

constexpr uint8_t classify_byte(int c) {
  const bool digit = c >= '0' && c <= '9';
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const bool vchar = c >= 0x21 && c <= 0x7e;
  const bool obs_text = c >= 0x80;
  unsigned f = 0;
  if (digit || alpha || in_set(c, "!#$%&'*+-.^_`|~")) f |= kTchar;
  if (vchar || obs_text || c == ' ' || c == '\t') f |= kFieldChar;
  if (vchar && c != '#') f |= kTarget;
  if (digit || alpha || in_set(c, "-._~!$&'()*+,;=%")) f |= kRegName;
  if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) f |= kHex;
  if (digit) f |= kDigit;
  if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) ||
      obs_text) {
    f |= kQdtext;
  }
  if (digit || alpha || in_set(c, "._:-")) f |= kRequestId;
  return static_cast<uint8_t>(f);
}

constexpr std::array<uint8_t, 256> make_class_table() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) table[static_cast<size_t>(c)] = classify_byte(c);
  return table;
}

inline constexpr std::array<uint8_t, 256> kClasses = make_class_table();

/// True when byte `c` belongs to every class in `cls` (usually one).
constexpr bool is(uint8_t cls, char c) {
  return (kClasses[static_cast<unsigned char>(c)] & cls) == cls;
}

constexpr bool is_ows(char c) { return c == ' ' || c == '\t'; }

constexpr char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// 0-15 for a hex digit; call only when is(kHex, c).
constexpr unsigned hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>(to_lower(c) - 'a') + 10U;
}

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is(kTchar, c)) return false;
  }
  return true;
}

}  // namespace vane::proxy::http::grammar
