#pragma once

// Server-side TLS from checked TLS material (tls_config.h): gRPC credentials for the
// client URLs, and an OpenSSL context for the listeners that take an SSL_CTX (the
// HTTP saga API through cpp-httplib).

#include <grpcpp/security/server_credentials.h>
#include <openssl/ssl.h>

#include <memory>

#include "server/tls_config.h"

namespace tri::server {

// Installs the certificate chain and key of `tls`, TLS 1.2 as the oldest version,
// and, with client_cert_auth, requires a client certificate that chains to
// trusted_ca_pem. False when OpenSSL refuses any of it (LoadTlsMaterial has already
// checked the material, so this does not happen for a loaded one).
bool ConfigureServerContext(SSL_CTX& ctx, const TlsMaterial& tls);

// gRPC credentials presenting `tls`'s certificate; with client_cert_auth a client
// must present a certificate that chains to trusted_ca_pem
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY), as etcd's
// --client-cert-auth.
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsMaterial& tls);

}  // namespace tri::server
