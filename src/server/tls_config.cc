#include "server/tls_config.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace tri::server {
namespace {

// Certificates and keys are small; a larger file is not one.
constexpr std::size_t kMaxPemFileBytes = 1 << 20;

Result<std::string> ReadPemFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return InvalidArgument(fmt::format("{}: cannot read {}: {}", flag, path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(fmt::format("{}: cannot read {}", flag, path));
  std::string pem = std::move(text).str();
  if (pem.size() > kMaxPemFileBytes)
    return InvalidArgument(fmt::format("{}: {} is larger than {} bytes; not a PEM file", flag, path,
                                       kMaxPemFileBytes));
  return pem;
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of `pem`, or null.
X509Ptr FirstCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

Result<TlsMaterial> LoadTlsMaterial(const TlsFiles& files, const std::string& flag_prefix) {
  const std::string cert_flag = "--" + flag_prefix + "cert-file";
  const std::string key_flag = "--" + flag_prefix + "key-file";
  const std::string ca_flag = "--" + flag_prefix + "trusted-ca-file";
  const std::string auth_flag = "--" + flag_prefix + "client-cert-auth";
  if (files.cert_file.empty())
    return InvalidArgument(fmt::format("{}: required with {}", cert_flag, key_flag));
  if (files.key_file.empty())
    return InvalidArgument(fmt::format("{}: required with {}", key_flag, cert_flag));
  if (files.client_cert_auth && files.trusted_ca_file.empty())
    return InvalidArgument(fmt::format(
        "{}: needs {} (the CA that certificates presented to this server must chain to)", auth_flag,
        ca_flag));

  TlsMaterial m;
  m.client_cert_auth = files.client_cert_auth;
  TRI_ASSIGN_OR_RETURN(m.cert_pem, ReadPemFile(cert_flag, files.cert_file));
  TRI_ASSIGN_OR_RETURN(m.key_pem, ReadPemFile(key_flag, files.key_file));
  ERR_clear_error();
  X509Ptr cert = FirstCertificate(m.cert_pem);
  if (!cert)
    return InvalidArgument(
        fmt::format("{}: {} holds no PEM certificate", cert_flag, files.cert_file));
  BioPtr key_bio = MemoryBio(m.key_pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key)
    return InvalidArgument(
        fmt::format("{}: {} holds no unencrypted PEM private key", key_flag, files.key_file));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument(fmt::format("{}: the key in {} does not belong to the certificate in {}",
                                       key_flag, files.key_file, files.cert_file));
  }
  if (!files.trusted_ca_file.empty()) {
    TRI_ASSIGN_OR_RETURN(m.trusted_ca_pem, ReadPemFile(ca_flag, files.trusted_ca_file));
    if (!FirstCertificate(m.trusted_ca_pem))
      return InvalidArgument(
          fmt::format("{}: {} holds no PEM certificate", ca_flag, files.trusted_ca_file));
  }
  ERR_clear_error();
  return m;
}

}  // namespace tri::server
