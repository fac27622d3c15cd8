// What the EtcdClient tests share: a client on the test's io_context and a way to run one of its
// calls to its end (bounded). Test thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>

#include "control/etcd_client.hpp"
#include "control/http_client.hpp"
#include "tests/control/run_until.hpp"

namespace vane::control::test {

inline config::Etcd etcd_settings(std::vector<std::string> endpoints,
                                  config::Duration dial_timeout = std::chrono::seconds(3)) {
  config::Etcd settings;
  settings.endpoints = std::move(endpoints);
  settings.prefix = "/vane/test";
  settings.dial_timeout = dial_timeout;
  return settings;
}

class EtcdClientFixture : public ::testing::Test {
 protected:
  /// Runs `task` on the test's io_context until it ends (at most `limit`).
  template <class T>
  T run(Task<T> task, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    auto result = std::make_shared<std::optional<T>>();  // the call may outlive this wait
    net::co_spawn(io, std::move(task), [result](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      *result = std::move(value);
    });
    EXPECT_TRUE(run_until(io, [&] { return result->has_value(); }, limit)) << "never ended";
    return *result ? std::move(**result) : T{};
  }

  /// Lets `d` of real time pass while the io_context runs (what a lease's TTL is measured in).
  void pass(std::chrono::milliseconds d) {
    bool passed = false;
    Timer timer(io, d);
    timer.async_wait([&](boost::system::error_code) { passed = true; });
    EXPECT_TRUE(run_until(io, [&] { return passed; }, d + std::chrono::seconds(5)));
  }

  /// A watch running in the background: what it saw so far, and how it ended.
  struct Watch {
    std::vector<EtcdEvent> events;
    std::vector<int64_t> batch_revisions;
    std::optional<std::string> end;
    std::shared_ptr<HttpCancel> cancel = std::make_shared<HttpCancel>();
  };

  std::shared_ptr<Watch> start_watch(EtcdClient& client, std::string prefix, int64_t from) {
    auto watch = std::make_shared<Watch>();
    auto on_batch = [watch](EtcdWatchBatch&& batch) {
      watch->batch_revisions.push_back(batch.revision);
      for (EtcdEvent& event : batch.events) watch->events.push_back(std::move(event));
    };
    net::co_spawn(io, client.watch(std::move(prefix), from, on_batch, watch->cancel),
                  [watch](std::exception_ptr e, std::string end) {
                    if (e) std::rethrow_exception(e);
                    watch->end = std::move(end);
                  });
    return watch;
  }

  net::io_context io;
  HttpClient http{io};
};

}  // namespace vane::control::test
