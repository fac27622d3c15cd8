// The `cluster` section (SPEC §9): etcd endpoints and TLS, the replica's name, lease and publish
// timing.
#include <unistd.h>

#include <array>

#include "config/parse.hpp"
#include "config/validate.hpp"

namespace vane::config {
namespace {

/// A replica name goes into etcd keys and admin output: a DNS-label-like name (a pod's name is).
bool is_replica_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (const char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return {};
  return name.data();
}

/// `http://host:port` or `https://host:port`, nothing after the port (etcd's client URLs).
void read_endpoint(Reader& r, const Value& v, std::vector<std::string>& out) {
  const auto text = r.string(v);
  if (!text) return;
  std::string_view rest = *text;
  const bool scheme = rest.starts_with("http://") || rest.starts_with("https://");
  if (scheme) rest.remove_prefix(rest.find("//") + 2);
  const HostPort hp = parse_host_port(rest, 1);
  if (!scheme || !hp.error.empty()) {
    r.error(v, "must be http://host:port or https://host:port" +
                   (scheme ? " (" + hp.error + ")" : std::string()));
    return;
  }
  out.push_back(*text);
}

void parse_etcd_tls(Reader& r, const Value& v, EtcdTls& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  read_ca_file(r, m, out.ca_file);
  if (!m.has("certFile") && !m.has("keyFile")) return;
  TlsCertificate cert;
  read_certificate(r, m, cert);
  out.cert_file = cert.cert_file;
  out.key_file = cert.key_file;
}

void parse_etcd(Reader& r, const Value& v, Etcd& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  if (const auto list = m.require("endpoints")) {
    for (const Value& item : r.list(*list, Presence::Required)) {
      read_endpoint(r, item, out.endpoints);
    }
  }
  out.prefix = "/vane";
  if (const auto prefix = m.take("prefix")) {
    const auto text = r.string(*prefix);
    if (text && (!text->starts_with('/') || text->size() < 2 || text->ends_with('/'))) {
      r.error(*prefix, "must start with / and not end with / (e.g. /vane/prod-ingress)");
    } else if (text) {
      out.prefix = *text;
    }
  }
  m.get_duration("dialTimeout", out.dial_timeout);
  if (const auto tls = m.take("tls")) parse_etcd_tls(r, *tls, out.tls.emplace());
}

}  // namespace

void parse_cluster(Reader& r, const Value& v, Cluster& out) {
  MapReader m(r, v);
  if (!m.valid()) return;
  out.mark = v.mark;
  if (const auto etcd = m.require("etcd")) parse_etcd(r, *etcd, out.etcd);
  if (const auto name = m.take("replicaName")) {
    const auto text = r.string(*name);
    if (text && !is_replica_name(*text)) {
      r.error(*name, "must be 1-253 characters of A-Z a-z 0-9 . _ -");
    } else if (text) {
      out.replica_name = *text;
    }
  } else {
    out.replica_name = host_name();
    if (!is_replica_name(out.replica_name)) {
      r.error(v, "replicaName is required: the host name " + quoted(out.replica_name) +
                     " cannot be used as one");
    }
  }
  if (const auto ttl = m.take("leaseTTL")) {
    const auto d = r.duration(*ttl, false);
    if (d && (*d % std::chrono::seconds(1) != Duration::zero() || *d < std::chrono::seconds(2))) {
      r.error(*ttl, "must be whole seconds, at least 2s");
    } else if (d) {
      out.lease_ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
  }
  if (const auto interval = m.take("publishInterval")) {
    const auto d = r.duration(*interval, false);
    if (d && *d < std::chrono::milliseconds(100)) {
      r.error(*interval, "must be at least 100ms");
    } else if (d) {
      out.publish_interval = *d;
    }
  }
}

}  // namespace vane::config
