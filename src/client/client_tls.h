#pragma once

// TLS for the gRPC clients with etcdctl's rules (etcdctl 3.4, clientv3): an
// "https://host:port" endpoint is always dialled with TLS; a bare "host:port" (or
// "http://host:port", which ParseEndpoints reduces to it) with TLS when any of
// --cacert, --cert, --key was given. The server's certificate is verified against
// --cacert (the system's CAs without it) and must name the host dialled, unless
// --insecure-skip-tls-verify.

#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "base/result.h"

namespace tri::client {

struct ClientTls {
  std::string ca_pem;    // trusted CAs; empty: the system's
  std::string cert_pem;  // client certificate, for servers with --client-cert-auth
  std::string key_pem;
  bool insecure_skip_verify = false;
  // Bare host:port endpoints use TLS too (some TLS flag was given).
  bool for_plain_endpoints = false;
};

// Reads the files named by etcdctl's flags (any may be empty). Errors name the flag
// and the file; --cert and --key go together.
Result<ClientTls> LoadClientTls(const std::string& cacert_file, const std::string& cert_file,
                                const std::string& key_file, bool insecure_skip_verify);

// An endpoint from ParseEndpoints as a gRPC target and whether it is dialled with TLS.
struct DialTarget {
  std::string target;  // "host:port"
  bool tls = false;
};
DialTarget ResolveDialTarget(const std::string& endpoint, const ClientTls& tls);

// The credentials for dialling `target`.
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const DialTarget& target,
                                                             const ClientTls& tls);

}  // namespace tri::client
