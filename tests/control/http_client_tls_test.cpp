// HttpClient over TLS against a loopback server whose certificate (localhost, 127.0.0.1) a test CA
// signed: trust from a CA file, the system's store or none; the name verified and sent as SNI
// (serverName, else the URL's host, never an address); pooled TLS connections; a CA file that
// cannot be loaded or is replaced on disk; a client certificate for a server that requires one.
// Every wait is bounded.
#include <gtest/gtest.h>

#include <filesystem>

#include "control/http_client.hpp"
#include "tests/control/http_test_server.hpp"
#include "tests/proxy/net/tls_test_files.hpp"

namespace vane::control {
namespace {

namespace ssl = net::ssl;
using namespace std::chrono_literals;
using test::Reply;
using test::Seen;
using test::TestServer;
using SteadyClock = std::chrono::steady_clock;

class HttpClientTlsTest : public ::testing::Test {
 protected:
  HttpClientTlsTest() {
    const auto pair = files.issue("localhost", {"DNS:localhost", "IP:127.0.0.1"});
    server_tls.use_certificate_chain_file(pair.cert);
    server_tls.use_private_key_file(pair.key, ssl::context::pem);
  }

  /// A call to `server` trusting the test CA; `host` is the URL's (the connection goes to the
  /// server's address whatever it is).
  HttpCall call_to(const TestServer& server, const std::string& host = "127.0.0.1") {
    HttpCall call;
    call.url = "https://" + host + ":" + std::to_string(server.port()) + "/";
    call.connect_to = tcp::endpoint(net::ip::address_v4::loopback(), server.port());
    call.tls.ca_file = files.ca_file();
    return call;
  }
  HttpReply fetch(HttpCall call) {
    std::optional<HttpReply> reply;
    net::co_spawn(io, client.fetch(std::move(call)),
                  [&](std::exception_ptr, HttpReply r) { reply = std::move(r); });
    const auto give_up = SteadyClock::now() + 3s;
    while (!reply && SteadyClock::now() < give_up) {
      if (io.stopped()) io.restart();
      io.run_one_for(10ms);
    }
    EXPECT_TRUE(reply.has_value());
    return reply.value_or(HttpReply{0, {}, "never ended", false});
  }
  static Reply ok(const Seen&) { return Reply{}; }

  proxy::test::TlsFiles files;
  ssl::context server_tls{ssl::context::tls_server};  ///< outlives the server's connections
  net::io_context io;
  HttpClient client{io};
};

TEST_F(HttpClientTlsTest, VerifiesTheUrlsHostAndSendsItAsSni) {
  TestServer server(io, ok, &server_tls);
  const HttpReply reply = fetch(call_to(server, "localhost"));
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(server.seen().at(0).sni, "localhost");
  EXPECT_EQ(server.seen().at(0).host, "localhost:" + std::to_string(server.port()));
}

TEST_F(HttpClientTlsTest, AnAddressIsVerifiedButNeverSentAsSni) {
  TestServer server(io, ok, &server_tls);
  const HttpReply reply = fetch(call_to(server));
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(server.seen().at(0).sni, "");
}

TEST_F(HttpClientTlsTest, ServerNameIsWhatIsSentAndVerified) {
  TestServer server(io, ok, &server_tls);
  HttpCall call = call_to(server);
  call.tls.server_name = "other.test";
  HttpReply reply = fetch(call);
  EXPECT_NE(reply.error.find("TLS handshake with 127.0.0.1:"), std::string::npos) << reply.error;
  EXPECT_TRUE(reply.connected);
  EXPECT_TRUE(server.seen().empty());
  call.tls.server_name = "localhost";
  reply = fetch(call);
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(server.seen().at(0).sni, "localhost");
}

TEST_F(HttpClientTlsTest, TheSystemsStoreDoesNotKnowTheTestCa) {
  TestServer server(io, ok, &server_tls);
  HttpCall call = call_to(server);
  call.tls.ca_file.clear();
  const HttpReply reply = fetch(call);
  EXPECT_NE(reply.error.find("TLS handshake with 127.0.0.1:"), std::string::npos) << reply.error;
  EXPECT_TRUE(server.seen().empty());
}

TEST_F(HttpClientTlsTest, InsecureSkipVerifyChecksNeitherChainNorName) {
  TestServer server(io, ok, &server_tls);
  HttpCall call = call_to(server);
  call.tls = {"", true, "other.test"};
  const HttpReply reply = fetch(call);
  EXPECT_TRUE(reply.success()) << reply.error;
  EXPECT_EQ(server.seen().at(0).sni, "other.test");
}

TEST_F(HttpClientTlsTest, TlsConnectionsArePooledByTheirSettings) {
  TestServer server(io, ok, &server_tls);
  EXPECT_TRUE(fetch(call_to(server)).success());
  EXPECT_TRUE(fetch(call_to(server)).success());
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.seen().at(1).nth, 2);
  HttpCall insecure = call_to(server);
  insecure.tls.insecure_skip_verify = true;
  EXPECT_TRUE(fetch(insecure).success());  // verified differently: not the same connection
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.idle(), 2u);
}

