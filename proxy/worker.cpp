#include "proxy/worker.hpp"

#include <sys/socket.h>

#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "proxy/log.hpp"
#include "proxy/net/readiness.hpp"
#include "proxy/quiet_thread.hpp"
#include "proxy/session.hpp"

namespace vane::proxy {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);
constexpr size_t kAccessBatchBytes = 64 * 1024;
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

uint64_t seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Worker::Worker(uint32_t index, uint32_t worker_count, size_t listeners, GenerationParts generation,
               std::shared_ptr<const rollout::RoutingTable> table)
    : index_(index),
      worker_count_(worker_count),
      table_(std::move(table)),
      connections_(new std::atomic<int64_t>[listeners]()),
      h2_streams_(new std::atomic<int64_t>[listeners]()),
      random_(seed()),
      io_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO) {
  generations_.push_back(std::make_unique<Generation>(std::move(generation), worker_count_));
}

Worker::~Worker() {
  stopping_ = true;
  stop();
  join();
  // I/O objects must go before io_; coroutines it still holds are destroyed with it.
  acceptors_.clear();
  for (auto& generation : generations_) generation->clear_idle();
}

std::string Worker::take_string() {
  if (spare_strings_.empty()) return {};
  std::string text = std::move(spare_strings_.back());
  spare_strings_.pop_back();
  return text;
}

