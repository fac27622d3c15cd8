// A steady client load in the background of a test: keep-alive GETs through vane, counted by the
// side that answered (X-Upstream) or the status. Bounded: it stops by itself after `limit`.
// Header-only, like rollout_support.hpp.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/integration/rollout_support.hpp"

namespace vane::it {

class LoadLoop {
 public:
  struct Options {
    std::string target = "/split";
    std::string host = "web.test";
    int connections = 2;          ///< concurrent keep-alive connections, one thread each
    Millis pace = 5ms;            ///< between two requests of one connection (~200 req/s each)
    Millis limit = 60s;           ///< stops by itself after this long
  };

  LoadLoop(uint16_t port, Options options) : port_(port), options_(std::move(options)) {
    const auto until = Clock::now() + options_.limit;
    for (int i = 0; i < options_.connections; ++i) threads_.emplace_back([this, until] { loop(until); });
  }
  explicit LoadLoop(uint16_t port) : LoadLoop(port, Options{}) {}
  ~LoadLoop() { stop(); }
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  /// Stops and joins; the counts are final afterwards.
  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  SideCounts counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

  /// Clears the counts (e.g. right after a switch the test wants to observe from then on).
  void reset() {
    std::lock_guard lock(mutex_);
    counts_ = {};
  }

 private:
  void loop(Clock::time_point until) {
    std::unique_ptr<RawClient> client;
    while (!stop_ && Clock::now() < until) {
      Response r;
      try {
        if (!client) client = std::make_unique<RawClient>(port_);
        if (client->send(request("GET", options_.target, options_.host))) r = client->read_response(5s);
      } catch (const std::exception&) {
        // refused: counted as "status 0" below, like any request that got no answer
      }
      {
        std::lock_guard lock(mutex_);
        ++counts_.by_side[side_of(r)];
        ++counts_.total;
      }
      if (!r.complete || r.peer_closed) client.reset();
      std::this_thread::sleep_for(options_.pace);
    }
  }

  uint16_t port_;
  Options options_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  SideCounts counts_;
  std::vector<std::thread> threads_;
};

}  // namespace vane::it
