#include "control/etcd_client.hpp"

#include <boost/json/object.hpp>

#include "control/etcd_codec.hpp"
#include "control/etcd_watch_reader.hpp"

namespace vane::control {
namespace {

using namespace etcd_codec;

/// etcd refuses an empty key; "\0" to "\0" is every key.
std::string range_key(std::string prefix) {
  return prefix.empty() ? std::string(1, '\0') : prefix;
}

/// "etcd ENDPOINT NAME: WHAT", the shape of every error of the client.
std::string failure(const std::string& endpoint, std::string_view name, std::string_view what) {
  return "etcd " + (endpoint.empty() ? "" : endpoint + " ") + std::string(name) + ": " +
         std::string(what);
}

/// The member cannot serve (the gateway's 503: no leader, a timeout inside etcd, shutting
/// down): another member may.
bool unavailable(const HttpReply& reply) { return reply.answered() && reply.status == 503; }

/// Why a reply is no answer of etcd's: the transport's error, or for a status that is not 2xx
/// the gateway's error (`{"error": ..., "code": N}`), else the status.
std::string reply_error(const HttpReply& reply) {
  if (!reply.answered()) return reply.error;
  if (reply.success()) return "";
  boost::json::object body;
  if (parse_object(reply.body, body).empty()) {
    if (std::string error = gateway_error(body); !error.empty()) return error;
  }
  return "HTTP " + std::to_string(reply.status);
}

/// Why a watch ended, from what the HTTP call and the stream said.
std::string watch_end(const std::string& endpoint, const HttpReply& reply, const std::string& end) {
  if (!reply.answered()) return failure(endpoint, "watch", reply.error);
  if (!reply.success()) {  // the body, if JSON, was the gateway's error
    const bool said = !end.empty() && !end.starts_with("malformed");
    return failure(endpoint, "watch", said ? end : "HTTP " + std::to_string(reply.status));
  }
  if (end.starts_with("compacted: ")) return end;
  return failure(endpoint, "watch", end.empty() ? "the stream ended" : end);
}

}  // namespace

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

EtcdClient::EtcdClient(HttpClient& http, config::Etcd settings)
    : http_(http), settings_(std::move(settings)) {
  for (std::string& endpoint : settings_.endpoints) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  }
}

const std::string& EtcdClient::endpoint() const {
  static const std::string none;
  return settings_.endpoints.empty() ? none : settings_.endpoints[current_];
}

HttpCall EtcdClient::make_call(const std::string& endpoint, std::string name,
                               std::string body) const {
  HttpCall call;
  call.method = "POST";
  call.url = endpoint + "/v3/" + name;
  call.body = std::move(body);
  call.timeout = settings_.dial_timeout;
  // gRPC metadata through the gateway: a member without a leader refuses the call at once
  // ("no leader", 503: fail over) and ends a watch, rather than keeping it open and silent
  // behind a partition.
  call.headers.push_back({"Grpc-Metadata-hasleader", "true"});
  if (settings_.tls) {  // used by https endpoints only
    call.tls.ca_file = settings_.tls->ca_file;
    call.cert_file = settings_.tls->cert_file;
    call.key_file = settings_.tls->key_file;
  }
  return call;
}

void EtcdClient::fail_over(size_t at) {
  if (current_ == at) current_ = (at + 1) % settings_.endpoints.size();
}

Task<EtcdClient::Answer> EtcdClient::call(std::string name, std::string body, Resend resend) {
  Answer answer;
  const size_t count = settings_.endpoints.size();
  if (count == 0) answer.error = failure("", name, "no endpoints");
  for (int attempt = 0; count > 0; ++attempt) {
    const size_t at = current_;
    answer.endpoint = settings_.endpoints[at];
    HttpCall call = make_call(answer.endpoint, name, body);
    // A read may take a pooled connection: sent again on a fresh one if that was closed.
    call.idempotent = resend == Resend::Once;
    HttpReply reply = co_await http_.fetch(std::move(call));
    const std::string error = reply_error(reply);
    answer.error = error.empty() ? "" : failure(answer.endpoint, name, error);
    if (reply.answered() && !unavailable(reply)) {
      answer.body = std::move(reply.body);
      break;
    }
    fail_over(at);
    if (resend == Resend::Never || attempt > 0 || count == 1) break;
  }
  co_return answer;
}

Task<EtcdRange> EtcdClient::get(std::string key) {
  return range(range_request(key, ""));
}

Task<EtcdRange> EtcdClient::get_prefix(std::string prefix) {
  const std::string end = prefix_end(prefix);
  return range(range_request(range_key(std::move(prefix)), end));
}

