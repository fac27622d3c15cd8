// The built-in upstreams of `vane demo`: tiny HTTP/1.1 servers on loopback that answer every
// request with their name, an optional error rate and an added latency. Their own thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace vane::cli {

struct DemoUpstreamOptions {
  std::string name;
  double error_rate = 0;       ///< fraction of requests answered 500
  uint32_t latency_ms = 0;     ///< added before each answer
};

class DemoUpstream {
 public:
  explicit DemoUpstream(DemoUpstreamOptions options);
  ~DemoUpstream();

  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vane::cli
