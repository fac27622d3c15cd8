#include "control/http_trust.hpp"

#include "control/asio.hpp"
#include "control/http_client.hpp"
#include "proxy/log.hpp"

namespace vane::control {
namespace {

namespace ssl = net::ssl;
using boost::system::error_code;

/// Loads the call's client certificate into `context`; why it cannot, or "".
std::string load_client_cert(const HttpCall& call, ssl::context& context) {
  if (call.cert_file.empty() && call.key_file.empty()) return "";
  if (call.cert_file.empty() || call.key_file.empty()) {
    return "a client certificate needs both a certificate and a key file";
  }
  error_code ec;
  context.use_certificate_chain_file(call.cert_file, ec);
  if (ec) return "cannot load the client certificate " + call.cert_file + ": " + ec.message();
  context.use_private_key_file(call.key_file, ssl::context::pem, ec);
  if (ec) return "cannot load the client key " + call.key_file + ": " + ec.message();
  return "";
}

/// The modification times of the files a context for `call` is made from (CA, certificate,
/// key); a file not used, or unreadable (loading it says why), counts as the epoch.
std::vector<std::filesystem::file_time_type> files_modified(const HttpCall& call) {
  const std::string ca = call.tls.insecure_skip_verify ? "" : call.tls.ca_file;
  std::vector<std::filesystem::file_time_type> times;
  for (const std::string* file : {&ca, &call.cert_file, &call.key_file}) {
    std::error_code ignored;
    times.push_back(file->empty() ? std::filesystem::file_time_type{}
                                  : std::filesystem::last_write_time(*file, ignored));
  }
  return times;
}

}  // namespace

HttpTrust::Made HttpTrust::make(const HttpCall& call) {
  const config::UpstreamTls& tls = call.tls;
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1);
  if (std::string error = load_client_cert(call, *context); !error.empty()) {
    return {nullptr, {}, std::move(error)};
  }
  error_code ec;
  if (tls.insecure_skip_verify) {
    context->set_verify_mode(ssl::verify_none, ec);
    return {context, {}, {}};
  }
  context->set_verify_mode(ssl::verify_peer, ec);
  if (tls.ca_file.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) return {nullptr, {}, "cannot use the system's CA store: " + ec.message()};
  } else {
    context->load_verify_file(tls.ca_file, ec);
    if (ec) return {nullptr, {}, "cannot load the CA file " + tls.ca_file + ": " + ec.message()};
  }
  return {context, {}, {}};
}

std::shared_ptr<ssl::context> HttpTrust::context(const HttpCall& call, std::string* error) {
  const std::string key =
      (call.tls.insecure_skip_verify ? "insecure" : "verify " + call.tls.ca_file) + " cert " +
      call.cert_file + " " + call.key_file;
  std::vector<std::filesystem::file_time_type> modified = files_modified(call);
  auto it = made_.find(key);
  if (it == made_.end() || it->second.modified != modified) {  // new, or a file changed
    Made made = make(call);
    made.modified = std::move(modified);
    if (!made.context) proxy::log::warn("https client: " + made.error);
    it = made_.insert_or_assign(key, std::move(made)).first;
  }
  if (!it->second.context) *error = it->second.error;
  return it->second.context;
}

}  // namespace vane::control
