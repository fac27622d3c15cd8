// The checks behind TLS config errors: unreadable, non-PEM, encrypted and mismatched files each
// get a message naming the file; good files get none.
#include "proxy/net/tls_files.hpp"

#include <gtest/gtest.h>

#include "tests/proxy/net/tls_test_files.hpp"

namespace vane::proxy {
namespace {

TEST(TlsFiles, ACertificateMustBeAReadablePemCertificate) {
  test::TlsFiles files;
  const auto a = files.issue("a.test", {"DNS:a.test"});
  files.write_text("garbage.pem", "hello\n");
  EXPECT_EQ(certificate_error(a.cert), "");
  EXPECT_EQ(certificate_error(files.path("none.crt")).rfind("cannot read " + files.path("none.crt") + ": No such file", 0), 0U);
  EXPECT_NE(certificate_error(files.path("")).find(": is a directory"), std::string::npos);
  EXPECT_EQ(certificate_error(files.path("garbage.pem")).rfind(files.path("garbage.pem") + " holds no PEM certificate", 0), 0U);
  EXPECT_NE(certificate_error(a.key), "") << "a key is not a certificate";
}

TEST(TlsFiles, AKeyMustBeUnencryptedAndMatchItsCertificate) {
  test::TlsFiles files;
  const auto a = files.issue("a.test", {"DNS:a.test"});
  const auto b = files.issue("b.test", {"DNS:b.test"});
  const auto locked = files.issue("c.test", {"DNS:c.test"}, "secret");
  EXPECT_EQ(private_key_error(a.cert, a.key), "");
  EXPECT_EQ(private_key_error(a.cert, b.key), b.key + " does not match the certificate in " + a.cert);
  EXPECT_EQ(private_key_error(locked.cert, locked.key).rfind(locked.key + " holds no PEM private key, or an encrypted one", 0), 0U);
  EXPECT_EQ(private_key_error(a.cert, a.cert).rfind(a.cert + " holds no PEM private key", 0), 0U);
  EXPECT_EQ(private_key_error(a.cert, files.path("none.key")).rfind("cannot read", 0), 0U);
}

TEST(TlsFiles, ACaFileNeedsAtLeastOneCertificate) {
  test::TlsFiles files;
  const auto a = files.issue("a.test", {"DNS:a.test"});
  files.write_text("empty.pem", "");
  EXPECT_EQ(ca_file_error(files.ca_file()), "");
  EXPECT_EQ(ca_file_error(a.cert), "") << "any certificate may be trusted";
  EXPECT_EQ(ca_file_error(files.path("empty.pem")), files.path("empty.pem") + " holds no PEM certificate");
  EXPECT_EQ(ca_file_error(files.path("none.pem")).rfind("cannot read", 0), 0U);
}

}  // namespace
}  // namespace vane::proxy
