#include "control/notifier.hpp"

#include <algorithm>
#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "control/asio.hpp"
#include "control/event_log.hpp"
#include "control/http_client.hpp"
#include "proxy/log.hpp"

namespace vane::control {

struct Notifier::State {
  State(boost::asio::io_context& io, HttpClient& client, config::Notifier notifier)
      : spec(std::move(notifier)), http(client), timer(io.get_executor()) {}

  config::Notifier spec;
  HttpClient& http;
  Timer timer;  ///< the wait between attempts
  std::deque<std::string> queue;
  bool sending = false;
  bool stopped = false;
  std::shared_ptr<HttpCancel> cancel;  ///< of the call in flight
  Counts counts;
};

namespace {

/// Delivers the queue in order, one body at a time, until it is empty or the notifier stops.
Task<void> deliver(std::shared_ptr<Notifier::State> s) {
  while (!s->stopped && !s->queue.empty()) {
    const std::string body = std::move(s->queue.front());
    s->queue.pop_front();
    HttpReply reply;
    for (int attempt = 0; attempt < Notifier::kAttempts && !s->stopped; ++attempt) {
      if (attempt > 0) {
        s->timer.expires_after(std::chrono::seconds{1 << (attempt - 1)});
        co_await s->timer.async_wait(use_tuple);
        if (s->stopped) break;
      }
      HttpCall call;
      call.method = "POST";
      call.url = s->spec.url;
      call.headers = s->spec.headers;
      call.body = body;
      call.timeout = s->spec.timeout;
      call.tls = s->spec.tls;
      call.body_limit = 64 * 1024;  // an answer is read only for its status
      s->cancel = std::make_shared<HttpCancel>();
      reply = co_await s->http.fetch(std::move(call), s->cancel);
      s->cancel.reset();
      if (reply.success()) break;
    }
    if (s->stopped) break;
    if (reply.success()) {
      ++s->counts.sent;
    } else {
      ++s->counts.failed;
      proxy::log::warn("notifier " + s->spec.name + ": not delivered after " +
                       std::to_string(Notifier::kAttempts) + " attempts: " +
                       (reply.answered() ? "status " + std::to_string(reply.status) : reply.error));
    }
  }
  s->sending = false;
}

}  // namespace

Notifier::Notifier(boost::asio::io_context& io, HttpClient& http, config::Notifier spec)
    : state_(std::make_shared<State>(io, http, std::move(spec))) {}

Notifier::~Notifier() {
  state_->stopped = true;
  state_->queue.clear();
  state_->timer.cancel();
  if (state_->cancel) state_->cancel->cancel();
}

const config::Notifier& Notifier::spec() const { return state_->spec; }
void Notifier::set_spec(config::Notifier spec) { state_->spec = std::move(spec); }
const Notifier::Counts& Notifier::counts() const { return state_->counts; }

bool Notifier::wants(const EventRecord& event) const {
  const auto& spec = state_->spec;
  if (!spec.events.empty() &&
      std::find(spec.events.begin(), spec.events.end(), event.trigger) == spec.events.end()) {
    return false;
  }
  if (spec.rollouts.empty()) return true;
  return event.rollout &&
         std::find(spec.rollouts.begin(), spec.rollouts.end(), *event.rollout) != spec.rollouts.end();
}

void Notifier::post(std::string body) {
  auto& s = *state_;
  if (s.queue.size() >= kQueueLimit) {
    s.queue.pop_front();
    ++s.counts.dropped;
  }
  s.queue.push_back(std::move(body));
  if (s.sending) return;
  s.sending = true;
  net::co_spawn(s.timer.get_executor(), deliver(state_), net::detached);
}

}  // namespace vane::control
