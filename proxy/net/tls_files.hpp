// The PEM files of TLS: certificates, private keys and CA bundles, read and checked with the
// messages that config errors show (control/config_checks.cpp) and that TlsAcceptor/TlsConnector throw.
// Any thread; each call uses only its own OpenSSL objects.
#pragma once

#include <memory>
#include <string>

#include <openssl/types.h>

namespace vane::proxy {

struct X509Free {
  void operator()(X509* x) const;
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

/// The first certificate of a PEM file; null with `error` set when it cannot be read.
X509Ptr read_certificate(const std::string& path, std::string& error);
/// A PEM private key (never prompts: encrypted keys are refused); null with `error` set.
PkeyPtr read_private_key(const std::string& path, std::string& error);

/// A message, or empty when the file is fine: a readable PEM certificate.
std::string certificate_error(const std::string& cert_file);
/// A message, or empty: a readable, unencrypted PEM private key matching `cert_file`'s certificate.
std::string private_key_error(const std::string& cert_file, const std::string& key_file);
/// A message, or empty: a readable PEM file with at least one certificate.
std::string ca_file_error(const std::string& ca_file);

/// The reason of the oldest error in this thread's OpenSSL queue (which is then cleared).
std::string openssl_error();

}  // namespace vane::proxy
