#include "proxy/net/tls_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vane::proxy {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

/// The file's bytes in a memory BIO; null with `error` set when it cannot be read.
BioPtr open_file(const std::string& path, std::string& text, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "cannot read " + path + ": is a directory";
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  text = bytes.str();
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) error = "cannot read " + path + ": " + openssl_error();
  return bio;
}

/// Refuses to prompt for a passphrase (a server must start unattended).
int no_passphrase(char*, int, int, void*) { return 0; }

}  // namespace

void X509Free::operator()(X509* x) const { X509_free(x); }
void PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

std::string openssl_error() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "TLS error " + std::to_string(code);
}

X509Ptr read_certificate(const std::string& path, std::string& error) {
  std::string text;
  auto bio = open_file(path, text, error);
  if (!bio) return nullptr;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, &no_passphrase, nullptr));
  if (!cert) error = path + " holds no PEM certificate (" + openssl_error() + ")";
  return cert;
}

PkeyPtr read_private_key(const std::string& path, std::string& error) {
  std::string text;
  auto bio = open_file(path, text, error);
  if (!bio) return nullptr;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr));
  if (!key) {
    error = path + " holds no PEM private key, or an encrypted one (" + openssl_error() + ")";
  }
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

std::string certificate_error(const std::string& cert_file) {
  std::string error;
  read_certificate(cert_file, error);
  return error;
}

std::string private_key_error(const std::string& cert_file, const std::string& key_file) {
  std::string error;
  auto cert = read_certificate(cert_file, error);
  if (!cert) return error;
  auto key = read_private_key(key_file, error);
  if (!key) return error;
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return key_file + " does not match the certificate in " + cert_file;
  }
  return "";
}

std::string ca_file_error(const std::string& ca_file) {
  std::string text;
  std::string error;
  auto bio = open_file(ca_file, text, error);
  if (!bio) return error;
  int count = 0;
  while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, &no_passphrase, nullptr))) ++count;
  ERR_clear_error();  // the read past the last certificate
  return count > 0 ? "" : ca_file + " holds no PEM certificate";
}

}  // namespace vane::proxy
