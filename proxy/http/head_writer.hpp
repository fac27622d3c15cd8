// Rewrites message heads for forwarding (SPEC §3): drops hop-by-hop fields, regenerates framing,
// adds X-Forwarded-*, X-Request-Id. Pure functions; the caller reuses `out` across requests.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http/message.hpp"

namespace vane::proxy::http {

struct ForwardInfo {
  std::string_view client_address;  ///< appended to X-Forwarded-For
  std::string_view proto;           ///< "http" or "https"
  std::string_view request_id;
  std::string_view default_host;    ///< sent as Host when the request had none (HTTP/1.0)
};

/// The head sent upstream: always HTTP/1.1, keep-alive, the body re-framed as Content-Length or
/// chunked (as the client sent it); a WebSocket handshake keeps its upgrade.
void write_request_head(const RequestHead& head, const ForwardInfo& info, std::string& out);

/// How the response body goes to the client.
enum class ClientFraming : uint8_t {
  None,     ///< no body
  Length,   ///< Content-Length, copied
  Chunked,  ///< re-chunked (upstream chunked or close-delimited, HTTP/1.1 client)
  Close,    ///< raw bytes, then the connection closes (HTTP/1.0 client)
};

/// The framing the client gets for `response`, given the client's HTTP minor version.
ClientFraming client_framing(const ResponseHead& response, int client_minor);

/// The head sent to the client. `keep_alive` says whether the client connection stays open;
/// a 101 (Switching Protocols) upgrades it to WebSocket instead.
/// `extra` holds complete field lines vane adds (a stickiness Set-Cookie), or nothing.
void write_response_head(const ResponseHead& response, ClientFraming framing,
                         std::string_view request_id, bool keep_alive, int client_minor,
                         std::string& out, std::string_view extra = {});

}  // namespace vane::proxy::http
