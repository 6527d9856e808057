#include "client/client_tls.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tri::client {
namespace {

constexpr std::size_t kMaxPemFileBytes = 1 << 20;
constexpr std::string_view kHttpsPrefix = "https://";

Result<std::string> ReadPem(const std::string& flag, const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(flag + ": cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = std::move(text).str();
  if (pem.find("-----BEGIN ") == std::string::npos || pem.size() > kMaxPemFileBytes)
    return InvalidArgument(flag + ": " + path + " is not a PEM file");
  return pem;
}

}  // namespace

Result<ClientTls> LoadClientTls(const std::string& cacert_file, const std::string& cert_file,
                                const std::string& key_file, bool insecure_skip_verify) {
  if (cert_file.empty() != key_file.empty())
    return InvalidArgument(cert_file.empty() ? "--cert: required with --key"
                                             : "--key: required with --cert");
  ClientTls tls;
  TRI_ASSIGN_OR_RETURN(tls.ca_pem, ReadPem("--cacert", cacert_file));
  TRI_ASSIGN_OR_RETURN(tls.cert_pem, ReadPem("--cert", cert_file));
  TRI_ASSIGN_OR_RETURN(tls.key_pem, ReadPem("--key", key_file));
  tls.insecure_skip_verify = insecure_skip_verify;
  tls.for_plain_endpoints = !cacert_file.empty() || !cert_file.empty() || !key_file.empty();
  return tls;
}

DialTarget ResolveDialTarget(const std::string& endpoint, const ClientTls& tls) {
  if (endpoint.starts_with(kHttpsPrefix)) return {endpoint.substr(kHttpsPrefix.size()), true};
  return {endpoint, tls.for_plain_endpoints};
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const DialTarget& target,
                                                             const ClientTls& tls) {
  if (!target.tls) return grpc::InsecureChannelCredentials();
  if (!tls.insecure_skip_verify) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = tls.ca_pem;
    options.pem_private_key = tls.key_pem;
    options.pem_cert_chain = tls.cert_pem;
    return grpc::SslCredentials(options);
  }
  // No verification of the server's certificate at all (etcdctl's
  // --insecure-skip-tls-verify): the connection is encrypted, not authenticated.
  namespace exp = grpc::experimental;
  exp::TlsChannelCredentialsOptions options;
  if (!tls.cert_pem.empty()) {
    std::vector<exp::IdentityKeyCertPair> identity = {{tls.key_pem, tls.cert_pem}};
    options.set_certificate_provider(
        std::make_shared<exp::StaticDataCertificateProvider>(identity));
    options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<exp::NoOpCertificateVerifier>());
  return exp::TlsCredentials(options);
}

}  // namespace tri::client
