// The meaning of the fields that decide framing and connection reuse (Content-Length,
// Transfer-Encoding, Connection, Host, Expect), shared by both head parsers. Internal to
// proxy/http; pure functions called on worker threads.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "proxy/http/grammar.hpp"
#include "proxy/http/message.hpp"

namespace vane::proxy::http::detail {

/// Calls `fn(element)` for each comma-separated list element, OWS trimmed (RFC 9110 §5.6.1);
/// empty elements are passed too. Stops early when `fn` returns false.
template <typename Fn>
void for_each_element(std::string_view list, Fn&& fn) {
  for (;;) {
    const size_t comma = list.find(',');
    if (!fn(grammar::trim_ows(list.substr(0, comma)))) return;
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

/// Content-Length = 1*DIGIT, at most 2^63-1. No sign, no list, no inner spaces.
bool parse_content_length(std::string_view value, uint64_t& out);

/// Transfer codings of all Transfer-Encoding fields, in order.
struct TransferCodings {
  uint32_t fields = 0;     ///< Transfer-Encoding fields seen
  uint32_t codings = 0;    ///< list elements
  uint32_t chunked = 0;    ///< elements equal to "chunked"
  bool last_chunked = false;
  bool unknown = false;    ///< a coding other than chunked/gzip/deflate/compress (and x- forms)
  bool malformed = false;  ///< empty element, parameters, or not a token
  void add(std::string_view value);
};

/// Connection options of all Connection fields.
struct ConnectionOptions {
  bool close = false;
  bool keep_alive = false;
  bool upgrade = false;       ///< the "upgrade" option
  bool named_fields = false;  ///< options other than close/keep-alive: fields to drop
  bool malformed = false;     ///< an element that is not a token
  void add(std::string_view value);
};

/// What one pass over the fields found.
struct HeadFacts {
  uint32_t hosts = 0;
  std::string_view host;              ///< the first Host value
  uint32_t content_lengths = 0;
  std::string_view content_length;    ///< the first Content-Length value
  bool expect_continue = false;       ///< an Expect field equal to 100-continue
  bool expect_other = false;          ///< an Expect field with any other value
  bool upgrade = false;               ///< an Upgrade field
  bool upgrade_websocket = false;     ///< an Upgrade field offering the websocket protocol
  bool framing_lookalike = false;     ///< a FieldKind::FramingLookalike field (Content_Length)
  TransferCodings transfer;
  ConnectionOptions connection;
};

void collect_facts(const std::vector<Field>& fields, HeadFacts& facts);

/// Marks as HopByHop every field named in a Connection option (RFC 9110 §7.6.1), except the
/// fields the proxy regenerates itself (Host, Content-Length, Transfer-Encoding).
void mark_connection_options(std::vector<Field>& fields);

/// Host = uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IPv4 or IP-literal, port 1-5 digits.
bool valid_host(std::string_view host);

}  // namespace vane::proxy::http::detail