Task<EtcdRange> EtcdClient::range(std::string request) {
  const Answer answer = co_await call("kv/range", std::move(request), Resend::Once);
  EtcdRange range;
  range.error = answer.error;
  if (range.ok()) {
    std::string error = read_range(answer.body, range);
    if (!error.empty()) range.error = failure(answer.endpoint, "kv/range", error);
  }
  co_return range;
}

Task<EtcdTxn> EtcdClient::put(std::string key, std::string value, int64_t lease) {
  const Answer answer = co_await call("kv/put", put_request(key, value, lease), Resend::Never);
  EtcdTxn txn;
  txn.error = answer.error;
  if (txn.ok()) {
    std::string error = read_txn(answer.body, txn);
    if (!error.empty()) txn.error = failure(answer.endpoint, "kv/put", error);
    txn.succeeded = txn.ok();
  }
  co_return txn;
}

Task<EtcdTxn> EtcdClient::txn(std::vector<EtcdCompare> compare, std::vector<EtcdOp> success,
                              std::vector<EtcdOp> failure_ops) {
  const Answer answer =
      co_await call("kv/txn", txn_request(compare, success, failure_ops), Resend::Never);
  EtcdTxn txn;
  txn.error = answer.error;
  if (txn.ok()) {
    std::string error = read_txn(answer.body, txn);
    if (!error.empty()) txn.error = failure(answer.endpoint, "kv/txn", error);
  }
  co_return txn;
}

Task<EtcdLease> EtcdClient::grant(std::chrono::seconds ttl) {
  const Answer answer = co_await call("lease/grant", grant_request(ttl.count()), Resend::Never);
  EtcdLease lease;
  lease.error = answer.error;
  if (lease.ok()) {
    std::string error = read_grant(answer.body, lease);
    if (!error.empty()) lease.error = failure(answer.endpoint, "lease/grant", error);
  }
  co_return lease;
}

Task<EtcdLease> EtcdClient::keepalive(int64_t id) {
  // Renewing twice is harmless: a keepalive may be sent again.
  const Answer answer = co_await call("lease/keepalive", lease_request(id), Resend::Once);
  EtcdLease lease;
  lease.error = answer.error;
  if (lease.ok()) {
    std::string error = read_keepalive(answer.body, lease);
    if (!error.empty()) lease.error = failure(answer.endpoint, "lease/keepalive", error);
  }
  co_return lease;
}

Task<std::string> EtcdClient::revoke(int64_t id) {
  // Never sent twice: the second would say "lease not found" of a revoke that worked.
  const Answer answer = co_await call("lease/revoke", lease_request(id), Resend::Never);
  if (!answer.error.empty()) co_return answer.error;
  const std::string error = read_revoke(answer.body);
  co_return error.empty() ? "" : failure(answer.endpoint, "lease/revoke", error);
}

Task<std::string> EtcdClient::watch(std::string prefix, int64_t start_revision,
                                    std::function<void(EtcdWatchBatch&&)> on_batch,
                                    std::shared_ptr<HttpCancel> cancel) {
  if (!cancel) cancel = std::make_shared<HttpCancel>();
  const size_t at = current_;
  EtcdWatchReader reader(std::move(on_batch));
  HttpCall call = watch_call(at, std::move(prefix), start_revision);
  call.on_body = [&reader](std::string_view piece) { return reader.feed(piece); };
  HttpReply reply;
  reply.error = "no endpoints";
  if (!settings_.endpoints.empty()) reply = co_await http_.fetch(std::move(call), cancel);
  co_return watch_ended(at, reply, reader, cancel->cancelled());
}

HttpCall EtcdClient::watch_call(size_t at, std::string prefix, int64_t start_revision) const {
  const std::string endpoint = settings_.endpoints.empty() ? "" : settings_.endpoints[at];
  const std::string range_end = prefix_end(prefix);
  HttpCall call = make_call(endpoint, "watch",
                            watch_request(range_key(std::move(prefix)), range_end, start_revision));
  return call;
}

std::string EtcdClient::watch_ended(size_t at, const HttpReply& reply, EtcdWatchReader& reader,
                                    bool cancelled) {
  if (settings_.endpoints.empty()) return failure("", "watch", reply.error);
  if (cancelled) return "cancelled";
  reader.finish();
  if (!reply.answered() || unavailable(reply) || reader.unavailable()) fail_over(at);
  return watch_end(settings_.endpoints[at], reply, reader.end());
}

}  // namespace vane::control
