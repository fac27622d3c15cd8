// The JSON of etcd's v3 gateway, both ways: request bodies, and answers read into the client's
// results. Bytes travel as base64, 64-bit numbers as JSON strings, zero and false fields are
// omitted. Pure functions (no I/O); an answer that is not what etcd sends is an error, never a
// crash. Used by EtcdClient (control/etcd_client.hpp) on its thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/fwd.hpp>

#include "control/etcd_client.hpp"

namespace vane::control::etcd_codec {

std::string base64_encode(std::string_view bytes);
/// Standard alphabet with padding, as etcd writes it; nothing when `text` is not that.
std::optional<std::string> base64_decode(std::string_view text);

std::string range_request(std::string_view key, std::string_view range_end);
std::string put_request(std::string_view key, std::string_view value, int64_t lease);
std::string txn_request(const std::vector<EtcdCompare>& compare,
                        const std::vector<EtcdOp>& success, const std::vector<EtcdOp>& failure);
std::string grant_request(int64_t ttl_seconds);
/// Keepalive and revoke: {"ID": id}.
std::string lease_request(int64_t id);
std::string watch_request(std::string_view key, std::string_view range_end,
                          int64_t start_revision);

/// Each reads one answer into `out`: "" or why it is not the answer (the gateway's error as it
/// says it, or what is malformed). `out` is only partly filled then.
std::string read_range(std::string_view body, EtcdRange& out);
/// A put's or a transaction's answer.
std::string read_txn(std::string_view body, EtcdTxn& out);
std::string read_grant(std::string_view body, EtcdLease& out);
std::string read_keepalive(std::string_view body, EtcdLease& out);
std::string read_revoke(std::string_view body);

/// A parsed JSON object, or why `text` is none.
std::string parse_object(std::string_view text, boost::json::object& out);
/// The gateway's error in an answer (`{"error": "...", "code": N}`, or in a stream
/// `{"error": {"message": ..., "grpc_code": N}}`); "" when there is none.
std::string gateway_error(const boost::json::object& answer);
/// A kv as etcd writes it (`problem` set when it is malformed).
EtcdKv read_kv(const boost::json::value& kv, std::string& problem);
/// A 64-bit number field, written as a JSON string (or a number); 0 when absent.
int64_t read_number(const boost::json::object& o, std::string_view name, std::string& problem);

}  // namespace vane::control::etcd_codec
