#include "analysis/expression_value.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace vane::analysis {
namespace {

void append_number(std::string& out, double n) {
  if (std::isnan(n)) {
    out += "NaN";
  } else if (std::isinf(n)) {
    out += n > 0 ? "+Inf" : "-Inf";
  } else {
    // Whole numbers as digits (a count of 1000000 reads "1000000", not "1e+06"); the rest in
    // the shortest form that reads back the same double.
    char buf[64];
    const bool whole = std::trunc(n) == n && std::fabs(n) < 1e15;
    const auto [end, ec] = whole ? std::to_chars(buf, buf + sizeof buf, n, std::chars_format::fixed)
                                 : std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_text(std::string& out, const Value& v, bool nested) {
  switch (v.type()) {
    case Value::Type::Nil: out += nested ? "null" : "nil"; break;
    case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Value::Type::Number: append_number(out, v.as_number()); break;
    case Value::Type::String:
      if (nested) {
        append_quoted(out, v.as_string());
      } else {
        out += v.as_string();
      }
      break;
    case Value::Type::List: {
      out += '[';
      const char* sep = "";
      for (const Value& item : v.as_list()) {
        out += sep;
        append_text(out, item, true);
        sep = ",";
      }
      out += ']';
      break;
    }
    case Value::Type::Object: {
      out += '{';
      const char* sep = "";
      for (const ObjectMember& m : v.as_object()) {
        out += sep;
        append_quoted(out, m.key);
        out += ':';
        append_text(out, m.value, true);
        sep = ",";
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

Value Value::numbers(const std::vector<double>& items) {
  List list;
  list.reserve(items.size());
  for (const double n : items) list.push_back(number(n));
  return Value::list(std::move(list));
}

const Value* Value::find(std::string_view key) const {
  if (type() != Type::Object) return nullptr;
  for (const ObjectMember& m : as_object()) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

std::string_view type_name(Value::Type type) {
  switch (type) {
    case Value::Type::Nil: return "nil";
    case Value::Type::Bool: return "bool";
    case Value::Type::Number: return "number";
    case Value::Type::String: return "string";
    case Value::Type::List: return "list";
    case Value::Type::Object: return "object";
  }
  return "nil";
}

std::string to_text(const Value& value) {
  std::string out;
  append_text(out, value, false);
  return out;
}

std::string to_short_text(const Value& value) {
  std::string text = to_text(value);
  if (text.size() > kMaxShortText) {
    size_t cut = kMaxShortText;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    text.resize(cut);
    text += "...";
  }
  return text;
}

bool equal(const Value& a, const Value& b) {
  uint64_t steps = 0;
  return *equal(a, b, UINT64_MAX, &steps);
}

std::optional<bool> equal(const Value& a, const Value& b, uint64_t limit, uint64_t* steps) {
  *steps += 1;
  if (*steps > limit) return std::nullopt;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::Nil: return true;
    case Value::Type::Bool: return a.as_bool() == b.as_bool();
    case Value::Type::Number: return a.as_number() == b.as_number();
    case Value::Type::String: {
      const std::string& x = a.as_string();
      if (x.size() != b.as_string().size()) return false;
      *steps += x.size() / 16;
      if (*steps > limit) return std::nullopt;
      return x == b.as_string();
    }
    case Value::Type::List: {
      const Value::List& x = a.as_list();
      const Value::List& y = b.as_list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        const auto same = equal(x[i], y[i], limit, steps);
        if (!same || !*same) return same;
      }
      return true;
    }
    case Value::Type::Object: {
      const Value::Object& x = a.as_object();
      const Value::Object& y = b.as_object();
      if (x.size() != y.size()) return false;
      for (const ObjectMember& m : x) {  // a linear scan per member, counted as it goes
        const auto other = std::find_if(y.begin(), y.end(), [&](const ObjectMember& o) {
          return ++*steps > limit || o.key == m.key;  // stops the scan past the limit
        });
        if (*steps > limit) return std::nullopt;
        if (other == y.end()) return false;
        const auto same = equal(m.value, other->value, limit, steps);
        if (!same || !*same) return same;
      }
      return true;
    }
  }
  return false;
}

}  // namespace vane::analysis
