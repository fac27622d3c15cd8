#include "control/json_text.hpp"

#include <charconv>
#include <cmath>


namespace vane::control {
namespace {

namespace json = boost::json;

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  // Fixed notation gives at most 21 digits before the point in this range and the shortest
  // round-trip digits after it; 400 bytes also hold any double in general form.
  char buf[400];
  const double magnitude = std::fabs(d);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21);
  const auto result = fixed ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                            : std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, result.ptr);
}

/// `s` as a JSON string, escaped as Boost.JSON escapes (the rest of the bytes as they are).
void append_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  size_t plain = 0;  // start of the bytes not yet written
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out += '"';
}

template <class Int>
void append_integer(std::string& out, Int n) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, n).ptr);
}

// Written straight into `out`: a STATUS list of 1,000 rollouts is 2.6 MB of small values, and a
// temporary string per value was a third of its time.
void append(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      append_double(out, value.get_double());
      return;
    case json::kind::int64:
      append_integer(out, value.get_int64());
      return;
    case json::kind::uint64:
      append_integer(out, value.get_uint64());
      return;
    case json::kind::string:
      append_string(out, value.get_string());
      return;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case json::kind::null:
      out += "null";
      return;
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        append_string(out, key);
        out += ':';
        append(out, item);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append(out, item);
      }
      out += ']';
      return;
    }
  }
}

}  // namespace

std::string to_text(const json::value& value) {
  std::string out;
  append(out, value);
  return out;
}

}  // namespace vane::control
