// Polls the gate steps rollouts wait on (SPEC §14): a GET of the gate's URL every intervalSeconds
// through the control plane's HTTP client, each call bounded by 10 s; 2xx opens the gate, 403
// rejects it with its body as the reason, anything else (or no answer) keeps it waiting. Each
// gate is its own coroutine with its own call: a hanging gate server delays only its own polls,
// never a request, another rollout or the control thread. Control thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "config/config.hpp"
#include "rollout/state_machine.hpp"

namespace vane::control {

class HttpClient;

/// A gate to poll: the gate step `step` of `rollout`.
struct PolledGate {
  std::string rollout;
  uint32_t step = 0;
  config::GateStep gate;
};

class GatePoller {
 public:
  /// A call's answer bound: no answer within it keeps the gate waiting (SPEC §14).
  static constexpr std::chrono::seconds kCallTimeout{10};
  /// How much of a 403's body becomes the abort reason.
  static constexpr size_t kReasonLimit = 1024;

  /// A gate decided: Open (2xx) or Reject (403, `reason` its body as printable text). Called
  /// from the gate's coroutine, which then ends.
  using Answered = std::function<void(const PolledGate& gate, rollout::Event::GateVerdict verdict,
                                      std::string reason)>;

  /// `io` and `http` (the control thread's) must outlive every poll.
  GatePoller(boost::asio::io_context& io, HttpClient& http, Answered answered);
  /// Stops every poll: calls in flight are cancelled, `answered` is not called again.
  ~GatePoller();
  GatePoller(const GatePoller&) = delete;
  GatePoller& operator=(const GatePoller&) = delete;

  /// Polls exactly `wanted` (at most one gate per rollout): a poll no longer wanted, or wanted
  /// for another step or gate config, stops; a new one starts with a call at once.
  void sync(const std::vector<PolledGate>& wanted);
  /// Gates polled now.
  size_t size() const { return polls_.size(); }

  struct Poll;  ///< gate_poller.cpp

 private:
  boost::asio::io_context& io_;
  HttpClient& http_;
  Answered answered_;
  std::map<std::string, std::shared_ptr<Poll>> polls_;  ///< by rollout name
};

/// The first kReasonLimit bytes of `body` as printable ASCII: other bytes become '?', control
/// characters (newlines too) spaces; surrounding spaces trimmed.
std::string printable_reason(std::string_view body);

}  // namespace vane::control