void Worker::give_back(std::string&& text) {
  // Bounded (4 MiB at most): a burst of streams leaves at most kKept, a large head is not kept,
  // and a string that never left its inline room has nothing to keep. kKept covers the three
  // strings each of a thousand streams in flight (at 256, h2load -c32 -m100 found it empty).
  constexpr size_t kKept = 4096;
  constexpr size_t kSmallest = 64;
  constexpr size_t kLargest = 1024;
  if (text.capacity() < kSmallest || text.capacity() > kLargest || spare_strings_.size() >= kKept) return;
  text.clear();
  spare_strings_.push_back(std::move(text));
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
  size_t listener = 0;
  for (auto& acceptor : acceptors_) net::co_spawn(io_, accept_loop(acceptor, listener++), net::detached);
  net::co_spawn(io_, tick(), net::detached);
  thread_ = start_quiet_thread([this] { run(); });
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
  flush_access_log();
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

void Worker::set_table(std::shared_ptr<const rollout::RoutingTable> table) {
  net::post(io_, [this, table = std::move(table)]() mutable {
    table_ = std::move(table);
    cut_tunnels_off_traffic();
  });
}

void Worker::reload(GenerationParts generation, std::shared_ptr<const rollout::RoutingTable> table) {
  net::post(io_, [this, generation = std::move(generation), table = std::move(table)]() mutable {
    generations_.push_back(std::make_unique<Generation>(std::move(generation), worker_count_));
    table_ = std::move(table);
    release_generations();
    cut_tunnels_off_traffic();
  });
}

void Worker::set_health(std::shared_ptr<const HealthSnapshot> snapshot) {
  net::post(io_, [this, snapshot = std::move(snapshot)]() mutable {
    if (health_ && health_->config_snapshot != snapshot->config_snapshot) previous_health_ = std::move(health_);
    health_ = std::move(snapshot);
  });
}

const std::vector<bool>* Worker::usable(const Generation& generation, uint32_t upstream) const {
  const ConfigSnapshot* config = &generation.snapshot();
  const HealthSnapshot* health = nullptr;
  if (health_ && health_->config_snapshot == config) {
    health = health_.get();
  } else if (previous_health_ && previous_health_->config_snapshot == config) {
    health = previous_health_.get();
  }
  if (!health || upstream >= health->usable.size()) return nullptr;
  return &health->usable[upstream];
}

void Worker::report_outcome(const Generation& generation, uint32_t upstream,
                            UpstreamPool::Endpoint& endpoint, bool failure) {
  if (!health_reports_) return;
  // Successes in a row change nothing after the first: one per endpoint and batch is enough.
  if (!failure && endpoint.success_batch == outcome_batch_) return;
  endpoint.success_batch = failure ? 0 : outcome_batch_;
  outcomes_.push_back(PassiveOutcome{&generation.snapshot(), upstream, endpoint.index, failure});
}

void Worker::flush_outcomes() {
  if (outcomes_.empty()) return;
  health_reports_(std::move(outcomes_));
  outcomes_ = {};
  ++outcome_batch_;
}

void Worker::release_generations() {
  // The current generation (last) stays; older ones go once no request or mirror holds them.
  for (auto it = generations_.begin(); std::next(it) != generations_.end();) {
    if ((*it)->in_use()) {
      ++it;
    } else {
      (*it)->clear_idle();
      it = generations_.erase(it);
    }
  }
}

void Worker::log_access(const AccessRecord& record) {
  append_access_line(access_batch_, record);
  ++access_lines_;
  if (access_batch_.size() >= kAccessBatchBytes) flush_access_log();
}

void Worker::flush_access_log() {
  if (!access_log_ || access_batch_.empty()) return;
  if (!access_log_->submit(std::move(access_batch_))) {
    access_dropped_.store(access_dropped_.load(std::memory_order_relaxed) + access_lines_,
                          std::memory_order_relaxed);  // single writer: no RMW
  }
  access_lines_ = 0;
  access_batch_.clear();
  access_batch_.reserve(kAccessBatchBytes);
}

void Worker::switch_access_log(AccessLog* log) {
  net::post(io_, [this, log] {
    flush_access_log();  // what was logged so far goes where it was meant to
    access_log_ = log;
  });
}

void Worker::session_opened(size_t listener) {
  ++sessions_;
  auto& cell = connections_[listener];
  cell.store(cell.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Worker::session_closed(size_t listener) {
  auto& cell = connections_[listener];
  cell.store(cell.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  --sessions_;
  if (draining_ && !stopping_ && sessions_ == 0) io_.stop();
}

Task<void> Worker::accept_loop(Acceptor& acceptor, size_t listener) {
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
    accepted(std::move(socket), listener);
  }
}

void Worker::accepted(Socket socket, size_t listener) {
  session_opened(listener);
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.set_option(tcp::no_delay(true), ec);
  const auto peer = socket.remote_endpoint(ec);
  ClientSocket client{.socket = std::move(socket),
                      .listener = listener,
                      .address = ec ? std::string() : peer.address().to_string(),
                      .port = ec ? uint16_t{0} : peer.port(),
                      .served = false};
  const auto& config = *snapshot().config;
  if (config.listeners[listener].tls) {
    serve(std::move(client), true);
    return;
  }
  readiness::watch_peer_close(client.socket);
  IdleConnection::wait(*this, std::move(client), config.limits.request_header_timeout);
}

void Worker::serve(ClientSocket client, bool tls) {
  net::co_spawn(
      io_,
      [this, tls, c = std::move(client)]() mutable -> Task<void> {
        Session session(*this, std::move(c), tls);
        const bool h2 = co_await session.run();
        if (h2) co_await session.serve_h2();
      },
      net::detached);
}

void Worker::tunnel_opened(Tunnel& tunnel) {
  tunnels_.push_back(tunnel);
  const auto route = tunnel.target().route;
  auto it = upgraded_.find(route);
  if (it == upgraded_.end()) it = upgraded_.emplace(std::string(route), 0).first;
  ++it->second;
  upgraded_changed_ = true;
}

void Worker::tunnel_closed(Tunnel& tunnel) {
  tunnel.unlink();
  if (auto it = upgraded_.find(tunnel.target().route); it != upgraded_.end()) --it->second;
  upgraded_changed_ = true;
}

void Worker::publish_upgraded() {
  if (!upgraded_changed_) return;
  upgraded_changed_ = false;
  std::map<std::string, int64_t> copy(upgraded_.begin(), upgraded_.end());
  std::lock_guard lock(upgraded_mutex_);
  upgraded_published_.swap(copy);
}

std::map<std::string, int64_t> Worker::upgraded_connections() const {
  std::lock_guard lock(upgraded_mutex_);
  return upgraded_published_;
}

void Worker::cut_tunnels_off_traffic() {
  const config::Config& config = *snapshot().config;
  auto index_of = [](const auto& items, std::string_view name) -> int32_t {
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].name == name) return static_cast<int32_t>(i);
    }
    return -1;
  };
  for (Tunnel& tunnel : tunnels_) {
    const Tunnel::Target& target = tunnel.target();
    if (!target.canary) continue;  // stable's connections stay, as a reload keeps them
    const int32_t rollout = index_of(config.rollouts, target.rollout);
    const int32_t upstream = index_of(config.upstreams, target.upstream);
    if (rollout < 0 || upstream < 0 || !table_->serves(rollout, static_cast<uint32_t>(upstream))) {
      tunnel.cut();
    }
  }
}

Task<void> Worker::tick() {
  constexpr unsigned kTicksPerTrim = 20;  // buffers unused for about a second give their pages back
  Timer timer(io_.get_executor());
  for (unsigned ticks = 1;; ++ticks) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    deadlines_.expire(Clock::now());
    flush_access_log();
    flush_outcomes();
    publish_upgraded();
    if (ticks % kTicksPerTrim == 0) buffers_.trim();
  }
}

}  // namespace vane::proxy
