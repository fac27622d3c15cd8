#include "proxy/http/grpc.hpp"

#include "proxy/http/parser.hpp"
#include "proxy/http/responses.hpp"

namespace vane::proxy::http {

bool is_grpc(const RequestHead& head) {
  constexpr std::string_view kGrpc = "application/grpc";
  for (const Field& field : head.fields) {
    if (field.name.size() != 12 || !iequals(field.name, "content-type")) continue;
    const std::string_view value = field.value;
    if (value.size() < kGrpc.size() || !iequals(value.substr(0, kGrpc.size()), kGrpc)) return false;
    return value.size() == kGrpc.size() || value[kGrpc.size()] == '+' || value[kGrpc.size()] == ';';
  }
  return false;
}

int parse_grpc_status(std::string_view value) {
  if (value.empty() || value.size() > 2) return -1;
  int status = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return -1;
    status = status * 10 + (c - '0');
  }
  return status;
}

int grpc_measured_status(int grpc_status, int http_status) {
  switch (grpc_status) {
    case 4: return 504;
    case 14: return 503;
    case 2:
    case 8:
    case 13:
    case 15: return 500;
    default: return http_status;
  }
}

int grpc_status_for(int http_status) {
  switch (http_status) {
    case 400: return 13;  // INTERNAL
    case 401: return 16;  // UNAUTHENTICATED
    case 403: return 7;   // PERMISSION_DENIED
    case 404: return 12;  // UNIMPLEMENTED
    case 408: return 4;   // DEADLINE_EXCEEDED: the client stalled
    case 413: return 8;   // RESOURCE_EXHAUSTED
    case 429:
    case 502:
    case 503:
    case 504: return 14;  // UNAVAILABLE
    default: return 2;    // UNKNOWN
  }
}

std::string grpc_error_response(int http_status, bool close) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\nGrpc-Status: " +
      std::to_string(grpc_status_for(http_status)) + "\r\nGrpc-Message: vane: " +
      std::to_string(http_status) + " " + std::string(reason_phrase(http_status)) +
      "\r\nContent-Length: 0\r\n";
  if (close) out += "Connection: close\r\n";
  return out + "\r\n";
}

}  // namespace vane::proxy::http
