#include "proxy/http/h2_inbound.hpp"

#include <charconv>

#include "proxy/http/chunked_decoder.hpp"
#include "proxy/http/responses.hpp"

namespace vane::proxy::http {

void H2Inbound::add_field(std::string_view name, std::string_view value) {
  if (head_written_) {  // trailers: nghttp2 has refused pseudo-header fields among them
    trailers_.append(name).append(": ").append(value).append("\r\n");
  } else if (name == ":method") {
    method_ = value;
  } else if (name == ":authority") {
    authority_ = value;
  } else if (name == ":path") {
    path_ = value;
  } else if (name == ":status") {
    status_ = value;
  } else if (name == ":scheme") {
    // An HTTP/1.1 request line has none: the listener tells http from https.
  } else if (name == "cookie") {
    if (value.empty()) return;  // an empty crumb adds nothing (and no "; ")
    if (!cookies_.empty()) cookies_.append("; ");
    cookies_.append(value);
  } else if (name == "host") {
    if (authority_.empty()) authority_ = value;
  } else if (name != "te") {  // te: trailers is all HTTP/2 allows, and it is hop-by-hop
    has_length_ = has_length_ || name == "content-length";
    std::string& to = kind_ == Kind::Request ? bytes : fields_;
    if (kind_ == Kind::Request && !line_written_) write_request_line();
    to.append(name).append(": ").append(value).append("\r\n");
  }
}

size_t H2Inbound::field_bytes() const {
  if (head_written_) return trailers_.size();
  return fields_.size() + cookies_.size() + (kind_ == Kind::Request ? bytes.size() : 0);
}

bool H2Inbound::end_fields(bool end) {
  if (head_written_) {  // the trailers end the message
    add_body({}, true);
    return true;
  }
  if (kind_ == Kind::Response && status_.starts_with('1')) {  // interim: HTTP/1.1 readers skip it
    status_.clear();
    fields_.clear();
    return false;
  }
  if (kind_ == Kind::Request) {
    write_request_head(!end);
  } else {
    write_response_head(!end);
  }
  head_written_ = true;
  fields_.clear();
  fields_.shrink_to_fit();
  cookies_.clear();
  if (end) add_body({}, true);
  return true;
}

void H2Inbound::add_body(std::string_view data, bool end) {
  if (!data.empty() && !bodyless_) {
    if (chunked_) {
      char line[24];
      bytes.append(chunk_size_line(data.size(), line)).append(data).append("\r\n");
    } else {
      bytes.append(data);
    }
  }
  if (end && !ended_) {
    if (chunked_) bytes.append(trailers_.empty() ? std::string(kLastChunk) : last_chunk(trailers_));
    ended_ = true;
  }
}

/// Pseudo-header fields come before the others (nghttp2 refuses a request that breaks this).
void H2Inbound::write_request_line() {
  bytes.reserve(256);
  bytes.append(method_).append(" ").append(path_).append(" HTTP/1.1\r\n");
  if (!authority_.empty()) {  // else a host field may follow
    bytes.append("Host: ").append(authority_).append("\r\n");
    host_written_ = true;
  }
  line_written_ = true;
}

void H2Inbound::write_request_head(bool body) {
  if (!line_written_) write_request_line();
  if (!host_written_) bytes.append("Host: ").append(authority_).append("\r\n");
  if (!cookies_.empty()) bytes.append("Cookie: ").append(cookies_).append("\r\n");
  chunked_ = body && !has_length_;
  if (chunked_) bytes.append("Transfer-Encoding: chunked\r\n");
  bytes.append("\r\n");
}

void H2Inbound::write_response_head(bool body) {
  bytes.reserve(status_.size() + fields_.size() + 64);
  int code = 0;
  std::from_chars(status_.data(), status_.data() + status_.size(), code);
  const std::string_view reason = reason_phrase(code);  // for HTTP/1.1 clients' eyes
  bytes.append("HTTP/1.1 ").append(status_).append(" ");
  if (reason != "Unknown") bytes.append(reason);
  bytes.append("\r\n").append(fields_);
  // An answer without a body by its status or its request: not framed at all, even when its
  // stream goes on (to trailers).
  bodyless_ = head_request_ || status_ == "204" || status_ == "304";
  chunked_ = body && !has_length_ && !bodyless_;
  if (chunked_) {
    bytes.append("Transfer-Encoding: chunked\r\n");
  } else if (!body && !has_length_ && !bodyless_) {
    bytes.append("Content-Length: 0\r\n");  // ended with its HEADERS (gRPC's trailers-only)
  }
  bytes.append("\r\n");
}

}  // namespace vane::proxy::http
