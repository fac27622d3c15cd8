#include "control/etcd_codec.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <limits>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace vane::control::etcd_codec {
namespace {

namespace json = boost::json;

const json::value* find(const json::object& o, std::string_view name) {
  const auto it = o.find(name);
  return it == o.end() ? nullptr : &it->value();
}

/// A nested object; null when absent (or `problem` set when it is something else).
const json::object* read_object(const json::object& o, std::string_view name,
                                std::string& problem) {
  const json::value* v = find(o, name);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) {
    if (problem.empty()) problem = "\"" + std::string(name) + "\" is not an object";
    return nullptr;
  }
  return &v->get_object();
}

bool read_flag(const json::object& o, std::string_view name, std::string& problem) {
  const json::value* v = find(o, name);
  if (!v) return false;
  if (!v->is_bool()) {
    if (problem.empty()) problem = "\"" + std::string(name) + "\" is not a boolean";
    return false;
  }
  return v->get_bool();
}

/// A bytes field (base64); "" when absent.
std::string read_bytes(const json::object& o, std::string_view name, std::string& problem) {
  const json::value* v = find(o, name);
  if (!v) return "";
  std::optional<std::string> bytes;
  if (v->is_string()) bytes = base64_decode(v->get_string());
  if (!bytes && problem.empty()) problem = "\"" + std::string(name) + "\" is not base64";
  return bytes.value_or("");
}

/// The answer's header revision.
int64_t header_revision(const json::object& answer, std::string& problem) {
  const json::object* header = read_object(answer, "header", problem);
  return header ? read_number(*header, "revision", problem) : 0;
}

/// Parses `body` as an object and checks it for the gateway's error: "" or why it is no answer.
std::string open_answer(std::string_view body, json::object& out) {
  if (std::string error = parse_object(body, out); !error.empty()) return error;
  return gateway_error(out);
}

const char* compare_target(EtcdCompare::Target target) {
  switch (target) {
    case EtcdCompare::Target::Create: return "CREATE";
    case EtcdCompare::Target::Mod: return "MOD";
    case EtcdCompare::Target::Version: return "VERSION";
    case EtcdCompare::Target::Value: return "VALUE";
  }
  return "CREATE";
}

json::object compare_json(const EtcdCompare& c) {
  json::object o{{"key", base64_encode(c.key)},
                 {"target", compare_target(c.target)},
                 {"result", "EQUAL"}};
  const std::string number = std::to_string(c.number);
  switch (c.target) {
    case EtcdCompare::Target::Create: o["create_revision"] = number; break;
    case EtcdCompare::Target::Mod: o["mod_revision"] = number; break;
    case EtcdCompare::Target::Version: o["version"] = number; break;
    case EtcdCompare::Target::Value: o["value"] = base64_encode(c.value); break;
  }
  return o;
}

