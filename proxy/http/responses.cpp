#include "proxy/http/responses.hpp"

#include <array>
#include <string>

namespace vane::proxy::http {
namespace {

constexpr std::array kStatuses = {400, 404, 408, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505};

std::string build(int status, bool close) {
  std::string body(reason_phrase(status));
  body += '\n';
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  return out + "\r\n" + body;
}

struct Table {
  std::array<std::string, kStatuses.size() * 2> responses;
  Table() {
    for (size_t i = 0; i < kStatuses.size(); ++i) {
      responses[2 * i] = build(kStatuses[i], false);
      responses[2 * i + 1] = build(kStatuses[i], true);
    }
  }
};

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string_view canned_response(int status, bool close) {
  static const Table table;
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return table.responses[2 * i + (close ? 1 : 0)];
  }
  return table.responses[close ? 15 : 14];  // 500
}

}  // namespace vane::proxy::http
