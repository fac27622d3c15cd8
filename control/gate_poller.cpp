#include "control/gate_poller.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "control/asio.hpp"
#include "control/http_client.hpp"
#include "proxy/log.hpp"

namespace vane::control {

struct GatePoller::Poll {
  Poll(boost::asio::io_context& io, HttpClient& client, PolledGate polled, Answered on_answer)
      : gate(std::move(polled)), http(client), answered(std::move(on_answer)),
        timer(io.get_executor()) {}

  PolledGate gate;
  HttpClient& http;
  Answered answered;
  Timer timer;  ///< the wait until the next poll
  std::shared_ptr<HttpCancel> cancel;  ///< of the call in flight
  bool stopped = false;
  bool decided = false;   ///< answered Open or Reject: nothing more to ask
  std::string last;       ///< the last undecided outcome, logged when it changes

  void stop() {
    stopped = true;
    timer.cancel();
    if (cancel) cancel->cancel();
  }
};

namespace {

using Verdict = rollout::Event::GateVerdict;

/// Polls until the gate decides or the poll stops; the next call is due intervalSeconds after
/// the previous one started (or at once when that one took longer).
Task<void> poll(std::shared_ptr<GatePoller::Poll> p) {
  const std::string what = "rollout " + p->gate.rollout + ": gate " + p->gate.gate.name;
  while (!p->stopped) {
    const auto started = std::chrono::steady_clock::now();
    HttpCall call;
    call.url = p->gate.gate.url;
    call.headers = {{"X-Vane-Rollout", p->gate.rollout},
                    {"X-Vane-Step", std::to_string(p->gate.step)}};
    call.timeout = GatePoller::kCallTimeout;
    call.body_limit = 1 << 20;  // a larger answer is no answer: the gate keeps waiting
    p->cancel = std::make_shared<HttpCancel>();
    const HttpReply reply = co_await p->http.fetch(std::move(call), p->cancel);
    p->cancel.reset();
    if (p->stopped) break;
    if (reply.success() || (reply.answered() && reply.status == 403)) {
      p->decided = true;
      const bool open = reply.success();
      proxy::log::info(what + (open ? " opened" : " rejected") + " (status " +
                       std::to_string(reply.status) + ")");
      p->answered(p->gate, open ? Verdict::Open : Verdict::Reject,
                  open ? std::string() : printable_reason(reply.body));
      break;
    }
    const std::string outcome =
        reply.answered() ? "status " + std::to_string(reply.status) : reply.error;
    if (outcome != p->last) proxy::log::info(what + " still waiting: " + outcome);
    p->last = outcome;
    p->timer.expires_at(started + std::chrono::seconds{p->gate.gate.interval_seconds});
    co_await p->timer.async_wait(use_tuple);
  }
}

bool same(const PolledGate& a, const PolledGate& b) {
  return a.step == b.step && a.gate.name == b.gate.name && a.gate.url == b.gate.url &&
         a.gate.interval_seconds == b.gate.interval_seconds;
}

}  // namespace

std::string printable_reason(std::string_view body) {
  std::string out;
  for (const char ch : body.substr(0, GatePoller::kReasonLimit)) {
    const auto byte = static_cast<unsigned char>(ch);
    out += byte >= 0x80 || byte == 0x7f ? '?' : byte < 0x20 ? ' ' : ch;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

GatePoller::GatePoller(boost::asio::io_context& io, HttpClient& http, Answered answered)
    : io_(io), http_(http), answered_(std::move(answered)) {}

GatePoller::~GatePoller() { sync({}); }

void GatePoller::sync(const std::vector<PolledGate>& wanted) {
  std::map<std::string, std::shared_ptr<Poll>> next;
  for (const PolledGate& gate : wanted) {
    const auto found = polls_.find(gate.rollout);
    if (found != polls_.end() && same(found->second->gate, gate) && !found->second->decided) {
      next[gate.rollout] = found->second;
      polls_.erase(found);
      continue;
    }
    auto p = std::make_shared<Poll>(io_, http_, gate, answered_);
    next[gate.rollout] = p;
    net::co_spawn(p->timer.get_executor(), poll(p), net::detached);
  }
  for (auto& [name, p] : polls_) p->stop();  // no longer wanted as they were
  polls_ = std::move(next);
}

}  // namespace vane::control
