#include "proxy/worker.hpp"

#include <sys/socket.h>

#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "proxy/log.hpp"
#include "proxy/session.hpp"

namespace vane::proxy {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

uint64_t seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Worker::Worker(uint32_t index, uint32_t worker_count, std::shared_ptr<const Runtime> runtime)
    : index_(index),
      runtime_(std::move(runtime)),
      random_(seed()),
      io_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) {
  const auto& upstreams = runtime_->config->upstreams;
  pools_.reserve(upstreams.size());
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const uint32_t limit = upstreams[i].max_connections_per_endpoint;
    pools_.emplace_back(runtime_->endpoints[i], (limit + worker_count - 1) / worker_count);
  }
}

Worker::~Worker() {
  stopping_ = true;
  stop();
  join();
  // I/O objects must go before io_; coroutines it still holds are destroyed with it.
  acceptors_.clear();
  for (auto& pool : pools_) pool.clear_idle();
}

tcp::endpoint Worker::listen(const tcp::endpoint& at) {
  auto& acceptor = acceptors_.emplace_back(io_.get_executor());
  acceptor.open(at.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.set_option(ReusePort(true));
  if (at.address().is_v6()) acceptor.set_option(net::ip::v6_only(true));
  acceptor.bind(at);
  acceptor.listen(4096);
  return acceptor.local_endpoint();
}

void Worker::start() {
  for (auto& acceptor : acceptors_) net::co_spawn(io_, accept_loop(acceptor), net::detached);
  net::co_spawn(io_, tick(), net::detached);
  thread_ = std::thread([this] { run(); });
}

void Worker::run() {
  for (;;) {
    try {
      io_.run();
      break;
    } catch (const std::exception& e) {
      log::error("worker " + std::to_string(index_) + ": " + e.what());
    }
  }
  finished_.store(true, std::memory_order_release);
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::drain() {
  net::post(io_, [this] {
    draining_ = true;
    boost::system::error_code ignored;
    for (auto& acceptor : acceptors_) acceptor.close(ignored);
    deadlines_.fire_idle();
    if (sessions_ == 0) io_.stop();
  });
}

void Worker::session_closed() {
  --sessions_;
  if (draining_ && !stopping_ && sessions_ == 0) io_.stop();
}

Task<void> Worker::accept_loop(Acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the error.
      log::warn("accept failed: " + ec.message());
      Timer pause(io_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    net::co_spawn(
        io_,
        [this, s = std::move(socket)]() mutable -> Task<void> {
          Session session(*this, std::move(s));
          co_await session.run();
        },
        net::detached);
  }
}

Task<void> Worker::tick() {
  Timer timer(io_.get_executor());
  for (;;) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    deadlines_.expire(Clock::now());
  }
}

}  // namespace vane::proxy
