#pragma once

// TLS settings of `tri server` with etcd's names (docs/server.md, "TLS"): one set for
// clients (--cert-file, --key-file, --trusted-ca-file, --client-cert-auth; the config
// file's `client-transport-security` mapping) and one for peers (the same with
// --peer-; `peer-transport-security`). The files are read and checked once, at
// start-up: certificates are not reloaded while the server runs.

#include <string>

#include "base/result.h"
#include "base/status.h"

namespace tri::server {

// What the operator named.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;

  // etcd's TLSInfo.Empty(): no certificate and no key given.
  bool Empty() const { return cert_file.empty() && key_file.empty(); }
  friend bool operator==(const TlsFiles&, const TlsFiles&) = default;
};

// The files' contents (PEM), checked: the certificate chain and the key parse, the key
// belongs to the certificate, the trusted CA file holds at least one certificate.
struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
  std::string trusted_ca_pem;  // empty: none given
  bool client_cert_auth = false;
};

// Reads and checks `files`. `flag_prefix` is "" for the client set and "peer-" for the
// peer set; errors name the flag and the file ("--peer-key-file: cannot read
// /x/peer.key: No such file or directory"). Requires a certificate and a key; with
// client_cert_auth also a trusted CA file (the certificates clients must chain to).
Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files, const std::string& flag_prefix);

}  // namespace tri::server
