#include "net/peer_stream.h"

#include <fmt/format.h>

namespace tri::net {
namespace {

// Loads our certificate chain and key, and the CAs that verify the other side.
Status Configure(asio::ssl::context& ctx, const PeerTlsOptions& o, const char* role) {
  asio::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1,
                  ec);
  if (ctx.use_certificate_chain(asio::buffer(o.cert_pem), ec); ec)
    return InvalidArgument(
        fmt::format("peer transport TLS ({}): certificate refused: {}", role, ec.message()));
  if (ctx.use_private_key(asio::buffer(o.key_pem), asio::ssl::context::pem, ec); ec)
    return InvalidArgument(
        fmt::format("peer transport TLS ({}): private key refused: {}", role, ec.message()));
  if (o.trusted_ca_pem.empty()) {
    ctx.set_default_verify_paths(ec);
  } else {
    ctx.add_certificate_authority(asio::buffer(o.trusted_ca_pem), ec);
  }
  if (ec)
    return InvalidArgument(
        fmt::format("peer transport TLS ({}): trusted CAs refused: {}", role, ec.message()));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<PeerTlsContexts>> PeerTlsContexts::Create(const PeerTlsOptions& options) {
  if (options.require_client_cert && options.trusted_ca_pem.empty())
    return InvalidArgument(
        "peer transport TLS: require_client_cert needs trusted_ca_pem (the CAs client "
        "certificates must chain to)");
  std::unique_ptr<PeerTlsContexts> contexts(new PeerTlsContexts());
  TRI_RETURN_IF_ERROR(Configure(contexts->dial_, options, "dial"));
  TRI_RETURN_IF_ERROR(Configure(contexts->accept_, options, "accept"));
  asio::error_code ec;
  contexts->accept_.set_verify_mode(
      options.require_client_cert ? asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert
                                  : asio::ssl::verify_none,
      ec);
  if (ec) return InvalidArgument("peer transport TLS: " + ec.message());
  return contexts;
}

}  // namespace tri::net
