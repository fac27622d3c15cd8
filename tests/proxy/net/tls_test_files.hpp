// Certificates for the TLS unit tests, made in-process with OpenSSL (P-256 keys, self-signed
// or signed by a test CA) and written as PEM files to a temporary directory. Test thread only.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "proxy/net/tls_files.hpp"

namespace vane::proxy::test {

class TlsFiles {
 public:
  struct Pair {
    std::string cert;
    std::string key;
  };

  TlsFiles() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vane-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = pattern;
    ca_key_ = new_key();
    ca_ = make_cert("test CA", {}, ca_key_.get(), nullptr, ca_key_.get(), true);
    write_cert(ca_.get(), path("ca.crt"));
  }
  ~TlsFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TlsFiles(const TlsFiles&) = delete;
  TlsFiles& operator=(const TlsFiles&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string ca_file() const { return path("ca.crt"); }

  /// A certificate for `cn` valid for `sans` ("DNS:a.test", "IP:127.0.0.1"), signed by the CA;
  /// its key encrypted with `passphrase` when one is given.
  Pair issue(const std::string& cn, const std::vector<std::string>& sans,
             const std::string& passphrase = "") {
    const std::string base = "leaf" + std::to_string(++count_);
    PkeyPtr key = new_key();
    X509Ptr cert = make_cert(cn, sans, key.get(), ca_.get(), ca_key_.get(), false);
    write_cert(cert.get(), path(base + ".crt"));
    write_key(key.get(), path(base + ".key"), passphrase);
    return {path(base + ".crt"), path(base + ".key")};
  }

  void write_text(const std::string& name, const std::string& text) const {
    FILE* f = std::fopen(path(name).c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + name);
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }

 private:
  static PkeyPtr new_key() { return PkeyPtr(EVP_EC_gen("P-256")); }

  /// Signed by `issuer` with `issuer_key`, or self-signed when `issuer` is null.
  X509Ptr make_cert(const std::string& cn, const std::vector<std::string>& sans, EVP_PKEY* key,
                    X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    X509Ptr cert(X509_new());
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    std::string list;
    for (const auto& san : sans) list += (list.empty() ? "" : ",") + san;
    if (!list.empty()) add_extension(cert.get(), ctx, NID_subject_alt_name, list);
    if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
    return cert;
  }

  static void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }

  static void write_cert(X509* cert, const std::string& file) {
    FILE* f = std::fopen(file.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
  }
  static void write_key(EVP_PKEY* key, const std::string& file, const std::string& passphrase) {
    FILE* f = std::fopen(file.c_str(), "w");
    std::string pass = passphrase;
    PEM_write_PrivateKey(f, key, pass.empty() ? nullptr : EVP_aes_128_cbc(),
                         reinterpret_cast<unsigned char*>(pass.data()),
                         static_cast<int>(pass.size()), nullptr, nullptr);
    std::fclose(f);
  }

  std::filesystem::path dir_;
  PkeyPtr ca_key_;
  X509Ptr ca_;
  long serial_ = 0;
  int count_ = 0;
};

}  // namespace vane::proxy::test
