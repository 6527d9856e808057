#pragma once

// PeerStream: one peer connection's byte stream, plain TCP or TLS over it
// (asio::ssl), behind one interface so that the frame layer above does not know
// which. Private to the transport (it includes Asio); a TLS stream serves one
// connection only, so a redial makes a new PeerStream.

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <memory>
#include <string>
#include <utility>

#include "net/peer_transport.h"

namespace tri::net {

// The OpenSSL contexts of a transport with TLS: one for dialling (verifies the
// server's certificate and the host dialled, presents ours), one for accepting
// (presents ours; verifies the client's when required).
class PeerTlsContexts {
 public:
  // Loads the certificates of `options`; the error says which one was refused.
  static Result<std::unique_ptr<PeerTlsContexts>> Create(const PeerTlsOptions& options);

  asio::ssl::context& dial() { return dial_; }
  asio::ssl::context& accept() { return accept_; }

 private:
  PeerTlsContexts()
      : dial_(asio::ssl::context::tls_client), accept_(asio::ssl::context::tls_server) {}
  asio::ssl::context dial_;
  asio::ssl::context accept_;
};

class PeerStream {
 public:
  using tcp = asio::ip::tcp;

  // A stream to dial with; TLS when `tls` is not null, verifying that the server's
  // certificate names `host`.
  PeerStream(asio::io_context& io, PeerTlsContexts* tls, const std::string& host) {
    if (tls == nullptr) {
      plain_ = std::make_unique<tcp::socket>(io);
      return;
    }
    ssl_ = std::make_unique<asio::ssl::stream<tcp::socket>>(io, tls->dial());
    ssl_->set_verify_mode(asio::ssl::verify_peer);
    ssl_->set_verify_callback(asio::ssl::host_name_verification(host));
  }

  // An accepted connection; TLS when `tls` is not null.
  PeerStream(tcp::socket socket, PeerTlsContexts* tls) {
    if (tls == nullptr) {
      plain_ = std::make_unique<tcp::socket>(std::move(socket));
      return;
    }
    ssl_ = std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), tls->accept());
  }

  bool tls() const { return ssl_ != nullptr; }
  tcp::socket& socket() { return ssl_ ? ssl_->next_layer() : *plain_; }

  // The TLS handshake (dialling: as the client); completes at once on a plain stream.
  template <typename Handler>
  void AsyncHandshake(bool dialling, Handler&& handler) {
    if (!ssl_) {
      asio::post(socket().get_executor(),
                 [h = std::forward<Handler>(handler)]() mutable { h(asio::error_code()); });
      return;
    }
    ssl_->async_handshake(
        dialling ? asio::ssl::stream_base::client : asio::ssl::stream_base::server,
        std::forward<Handler>(handler));
  }

  template <typename Buffers, typename Handler>
  void AsyncReadSome(const Buffers& buffers, Handler&& handler) {
    if (ssl_) {
      ssl_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <typename Buffers, typename Handler>
  void AsyncWrite(const Buffers& buffers, Handler&& handler) {
    if (ssl_) {
      asio::async_write(*ssl_, buffers, std::forward<Handler>(handler));
    } else {
      asio::async_write(*plain_, buffers, std::forward<Handler>(handler));
    }
  }

  // Closes the TCP connection (no TLS close_notify: the frames have their own end);
  // outstanding operations complete with an error.
  void Close() {
    asio::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  std::unique_ptr<tcp::socket> plain_;
  std::unique_ptr<asio::ssl::stream<tcp::socket>> ssl_;
};

}  // namespace tri::net
