// vane's etcd v3 client: keys, transactions, leases and watches through etcd's JSON gateway
// (grpc-gateway, POST /v3/...), spoken with the control plane's one HttpClient. One per
// io_context, used from its thread only (the control thread). Keys and values are arbitrary bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "control/asio.hpp"
#include "control/http_client.hpp"

namespace vane::control {

class EtcdWatchReader;

struct EtcdKv {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;  ///< 0: none
};

struct EtcdRange {
  std::string error;      ///< names the endpoint and the call; empty on success
  int64_t revision = 0;   ///< the store's revision when it was read
  std::vector<EtcdKv> kvs;  ///< by key
  bool ok() const { return error.empty(); }
};

/// One comparison of a transaction, always "is EQUAL to".
struct EtcdCompare {
  enum class Target : uint8_t { Create, Mod, Version, Value };
  std::string key;
  Target target = Target::Create;
  int64_t number = 0;  ///< the revision or version compared with (Create: 0 means "absent")
  std::string value;   ///< Target::Value
};

struct EtcdOp {
  enum class Kind : uint8_t { Put, Delete, DeletePrefix };
  Kind kind = Kind::Put;
  std::string key;  ///< DeletePrefix: the prefix
  std::string value;
  int64_t lease = 0;  ///< Put: the key goes with the lease
};

struct EtcdTxn {
  std::string error;
  int64_t revision = 0;    ///< the store's revision after the transaction
  bool succeeded = false;  ///< every comparison held: the success ops ran
  bool ok() const { return error.empty(); }
};

struct EtcdLease {
  std::string error;
  int64_t id = 0;
  int64_t ttl = 0;  ///< seconds left; <= 0 after a keepalive: the lease is gone
  bool ok() const { return error.empty(); }
};

struct EtcdEvent {
  enum class Type : uint8_t { Put, Delete };
  Type type = Type::Put;
  EtcdKv kv;  ///< a Delete carries the key and its mod_revision (the deletion's) only
};

struct EtcdWatchBatch {
  int64_t revision = 0;  ///< the store's revision when the batch was sent
  std::vector<EtcdEvent> events;  ///< in revision order
};

/// The end of an etcd prefix range: the prefix with its last byte plus one (bytes 0xff dropped
/// first); "\0" (every key from the prefix on) when nothing is left.
std::string prefix_end(std::string_view prefix);

class EtcdClient {
 public:
  /// `http` must outlive the client. Endpoints are tried in order; an empty list fails each call.
  EtcdClient(HttpClient& http, config::Etcd settings);

  /// Failover: every call goes to the endpoint that last worked. One that gives no answer (or
  /// answers 503: the member cannot serve) makes the next endpoint current; a read (range,
  /// keepalive) is then sent there once more, a write never (the caller decides). Each call but
  /// a watch is bounded by `dial_timeout`.
  Task<EtcdRange> get(std::string key);
  /// The keys in [prefix, prefix_end(prefix)).
  Task<EtcdRange> get_prefix(std::string prefix);
  /// `succeeded` is true when it is ok.
  Task<EtcdTxn> put(std::string key, std::string value, int64_t lease = 0);
  Task<EtcdTxn> txn(std::vector<EtcdCompare> compare, std::vector<EtcdOp> success,
                    std::vector<EtcdOp> failure = {});
  Task<EtcdLease> grant(std::chrono::seconds ttl);
  Task<EtcdLease> keepalive(int64_t id);
  /// "" or the error (a lease already gone is an error: "requested lease not found").
  Task<std::string> revoke(int64_t id);

  /// Streams the changes under `prefix` from `start_revision` (0: from now), calling `on_batch`
  /// with every batch of events, in order. Returns when the stream ends: "cancelled" (through
  /// `cancel`), "compacted: N" when `start_revision` is older than etcd keeps (the caller reads
  /// anew and watches from there), or the error. The head of the answer must come within
  /// `dial_timeout`; then it runs until one of those.
  Task<std::string> watch(std::string prefix, int64_t start_revision,
                          std::function<void(EtcdWatchBatch&&)> on_batch,
                          std::shared_ptr<HttpCancel> cancel = {});

  /// The endpoint calls go to now ("" without endpoints).
  const std::string& endpoint() const;

 private:
  /// A gateway's answer (its JSON body) or why there is none, and who gave it.
  struct Answer {
    std::string endpoint;
    std::string error;  ///< already names the endpoint and the call
    std::string body;
  };
  enum class Resend : uint8_t { Never, Once };

  /// kv/range with the request's JSON.
  Task<EtcdRange> range(std::string request);
  /// POST /v3/`name` with `body` to the current endpoint, failing over as described above.
  Task<Answer> call(std::string name, std::string body, Resend resend);
  HttpCall make_call(const std::string& endpoint, std::string name, std::string body) const;
  HttpCall watch_call(size_t at, std::string prefix, int64_t start_revision) const;
  /// Why the watch on endpoint `at` ended; fails over when the member did not serve it.
  std::string watch_ended(size_t at, const HttpReply& reply, EtcdWatchReader& reader,
                          bool cancelled);
  /// The endpoint `at` gave no usable answer: the next one becomes current (unless another call
  /// moved on already).
  void fail_over(size_t at);

  HttpClient& http_;
  config::Etcd settings_;
  size_t current_ = 0;
};

}  // namespace vane::control
