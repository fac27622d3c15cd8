// What vane knows of gRPC (SPEC §10): which requests are gRPC, how a gRPC answer is measured,
// and the trailers-only answer vane gives a gRPC client in place of an error page. Pure.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http/message.hpp"

namespace vane::proxy::http {

/// A gRPC request: its content-type is application/grpc, alone or with a +suffix or ;params.
bool is_grpc(const RequestHead& head);

/// The value of a `grpc-status` field (0-99), or -1 when it is not a status.
int parse_grpc_status(std::string_view value);

/// The status a gRPC answer is measured with: a `grpc-status` of 2, 4, 8, 13, 14 or 15 (UNKNOWN,
/// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE, DATA_LOSS) is a 5xx (504 for
/// a deadline, 503 for unavailable, else 500); any other, or none (-1), keeps `http_status`.
int grpc_measured_status(int grpc_status, int http_status);

/// The gRPC status for an answer vane would give as `http_status` (gRPC's HTTP mapping: 404
/// UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, 400 INTERNAL, 413 RESOURCE_EXHAUSTED, ...).
int grpc_status_for(int http_status);

/// A trailers-only gRPC answer (HTTP 200, `grpc-status`, `grpc-message`, no body) standing for
/// vane's `http_status` answer. `close` adds `Connection: close`.
std::string grpc_error_response(int http_status, bool close);

}  // namespace vane::proxy::http
