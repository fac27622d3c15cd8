// A certificate authority made by a test with the openssl CLI, the certificates it signs, and a
// TLS handshake by `openssl s_client` to see what a server presents. Test thread only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/integration/harness.hpp"

namespace vane::it {

struct CertFiles {
  std::string cert;
  std::string key;
};

class TestCa {
 public:
  /// A self-signed CA (P-256) in a fresh directory; throws when openssl fails.
  explicit TestCa(const std::string& name = "vane test CA") {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "2", "-subj", "/CN=" + name});
  }

  std::string ca_file() const { return path("ca.crt"); }
  std::string path(const std::string& file) const { return (dir_.path() / file).string(); }

  /// A server certificate for `cn`, valid for `sans` (e.g. "DNS:a.test", "DNS:*.w.test",
  /// "IP:127.0.0.1"), signed by this CA.
  CertFiles issue(const std::string& cn, const std::vector<std::string>& sans) {
    const std::string base = "leaf" + std::to_string(++serial_);
    std::string ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=";
    for (size_t i = 0; i < sans.size(); ++i) ext += (i ? "," : "") + sans[i];
    write_file(path(base + ".ext"), ext + "\n");
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", path(base + ".key"), "-out", path(base + ".csr"), "-subj", "/CN=" + cn});
    openssl({"x509", "-req", "-in", path(base + ".csr"), "-CA", ca_file(), "-CAkey", path("ca.key"),
             "-set_serial", std::to_string(serial_), "-days", "2", "-extfile", path(base + ".ext"),
             "-out", path(base + ".crt")});
    return {path(base + ".crt"), path(base + ".key")};
  }

 private:
  void openssl(std::vector<std::string> args) const {
    args.insert(args.begin(), "openssl");
    const CommandResult r = run_command(std::move(args), 20s);
    if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  }

  TempDir dir_;
  int serial_ = 0;
};

/// `openssl s_client` against 127.0.0.1:port with `args` (e.g. -servername, -alpn, -tls1_2):
/// its exit code and output; stdin is /dev/null, so it ends right after the handshake.
inline CommandResult s_client(uint16_t port, std::vector<std::string> args) {
  args.insert(args.begin(), {"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port)});
  return run_command(std::move(args), 15s);
}

/// The subject line of the certificate a handshake showed ("subject=CN = a.test"), or "".
inline std::string served_subject(const CommandResult& r) {
  const size_t at = r.out.find("\nsubject=");
  if (at == std::string::npos) return "";
  return r.out.substr(at + 1, r.out.find('\n', at + 1) - at - 1);
}

}  // namespace vane::it
