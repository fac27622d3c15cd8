#include "proxy/exchange.hpp"

#include <cstring>

#include "proxy/http/grpc.hpp"
#include "proxy/http/head_writer.hpp"
#include "proxy/http/parser.hpp"
#include "proxy/http/request_id.hpp"
#include "proxy/http/responses.hpp"
#include "proxy/net/io.hpp"
#include "proxy/worker.hpp"
#include "proxy/worker_stats.hpp"

namespace vane::proxy {
namespace {

/// RequestView's header lookup over a parsed head.
bool find_header(const void* context, std::string_view name, std::string_view& value) {
  for (const auto& field : static_cast<const http::RequestHead*>(context)->fields) {
    if (http::iequals(field.name, name)) {
      value = field.value;
      return true;
    }
  }
  return false;
}

}  // namespace

Exchange::Exchange(Downstream& client, const http::RequestHead& head)
    : client_(client),
      generation_(client.worker.pin()),
      mirror_(client.worker, *generation_),
      relay_(client, *generation_, head, request_id_, extra_fields_, mirror_) {
  prepare(head);
}

void Exchange::prepare(const http::RequestHead& head) {
  const ConfigSnapshot& snapshot = generation_->snapshot();
  const rollout::RequestView view{head.method, head.host, head.path, &head, &find_header};
  const uint64_t random = client_.worker.random().next();
  const auto& table = client_.worker.table();
  decision_ = table.decide(view, random);
  if (decision_ && decision_->set_cookie) {
    char value[16];
    extra_fields_.assign("Set-Cookie: ").append(table.cookie_name(decision_->rollout)).append("=");
    extra_fields_.append(rollout::cookie_value(random, value)).append("; Path=/; HttpOnly\r\n");
  }
  replay_ = replay_of(head.method, head.framing, head.content_length);
  if (client_.worker.access_log_enabled()) {
    access_method_.assign(head.method);
    access_host_.assign(head.host);
    access_path_.assign(head.path);
    std::string_view user_agent;
    if (find_header(&head, "user-agent", user_agent)) access_user_agent_.assign(user_agent);
    access_protocol_ = client_.stream.pipe() ? "HTTP/2" : head.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
  }
  take_request_id(head);
  if (decision_) {
    const auto& endpoints = snapshot.endpoints[decision_->upstream];
    http::ForwardInfo info{client_.address, client_.stream.secure() ? "https" : "http", request_id_,
                           endpoints.empty() ? std::string_view{} : endpoints.front().authority};
    http::write_request_head(head, info, client_.request_head);
    const bool too_large = head.framing == http::Framing::Length &&
                           head.content_length > snapshot.config->limits.max_request_body_bytes;
    refusal_ = too_large ? Failure::TooLarge : Failure::None;
  } else {
    refusal_ = Failure::NoRoute;
  }
  started_ = Clock::now();
  if (decision_ && !head.websocket) {  // never mirrored: a copy cannot hold a conversation
    mirror_.start(*decision_, head.method == "HEAD", client_.request_head, head.framing,
                  head.content_length);
  }
  client_.in.consume(head.head_bytes);
  // Nothing else read yet (a bodiless request): the block goes back to the pool now, so that an
  // exchange waiting on its upstream holds none. Nothing views it past here: `head` is the
  // worker's scratch, which the next exchange to run overwrites.
  client_.in.release_if_empty();
}

/// The client's X-Request-Id when valid (SPEC §3), else a new UUID v4.
void Exchange::take_request_id(const http::RequestHead& head) {
  for (const auto& field : head.fields) {
    if (field.kind == http::FieldKind::XRequestId && http::valid_request_id(field.value)) {
      std::memcpy(request_id_buf_, field.value.data(), field.value.size());
      request_id_ = {request_id_buf_, field.value.size()};
      return;
    }
  }
  char uuid[36];
  auto id = http::make_uuid_v4(client_.worker.random(), uuid);
  std::memcpy(request_id_buf_, id.data(), id.size());
  request_id_ = {request_id_buf_, id.size()};
}

Task<bool> Exchange::run() {
  if (refusal_ != Failure::None) co_return co_await answer(refusal_);
  if (relay_.grpc() && generation_->config().upstreams[decision_->upstream].protocol !=
                           config::Protocol::H2) {
    co_return co_await answer(Failure::Protocol);  // gRPC needs HTTP/2 to its upstream
  }
  const Failure failure = co_await forward();
  if (relay_.pumping()) co_await relay_.settle();  // a duplex body still going up stops with its answer
  // The copy goes once forwarding is over (the client has its answer, or an error answer is
  // next): it never competes with the answer for this worker, the network or a shared machine.
  // A request not read to its end has no whole copy.
  mirror_.send(relay_.body_done());
  if (failure != Failure::None) co_return co_await answer(failure);
  record(Failure::None, relay_.measured_status());
  log_access(relay_.status());
  if (relay_.upgraded()) co_await tunnel();
  relay_.finish();
  co_return relay_.response_done() && relay_.keep_alive();
}

/// Measured and logged at its 101 (SPEC §10); the connection ends with the tunnel.
Task<void> Exchange::tunnel() {
  const config::Config& config = generation_->config();
  Tunnel::Target target;
  target.route = config.routes[decision_->route].name;
  if (decision_->rollout >= 0) target.rollout = config.rollouts[static_cast<size_t>(decision_->rollout)].name;
  target.upstream = config.upstreams[decision_->upstream].name;
  target.canary = decision_->target != analysis::Target::Stable;  // a canary or experiment side
  co_await relay_.tunnel(target);
}

Task<Failure> Exchange::forward() {
  using Next = RetryPolicy::Next;
  RetryPolicy policy = retry_policy();
  Attempt to{decision_->upstream, nullptr, Clock::now() + policy.timeout()};
  for (;;) {
    const AttemptResult tried = co_await relay_.attempt(to);
    Failure f = tried.failure;
    if (f == Failure::None && tried.status >= 500 && policy.drops_5xx()) {
      f = Failure::Status5xx;  // this answer is dropped: another endpoint may do better
    }
    const bool answered = f == Failure::None;
    if (answered) {
      if (relay_.upgraded()) {  // the tunnel follows the measurement of its 101
        report_endpoint(Failure::None);
        co_return Failure::None;
      }
      f = co_await relay_.relay_response();
      // Done, or cut short once bytes reached the client: no other try, whatever the policy.
      if (f == Failure::None || relay_.response_started()) {
        report_endpoint(f);
        co_return f;
      }
    }
    // A response cut before any byte of it reached the client is a failed try like a 5xx.
    const Next next = answered ? policy.next_after_cut(f) : policy.next(f, tried.reused);
    if (next != Next::Stale) report_endpoint(f);  // a pooled connection closed under us: not the endpoint's fault
    to.avoid = relay_.endpoint();
    switch (next) {
      case Next::Fail:
        co_return f;
      case Next::Stale:
        break;
      case Next::Retry:
        record_attempt(f);
        break;
      case Next::Shield:  // a canary failure: once more on stable, with stable's own budget
        record_attempt(f);  // the canary's failure counts against it in every measurement
        decision_->upstream = static_cast<uint32_t>(decision_->shield);
        decision_->target = analysis::Target::Stable;
        to = Attempt{decision_->upstream, nullptr, Clock::now() + policy.timeout()};
        break;
    }
    if (relay_.pumping()) co_await relay_.settle();
    relay_.abandon();
  }
}

RetryPolicy Exchange::retry_policy() const {
  const config::Config& config = generation_->config();
  const config::Shield* shield = nullptr;
  const config::Upstream* stable = nullptr;
  if (replay_.retry && decision_->shield >= 0) {
    shield = &*config.rollouts[static_cast<size_t>(decision_->rollout)].canary->shield;
    stable = &config.upstreams[static_cast<size_t>(decision_->shield)];
  }
  return RetryPolicy(replay_, config.upstreams[decision_->upstream], shield, stable);
}

Task<bool> Exchange::answer(Failure failure) {
  relay_.finish();  // after a failure the response is never done: the upstream connection closes
  if (failure == Failure::ClientGone || relay_.response_started()) {
    // Nothing more reaches the client: a cut response ends with the connection, without its
    // terminating chunk. Measured by whose fault it was; the log shows what was sent.
    record(failure, cut_status(failure, relay_.status()));
    log_access(relay_.status());
    co_return false;
  }
  const int status = answer_status(failure);
  record(failure, status);
  log_access(status);
  // The connection stays usable only when the request was read to its end.
  const bool keep = relay_.keep_alive();
  client_.arm(Phase::Respond, generation_->config().limits.request_body_timeout);
  if (relay_.grpc()) {  // a gRPC client reads its status from grpc-status, not from a page
    const std::string grpc = http::grpc_error_response(status, !keep);
    auto ec = co_await write_all(client_.stream, grpc);
    co_return keep && !ec;
  }
  auto ec = co_await write_all(client_.stream, http::canned_response(status, !keep));
  co_return keep && !ec;
}

void Exchange::record(Failure failure, int status) {
  if (!decision_) return;
  auto& stats = generation_->stats();
  const uint32_t upstream = decision_->upstream;
  switch (failure) {
    case Failure::Connect: stats.upstream_failure(upstream, FailureKind::Connect); break;
    case Failure::Timeout: stats.upstream_failure(upstream, FailureKind::Timeout); break;
    case Failure::Reset: stats.upstream_failure(upstream, FailureKind::Reset); break;
    case Failure::Protocol: stats.upstream_failure(upstream, FailureKind::Protocol); break;
    default: break;
  }
  const auto took = Clock::now() - started_;
  generation_->record(decision_->route, decision_->rollout, upstream, decision_->target, status, took);
}

/// A dropped try is measured like an answer: its 5xx, or the 502/504 its failure would give.
void Exchange::record_attempt(Failure failure) {
  const int status = failure == Failure::Status5xx ? relay_.status()
                     : failure == Failure::Timeout ? 504
                                                   : 502;
  record(failure, status);
}

void Exchange::report_endpoint(Failure failure) {
  if (failure != Failure::None && !blames_endpoint(failure)) return;  // the client's, or no endpoint
  const bool failed = failure != Failure::None || relay_.status() >= 500;
  client_.worker.report_outcome(*generation_, decision_->upstream, *relay_.endpoint(), failed);
}

void Exchange::log_access(int status) {
  if (!client_.worker.access_log_enabled()) return;
  AccessRecord r;
  r.request_id = request_id_;
  r.client_ip = client_.address;
  r.client_port = client_.port;
  r.method = access_method_;
  r.host = access_host_;
  r.path = access_path_;
  r.protocol = access_protocol_;
  r.status = status;
  std::string endpoint;
  std::string target;  // "experiment:NAME" is made per request (SSO for stable and canary)
  if (decision_) {
    const config::Config& config = generation_->config();  // pinned to the end
    r.route = config.routes[decision_->route].name;
    if (decision_->rollout >= 0) r.rollout = config.rollouts[static_cast<size_t>(decision_->rollout)].name;
    const int32_t rollout = decision_->rollout;
    target = analysis::target_label(
        decision_->target, rollout >= 0 ? &config.rollouts[static_cast<size_t>(rollout)] : nullptr);
    r.target = target;
    r.upstream = config.upstreams[decision_->upstream].name;
  }
  if (relay_.endpoint()) {  // the address that answered, as Envoy's %UPSTREAM_HOST%
    const auto& address = relay_.endpoint()->target->address;
    endpoint = address.address().is_v6() ? "[" + address.address().to_string() + "]"
                                         : address.address().to_string();
    endpoint += ":" + std::to_string(address.port());
  }
  r.endpoint = endpoint;
  r.bytes_in = relay_.bytes_received();
  r.bytes_out = relay_.bytes_sent();
  r.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
  r.user_agent = access_user_agent_;
  client_.worker.log_access(r);
}

}  // namespace vane::proxy
