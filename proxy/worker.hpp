// One data-plane thread: its own io_context, SO_REUSEPORT acceptors, sessions, upstream pools,
// buffers and deadline tick. Shared-nothing: its members are touched only on its thread, except
// the few methods marked thread-safe (they post to it).
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "proxy/buffer.hpp"
#include "proxy/deadline.hpp"
#include "proxy/http/message.hpp"
#include "proxy/net/types.hpp"
#include "proxy/request_id.hpp"
#include "proxy/runtime.hpp"
#include "proxy/upstream_pool.hpp"

namespace vane::proxy {

class Worker {
 public:
  Worker(uint32_t index, uint32_t worker_count, std::shared_ptr<const Runtime> runtime);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  /// Binds an acceptor (SO_REUSEPORT) before start(); returns the bound address (port 0 resolved).
  tcp::endpoint listen(const tcp::endpoint& at);

  void start();
  /// Thread-safe: stop accepting, close idle connections, finish in-flight requests, then stop.
  void drain();
  /// Thread-safe: stop now.
  void stop() { io_.stop(); }
  void join();
  /// Thread-safe: the thread has returned.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

  // ---- worker thread only ----
  const Runtime& runtime() const { return *runtime_; }
  UpstreamPool& pool(uint32_t upstream) { return pools_[upstream]; }
  BufferPool& buffers() { return buffers_; }
  DeadlineList& deadlines() { return deadlines_; }
  Random& random() { return random_; }
  /// Scratch heads: valid only between a parse and the next suspension.
  http::RequestHead& request_scratch() { return request_; }
  http::ResponseHead& response_scratch() { return response_; }
  bool draining() const { return draining_; }
  void session_opened() { ++sessions_; }
  void session_closed();

 private:
  Task<void> accept_loop(Acceptor& acceptor);
  Task<void> tick();
  void run();

  uint32_t index_;
  std::shared_ptr<const Runtime> runtime_;
  std::vector<UpstreamPool> pools_;
  std::list<Acceptor> acceptors_;
  BufferPool buffers_;
  DeadlineList deadlines_;
  Random random_;
  http::RequestHead request_;
  http::ResponseHead response_;
  uint64_t sessions_ = 0;
  bool draining_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  // Last, so it is destroyed first: abandoned session coroutines still find the members above.
  net::io_context io_;
};

}  // namespace vane::proxy
