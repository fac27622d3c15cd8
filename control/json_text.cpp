#include "control/json_text.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/serialize.hpp>

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

void append(std::string& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::double_:
      append_double(out, value.get_double());
      return;
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(key);
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
    default:  // strings, integers, booleans, null: as Boost.JSON writes them
      out += json::serialize(value);
      return;
  }
}

}  // namespace

std::string to_text(const json::value& value) {
  std::string out;
  append(out, value);
  return out;
}

}  // namespace vane::control
