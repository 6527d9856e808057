#include "server/tls_context.h"

#include <grpcpp/security/server_credentials.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace tri::server {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

bool UseCertificateChain(SSL_CTX& ctx, const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509* leaf = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) return false;
  const bool ok = SSL_CTX_use_certificate(&ctx, leaf) == 1;
  X509_free(leaf);
  if (!ok) return false;
  // The rest of the file: intermediates sent along with the leaf.
  while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(&ctx, extra) != 1) {
      X509_free(extra);
      return false;
    }
  }
  return true;
}

bool UsePrivateKey(SSL_CTX& ctx, const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) return false;
  const bool ok = SSL_CTX_use_PrivateKey(&ctx, key) == 1;
  EVP_PKEY_free(key);
  return ok && SSL_CTX_check_private_key(&ctx) == 1;
}

bool TrustCertificates(SSL_CTX& ctx, const std::string& pem) {
  X509_STORE* store = SSL_CTX_get_cert_store(&ctx);
  BioPtr bio = MemoryBio(pem);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    const bool ok = X509_STORE_add_cert(store, cert) == 1;
    X509_free(cert);
    if (!ok) return false;
    ++added;
  }
  return added > 0;
}

}  // namespace

bool ConfigureServerContext(SSL_CTX& ctx, const TlsMaterial& tls) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (!UseCertificateChain(ctx, tls.cert_pem) || !UsePrivateKey(ctx, tls.key_pem)) return false;
  if (tls.client_cert_auth) {
    if (!TrustCertificates(ctx, tls.trusted_ca_pem)) return false;
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);
  }
  return true;
}

std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsMaterial& tls) {
  grpc::SslServerCredentialsOptions options(
      tls.client_cert_auth ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                           : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_root_certs = tls.trusted_ca_pem;
  options.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(options);
}

}  // namespace tri::server
