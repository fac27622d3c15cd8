#include "tests/integration/raw_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <stdexcept>

#include "tests/integration/body_pattern.hpp"

namespace vane::it {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

/// Connects a non-blocking socket; returns the fd, or -1 with errno set.
int connect_loopback(uint16_t port, Millis timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = ETIMEDOUT;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1)
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    errno = err;
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

size_t Response::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                           [&](const auto& h) { return iequals(h.first, name); }));
}

RawClient::RawClient(uint16_t port, Millis timeout) : fd_(connect_loopback(port, timeout)) {
  if (fd_ < 0) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::send(std::string_view data, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) == 0 && Clock::now() >= deadline) return false;
  }
  return true;
}

bool RawClient::send_pattern(uint64_t n, size_t piece, bool chunked, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string block;
  for (uint64_t offset = 0; offset < n;) {
    const size_t size = static_cast<size_t>(std::min<uint64_t>(piece, n - offset));
    block.clear();
    if (chunked) {
      std::array<char, 20> hex{};
      const auto end = std::to_chars(hex.data(), hex.data() + hex.size(), size, 16).ptr;
      block.append(hex.data(), end).append("\r\n");
    }
    const size_t start = block.size();
    block.resize(start + size);
    fill_pattern(block.data() + start, size, offset);
    if (chunked) block.append("\r\n");
    if (!send(block, std::chrono::duration_cast<Millis>(deadline - Clock::now()))) return false;
    offset += size;
  }
  return !chunked || send("0\r\n\r\n", std::chrono::duration_cast<Millis>(deadline - Clock::now()));
}

RawClient::Fill RawClient::fill(Clock::time_point deadline) {
  std::array<char, 256 * 1024> chunk;
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (n > 0) {
      if (pos_ > 0 && pos_ == buffer_.size()) {  // all consumed: start over instead of growing
        buffer_.clear();
        pos_ = 0;
      }
      buffer_.append(chunk.data(), static_cast<size_t>(n));
      return Fill::Data;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) return Fill::Closed;  // FIN or RST
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) == 0 && Clock::now() >= deadline)
      return Fill::Timeout;
  }
}

bool RawClient::need(size_t n, Clock::time_point deadline, Response& r) {
  while (buffer_.size() - pos_ < n) {
    const Fill f = fill(deadline);
    if (f == Fill::Closed) r.peer_closed = true;
    if (f == Fill::Timeout) r.timed_out = true;
    if (f != Fill::Data) return false;
  }
  return true;
}

std::optional<size_t> RawClient::need_line(Clock::time_point deadline, Response& r) {
  for (;;) {
    const size_t eol = buffer_.find("\r\n", pos_);
    if (eol != std::string::npos) return eol - pos_;
    if (!need(buffer_.size() - pos_ + 1, deadline, r)) return std::nullopt;
  }
}

std::string RawClient::take(size_t n) {
  std::string out = buffer_.substr(pos_, n);
  pos_ += n;
  if (pos_ > (1U << 20) && pos_ * 2 > buffer_.size()) {  // compact now and then
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  return out;
}

bool RawClient::read_head(Clock::time_point deadline, Response& r) {
  auto len = need_line(deadline, r);
  if (!len) return false;
  const std::string line = take(*len + 2).substr(0, *len);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string::npos || line.compare(0, 5, "HTTP/") != 0) return false;
  const size_t sp2 = line.find(' ', sp1 + 1);
  std::from_chars(line.data() + sp1 + 1, line.data() + std::min(line.size(), sp2), r.status);
  if (sp2 != std::string::npos) r.reason = line.substr(sp2 + 1);
  while ((len = need_line(deadline, r))) {
    const std::string field = take(*len + 2).substr(0, *len);
    if (field.empty()) return r.status != 0;
    const size_t colon = field.find(':');
    const std::string_view view(field);
    r.headers.emplace_back(view.substr(0, colon),
                           colon == std::string::npos ? "" : trim(view.substr(colon + 1)));
  }
  return false;
}

void RawClient::read_chunked(Clock::time_point deadline, Response& r) {
  r.chunked = true;
  for (;;) {
    const auto len = need_line(deadline, r);
    if (!len) return;
    const std::string line = take(*len + 2);
    uint64_t size = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + *len, size, 16);
    if (ec != std::errc{}) return;
    if (size == 0) break;
    if (!need(static_cast<size_t>(size) + 2, deadline, r)) return;
    r.body += take(static_cast<size_t>(size));
    if (take(2) != "\r\n") return;
  }
  for (;;) {  // trailer section up to the empty line
    const auto len = need_line(deadline, r);
    if (!len) return;
    take(*len + 2);
    if (*len == 0) break;
  }
  r.complete = true;
}

void RawClient::read_until_close(Clock::time_point deadline, Response& r) {
  for (;;) {
    r.body += take(buffer_.size() - pos_);
    const Fill f = fill(deadline);
    if (f == Fill::Timeout) r.timed_out = true;
    if (f == Fill::Closed) r.peer_closed = r.complete = true;
    if (f != Fill::Data) return;
  }
}

Response RawClient::read_response(Millis timeout, bool head_request) {
  const auto deadline = Clock::now() + timeout;
  Response r;
  if (!read_head(deadline, r)) return r;
  const auto te = r.header("Transfer-Encoding");
  const auto cl = r.header("Content-Length");
  if (head_request || r.status < 200 || r.status == 204 || r.status == 304) {
    r.complete = true;
  } else if (te && te->find("chunked") != std::string::npos) {
    read_chunked(deadline, r);
  } else if (cl) {
    size_t n = 0;
    std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (need(n, deadline, r)) {
      r.body = take(n);
      r.complete = true;
    } else {
      r.body = take(buffer_.size() - pos_);
    }
  } else {
    read_until_close(deadline, r);
  }
  return r;
}

bool RawClient::wait_closed(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  if (!pending().empty()) return false;
  return fill(deadline) == Fill::Closed;
}

std::string RawClient::read_until_closed(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline && fill(deadline) != Fill::Closed) {
  }
  std::string out(pending());
  take(out.size());
  return out;
}

std::optional<std::string> RawClient::read_exact(size_t n, Millis timeout) {
  Response ignored;
  if (!need(n, Clock::now() + timeout, ignored)) return std::nullopt;
  return take(n);
}

void RawClient::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

std::string request(std::string_view method, std::string_view target, std::string_view host,
                    std::string_view extra) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  out.append("\r\n").append(extra).append("\r\n");
  return out;
}

Response http_get(uint16_t port, std::string_view target, std::string_view host, Millis timeout) {
  RawClient client(port);
  if (!client.send(request("GET", target, host, "Connection: close\r\n"))) return {};
  return client.read_response(timeout);
}

bool connect_refused(uint16_t port) {
  const int fd = connect_loopback(port, 1s);
  if (fd >= 0) {
    ::close(fd);
    return false;
  }
  return errno == ECONNREFUSED;
}

uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace vane::it