json::object op_json(const EtcdOp& op) {
  if (op.kind == EtcdOp::Kind::Put) {
    json::object put{{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
    if (op.lease != 0) put["lease"] = std::to_string(op.lease);
    return {{"request_put", std::move(put)}};
  }
  json::object del{{"key", base64_encode(op.key)}};
  if (op.kind == EtcdOp::Kind::DeletePrefix) del["range_end"] = base64_encode(prefix_end(op.key));
  return {{"request_delete_range", std::move(del)}};
}

json::array ops_json(const std::vector<EtcdOp>& ops) {
  json::array out;
  for (const EtcdOp& op : ops) out.push_back(op_json(op));
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock skips surrounding blanks and counts padding as zero bytes: rule both out.
  if (text.size() % 4 != 0 || text.size() > std::numeric_limits<int>::max()) return std::nullopt;
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (c == '=' && i + 2 >= text.size()) {
      ++padding;
    } else if (!alphabet || padding > 0) {
      return std::nullopt;
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);
  return out;
}

std::string range_request(std::string_view key, std::string_view range_end) {
  json::object o{{"key", base64_encode(key)}};
  if (!range_end.empty()) o["range_end"] = base64_encode(range_end);
  return json::serialize(o);
}

std::string put_request(std::string_view key, std::string_view value, int64_t lease) {
  json::object o{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) o["lease"] = std::to_string(lease);
  return json::serialize(o);
}

std::string txn_request(const std::vector<EtcdCompare>& compare,
                        const std::vector<EtcdOp>& success, const std::vector<EtcdOp>& failure) {
  json::array compares;
  for (const EtcdCompare& c : compare) compares.push_back(compare_json(c));
  return json::serialize(json::object{{"compare", std::move(compares)},
                                       {"success", ops_json(success)},
                                       {"failure", ops_json(failure)}});
}

std::string grant_request(int64_t ttl_seconds) {
  return json::serialize(json::object{{"TTL", std::to_string(ttl_seconds)}});
}

std::string lease_request(int64_t id) {
  return json::serialize(json::object{{"ID", std::to_string(id)}});
}

std::string watch_request(std::string_view key, std::string_view range_end,
                          int64_t start_revision) {
  json::object create{{"key", base64_encode(key)}, {"range_end", base64_encode(range_end)}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json::serialize(json::object{{"create_request", std::move(create)}});
}

std::string read_range(std::string_view body, EtcdRange& out) {
  json::object answer;
  if (std::string error = open_answer(body, answer); !error.empty()) return error;
  std::string problem;
  out.revision = header_revision(answer, problem);
  if (const json::value* kvs = find(answer, "kvs"); kvs && !kvs->is_null()) {
    if (!kvs->is_array()) return "malformed answer: \"kvs\" is not an array";
    for (const json::value& kv : kvs->get_array()) out.kvs.push_back(read_kv(kv, problem));
  }
  return problem.empty() ? "" : "malformed answer: " + problem;
}

std::string read_txn(std::string_view body, EtcdTxn& out) {
  json::object answer;
  if (std::string error = open_answer(body, answer); !error.empty()) return error;
  std::string problem;
  out.revision = header_revision(answer, problem);
  out.succeeded = read_flag(answer, "succeeded", problem);  // absent: the comparison failed
  return problem.empty() ? "" : "malformed answer: " + problem;
}

std::string read_grant(std::string_view body, EtcdLease& out) {
  json::object answer;
  if (std::string error = open_answer(body, answer); !error.empty()) return error;
  std::string problem;
  out.id = read_number(answer, "ID", problem);
  out.ttl = read_number(answer, "TTL", problem);
  if (problem.empty() && out.id == 0) problem = "no lease ID";
  return problem.empty() ? "" : "malformed answer: " + problem;
}

std::string read_keepalive(std::string_view body, EtcdLease& out) {
  json::object answer;
  if (std::string error = open_answer(body, answer); !error.empty()) return error;
  std::string problem;
  const json::object* result = read_object(answer, "result", problem);
  if (!result && problem.empty()) problem = "no \"result\"";
  if (result) {
    if (std::string error = gateway_error(*result); !error.empty()) return error;
    out.id = read_number(*result, "ID", problem);
    out.ttl = read_number(*result, "TTL", problem);  // absent: the lease is gone
  }
  return problem.empty() ? "" : "malformed answer: " + problem;
}

std::string read_revoke(std::string_view body) {
  json::object answer;
  return open_answer(body, answer);
}

std::string parse_object(std::string_view text, json::object& out) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return "malformed answer: " + ec.message();
  if (!v.is_object()) return "malformed answer: not a JSON object";
  out = std::move(v.get_object());
  return "";
}

std::string gateway_error(const json::object& answer) {
  const json::value* error = find(answer, "error");
  if (!error || error->is_null()) return "";
  std::string text;
  const json::value* code = find(answer, "code");
  if (error->is_string()) {
    text = error->get_string();
  } else if (error->is_object()) {  // a stream's error
    const json::object& e = error->get_object();
    if (const json::value* m = find(e, "message"); m && m->is_string()) text = m->get_string();
    code = find(e, "grpc_code");
  }
  if (text.empty() && error->is_string()) return "";  // LeaseGrantResponse's empty "error"
  if (text.empty()) text = "error " + json::serialize(*error);
  if (code && code->is_int64()) text += " (code " + std::to_string(code->get_int64()) + ")";
  return text;
}

EtcdKv read_kv(const json::value& kv, std::string& problem) {
  EtcdKv out;
  if (!kv.is_object()) {
    if (problem.empty()) problem = "a kv is not an object";
    return out;
  }
  const json::object& o = kv.get_object();
  out.key = read_bytes(o, "key", problem);
  out.value = read_bytes(o, "value", problem);
  out.create_revision = read_number(o, "create_revision", problem);
  out.mod_revision = read_number(o, "mod_revision", problem);
  out.version = read_number(o, "version", problem);
  out.lease = read_number(o, "lease", problem);
  return out;
}

int64_t read_number(const json::object& o, std::string_view name, std::string& problem) {
  const json::value* v = find(o, name);
  if (!v) return 0;
  int64_t n = 0;
  bool ok = false;
  if (v->is_string()) {
    const json::string& s = v->get_string();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    ok = ec == std::errc() && end == s.data() + s.size() && !s.empty();
  } else if (v->is_int64()) {
    n = v->get_int64();
    ok = true;
  } else if (v->is_uint64() && v->get_uint64() <= std::numeric_limits<int64_t>::max()) {
    n = static_cast<int64_t>(v->get_uint64());
    ok = true;
  }
  if (!ok && problem.empty()) problem = "\"" + std::string(name) + "\" is not a 64-bit number";
  return ok ? n : 0;
}

}  // namespace vane::control::etcd_codec