TEST_F(HttpClientTlsTest, ACaFileThatCannotBeLoadedFailsTheCall) {
  TestServer server(io, ok, &server_tls);
  HttpCall call = call_to(server);
  call.tls.ca_file = files.path("missing.pem");
  const HttpReply reply = fetch(call);
  EXPECT_EQ(reply.error.rfind("cannot load the CA file " + call.tls.ca_file + ": ", 0), 0u)
      << reply.error;
  EXPECT_FALSE(reply.connected);
  EXPECT_EQ(server.connections(), 0);
}

TEST_F(HttpClientTlsTest, ACaFileReplacedOnDiskIsReadAgain) {
  TestServer server(io, ok, &server_tls);
  proxy::test::TlsFiles other;  // another CA: not the server's
  const std::string trust = files.path("trust.pem");
  std::filesystem::copy_file(other.ca_file(), trust);
  HttpCall call = call_to(server);
  call.tls.ca_file = trust;
  EXPECT_NE(fetch(call).error.find("TLS handshake with"), std::string::npos);
  const auto before = std::filesystem::last_write_time(trust);
  std::filesystem::copy_file(files.ca_file(), trust,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::last_write_time(trust, before + 2s);  // as a later write would leave it
  const HttpReply reply = fetch(call);
  EXPECT_TRUE(reply.success()) << reply.error;
}

TEST_F(HttpClientTlsTest, PresentsItsClientCertificateToAServerThatRequiresOne) {
  const auto server_pair = files.issue("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  const auto client_pair = files.issue("vane client", {});
  ssl::context mutual{ssl::context::tls_server};  // outlives the server's connections
  mutual.use_certificate_chain_file(server_pair.cert);
  mutual.use_private_key_file(server_pair.key, ssl::context::pem);
  mutual.load_verify_file(files.ca_file());
  mutual.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  TestServer server(io, ok, &mutual);
  EXPECT_FALSE(fetch(call_to(server)).success());
  EXPECT_TRUE(server.seen().empty());
  HttpCall call = call_to(server);
  call.cert_file = client_pair.cert;
  call.key_file = client_pair.key;
  const HttpReply reply = fetch(call);
  EXPECT_TRUE(reply.success()) << reply.error;
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(client.idle(), 1u);
  // The pooled connection made with the certificate is not one for a call without it.
  EXPECT_FALSE(fetch(call_to(server)).success());
  EXPECT_EQ(server.seen().size(), 1u);
  EXPECT_TRUE(fetch(call).success());
  EXPECT_EQ(server.seen().at(1).nth, 2);
}

TEST_F(HttpClientTlsTest, AClientCertificateThatCannotBeLoadedFailsTheCall) {
  TestServer server(io, ok, &server_tls);
  HttpCall call = call_to(server);
  call.cert_file = files.path("missing.crt");
  call.key_file = files.path("missing.key");
  HttpReply reply = fetch(call);
  EXPECT_EQ(reply.error.rfind("cannot load the client certificate " + call.cert_file + ": ", 0), 0u)
      << reply.error;
  call.key_file.clear();
  reply = fetch(call);
  EXPECT_EQ(reply.error, "a client certificate needs both a certificate and a key file");
  EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace vane::control
