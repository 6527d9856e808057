#pragma once

// An OpenSSL server context from checked TLS material (tls_config.h), for the
// listeners that take an SSL_CTX (the HTTP saga API through cpp-httplib).

#include <openssl/ssl.h>

#include "server/tls_config.h"

namespace tri::server {

// Installs the certificate chain and key of `tls`, TLS 1.2 as the oldest version,
// and, with client_cert_auth, requires a client certificate that chains to
// trusted_ca_pem. False when OpenSSL refuses any of it (LoadTlsMaterial has already
// checked the material, so this does not happen for a loaded one).
bool ConfigureServerContext(SSL_CTX& ctx, const TlsMaterial& tls);

}  // namespace tri::server
