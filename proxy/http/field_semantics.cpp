// The meaning of the framing and connection fields.
#include "proxy/http/field_semantics.hpp"

#include "proxy/http/parser.hpp"

namespace vane::proxy::http::detail {

namespace {

constexpr uint64_t kMaxContentLength = (uint64_t{1} << 63) - 1;

bool known_coding(std::string_view coding) {
  return iequals(coding, "gzip") || iequals(coding, "x-gzip") || iequals(coding, "deflate") ||
         iequals(coding, "compress") || iequals(coding, "x-compress");
}

bool is_connection_field(const Field& f) {
  return f.kind == FieldKind::HopByHop && iequals(f.name, "connection");
}

bool named_in_connection(const std::vector<Field>& fields, std::string_view name) {
  bool found = false;
  for (const Field& f : fields) {
    if (!is_connection_field(f)) continue;
    for_each_element(f.value, [&](std::string_view option) {
      found = iequals(option, name);
      return !found;
    });
    if (found) return true;
  }
  return false;
}

bool valid_ip_literal(std::string_view literal) {
  bool colon = false;
  for (char c : literal) {
    if (c == ':') {
      colon = true;
    } else if (c != '.' && !grammar::is(grammar::kHex, c)) {
      return false;
    }
  }
  return colon;
}

bool valid_reg_name(std::string_view name) {
  for (size_t i = 0; i < name.size(); ++i) {
    if (!grammar::is(grammar::kRegName, name[i])) return false;
    if (name[i] == '%') {
      if (i + 2 >= name.size() || !grammar::is(grammar::kHex, name[i + 1]) ||
          !grammar::is(grammar::kHex, name[i + 2])) {
        return false;
      }
      i += 2;
    }
  }
  return !name.empty();
}

}  // namespace

bool parse_content_length(std::string_view value, uint64_t& out) {
  if (value.empty()) return false;
  uint64_t n = 0;
  for (char c : value) {
    if (!grammar::is(grammar::kDigit, c)) return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (n > (kMaxContentLength - digit) / 10) return false;
    n = n * 10 + digit;
  }
  out = n;
  return true;
}

void TransferCodings::add(std::string_view value) {
  ++fields;
  for_each_element(value, [this](std::string_view coding) {
    if (!grammar::is_token(coding)) {
      malformed = true;
      return false;
    }
    ++codings;
    last_chunked = iequals(coding, "chunked");
    if (last_chunked) {
      ++chunked;
    } else if (!known_coding(coding)) {
      unknown = true;
    }
    return true;
  });
}

void ConnectionOptions::add(std::string_view value) {
  for_each_element(value, [this](std::string_view option) {
    if (option.empty()) return true;  // "a, , b" is a valid list (RFC 9110 §5.6.1)
    if (!grammar::is_token(option)) {
      malformed = true;
    } else if (iequals(option, "close")) {
      close = true;
    } else if (iequals(option, "keep-alive")) {
      keep_alive = true;
    } else {
      upgrade = upgrade || iequals(option, "upgrade");
      named_fields = true;
    }
    return true;
  });
}

void collect_facts(const std::vector<Field>& fields, HeadFacts& facts) {
  for (const Field& f : fields) {
    switch (f.kind) {
      case FieldKind::Host:
        if (facts.hosts++ == 0) facts.host = f.value;
        break;
      case FieldKind::ContentLength:
        if (facts.content_lengths++ == 0) facts.content_length = f.value;
        break;
      case FieldKind::TransferEncoding:
        facts.transfer.add(f.value);
        break;
      case FieldKind::FramingLookalike:
        facts.framing_lookalike = true;
        break;
      case FieldKind::Expect:
        if (iequals(f.value, "100-continue")) {
          facts.expect_continue = true;
        } else {
          facts.expect_other = true;
        }
        break;
      case FieldKind::HopByHop:
        if (iequals(f.name, "connection")) facts.connection.add(f.value);
        if (iequals(f.name, "upgrade")) {
          facts.upgrade = true;
          for_each_element(f.value, [&](std::string_view protocol) {
            // RFC 6455 §4.2.1: "websocket", compared without case (no version: 13 is in a field)
            if (iequals(protocol, "websocket")) facts.upgrade_websocket = true;
            return true;
          });
        }
        break;
      default:
        break;
    }
  }
}

void mark_connection_options(std::vector<Field>& fields) {
  for (Field& f : fields) {
    switch (f.kind) {
      case FieldKind::Host:
      case FieldKind::ContentLength:
      case FieldKind::TransferEncoding:
      case FieldKind::HopByHop:
        continue;
      default:
        if (named_in_connection(fields, f.name)) f.kind = FieldKind::HopByHop;
    }
  }
}

bool valid_host(std::string_view host) {
  size_t port_at = 0;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos || !valid_ip_literal(host.substr(1, close - 1))) {
      return false;
    }
    port_at = close + 1;
  } else {
    port_at = host.find(':');
    if (port_at == std::string_view::npos) port_at = host.size();
    if (!valid_reg_name(host.substr(0, port_at))) return false;
  }
  if (port_at == host.size()) return true;
  if (host[port_at] != ':') return false;
  const std::string_view port = host.substr(port_at + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!grammar::is(grammar::kDigit, c)) return false;
  }
  return true;
}

}  // namespace vane::proxy::http::detail
