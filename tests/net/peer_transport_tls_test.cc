// PeerTransport with TLS: mutual TLS between peers, and the connections it refuses
// (no certificate, a certificate from another CA, a certificate for another host, a
// peer without TLS). Certificates are made at test time (test_certs.h).
#include <gtest/gtest.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "net/frame.h"
#include "net/handshake.h"
#include "net/peer_transport.h"
#include "net/test_certs.h"

namespace tri::net {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kCluster = 0xc1;

// Polls `done` for up to 20 s; the bound only stops a broken test from hanging.
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class TlsNode {
 public:
  static std::unique_ptr<TlsNode> Start(raft::NodeId id, std::optional<PeerTlsOptions> tls,
                                        const std::string& host = "127.0.0.1",
                                        std::uint16_t port = 0) {
    auto node = std::make_unique<TlsNode>();
    PeerTransportOptions options;
    options.cluster_id = kCluster;
    options.self = id;
    options.listen_host = host;
    options.listen_port = port;
    options.reconnect_backoff_min = 5ms;
    options.reconnect_backoff_max = 50ms;
    options.handshake_timeout = 2s;
    options.tls = std::move(tls);
    TlsNode* raw = node.get();
    auto transport = PeerTransport::Start(options,
                                          [raw](raft::NodeId, std::vector<raft::Message> messages) {
                                            std::lock_guard lock(raw->mu_);
                                            for (auto& m : messages)
                                              raw->received_.push_back(m.commit);
                                          },
                                          {});
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    if (!transport.ok()) return nullptr;
    node->transport = std::move(transport).value();
    return node;
  }
  ~TlsNode() { transport.reset(); }

  std::vector<std::uint64_t> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  bool Connected(raft::NodeId peer) const {
    auto m = transport->metrics();
    return m.peers.count(peer) != 0 && m.peers.at(peer).connected;
  }
  std::uint64_t rejected() const { return transport->metrics().inbound_rejected; }
  std::uint16_t port() const { return transport->listen_port(); }

  std::unique_ptr<PeerTransport> transport;

 private:
  mutable std::mutex mu_;
  std::vector<std::uint64_t> received_;
};

void Send(TlsNode& node, raft::NodeId from, raft::NodeId to, std::uint64_t count) {
  std::vector<raft::Message> batch;
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    raft::Message m;
    m.type = raft::MessageType::kHeartbeat;
    m.from = from;
    m.to = to;
    m.term = 1;
    m.commit = seq;
    batch.push_back(m);
  }
  node.transport->Send(std::move(batch));
}

class PeerTransportTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok());
    for (const char* ca : {"ca", "other-ca"})
      ASSERT_TRUE(certs_.MakeCa(ca)) << certs_.Read("openssl.log");
    for (const char* name : {"a", "b"})
      ASSERT_TRUE(certs_.Issue(name, "ca")) << certs_.Read("openssl.log");
    ASSERT_TRUE(certs_.Issue("stranger", "other-ca")) << certs_.Read("openssl.log");
  }

  // `name`'s certificate, trusting `trusted_ca`.
  PeerTlsOptions Tls(const std::string& name, bool require_client_cert = true,
                     const std::string& trusted_ca = "ca") const {
    return {certs_.Read(name + ".crt"), certs_.Read(name + ".key"),
            certs_.Read(trusted_ca + ".crt"), require_client_cert};
  }

  testing::TestCerts certs_;
};

TEST_F(PeerTransportTls, MutualTlsPeersExchangeMessagesInOrderBothWays) {
  auto a = TlsNode::Start(1, Tls("a"));
  auto b = TlsNode::Start(2, Tls("b"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", b->port()).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2) && b->Connected(1); }));
  Send(*a, 1, 2, 300);
  Send(*b, 2, 1, 100);
  ASSERT_TRUE(WaitFor([&] { return b->received().size() == 300 && a->received().size() == 100; }));
  for (std::uint64_t i = 0; i < 300; ++i)
    ASSERT_EQ(b->received()[i], i + 1);
  EXPECT_EQ(a->rejected(), 0u);
  EXPECT_EQ(b->rejected(), 0u);
}

TEST_F(PeerTransportTls, ATlsConnectionIsReestablishedAfterThePeerRestarts) {
  auto a = TlsNode::Start(1, Tls("a"));
  auto b = TlsNode::Start(2, Tls("b"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", b->port()).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2) && b->Connected(1); }));
  const std::uint16_t b_port = b->port();
  b.reset();
  ASSERT_TRUE(WaitFor([&] { return !a->Connected(2); }));
  b = TlsNode::Start(2, Tls("b"), "127.0.0.1", b_port);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2) && b->Connected(1); }));
  Send(*a, 1, 2, 50);
  ASSERT_TRUE(WaitFor([&] { return b->received().size() == 50; }));
  EXPECT_EQ(a->transport->metrics().peers.at(2).connects, 2u);
}

TEST_F(PeerTransportTls, CertificateFromAnotherCaIsRefusedInBothDirections) {
  auto a = TlsNode::Start(1, Tls("a"));
  // Trusts a's CA, so only a's check of its certificate can refuse it.
  auto stranger = TlsNode::Start(3, Tls("stranger", true, "ca"));
  ASSERT_TRUE(a && stranger);
  ASSERT_TRUE(a->transport->AddPeer(3, "127.0.0.1", stranger->port()).ok());
  ASSERT_TRUE(stranger->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  // a refuses the stranger's connections; the stranger's server certificate fails
  // a's verification when a dials (stranger counts a's aborted handshakes).
  ASSERT_TRUE(WaitFor([&] { return a->rejected() >= 2 && stranger->rejected() >= 2; }));
  Send(*stranger, 3, 1, 10);
  Send(*a, 1, 3, 10);
  EXPECT_FALSE(a->Connected(3));
  EXPECT_FALSE(stranger->Connected(1));
  EXPECT_TRUE(a->received().empty());
  EXPECT_TRUE(stranger->received().empty());
}

TEST_F(PeerTransportTls, APeerWithoutTlsIsRefused) {
  auto a = TlsNode::Start(1, Tls("a"));
  auto plain = TlsNode::Start(2, std::nullopt);
  ASSERT_TRUE(a && plain);
  ASSERT_TRUE(plain->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->rejected() >= 2; }));
  Send(*plain, 2, 1, 10);
  EXPECT_FALSE(plain->Connected(1));
  EXPECT_TRUE(a->received().empty());
}

TEST_F(PeerTransportTls, AServerCertificateForAnotherHostIsRefused) {
  // b listens on 127.0.0.2 with a certificate for 127.0.0.1 and localhost only.
  auto b = TlsNode::Start(2, Tls("b"), "127.0.0.2");
  auto a = TlsNode::Start(1, Tls("a"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.2", b->port()).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return b->rejected() >= 2; }));  // a aborts each handshake
  EXPECT_FALSE(a->Connected(2));
  // The other direction verifies: a's certificate names 127.0.0.1.
  ASSERT_TRUE(WaitFor([&] { return b->Connected(1); }));
}

// A TLS client that presents no certificate completes its side of a TLS 1.3
// handshake, but the server refuses it: nothing it sends is delivered.
TEST_F(PeerTransportTls, AClientWithoutACertificateIsRefusedWhenCertificatesAreRequired) {
  auto a = TlsNode::Start(1, Tls("a"));
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", 1).ok());  // 2 is a known peer
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  const std::string ca = certs_.Read("ca.crt");
  ctx.add_certificate_authority(asio::buffer(ca));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
  asio::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), a->port()}, ec);
  ASSERT_FALSE(ec) << ec.message();
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (!ec) {
    std::string hello;
    AppendFrame(hello, FrameType::kHello, EncodeHello({kProtocolVersion, kCluster, 2, 1}));
    asio::write(stream, asio::buffer(hello), ec);
    char byte = 0;
    stream.read_some(asio::buffer(&byte, 1), ec);
  }
  EXPECT_TRUE(ec) << "the server accepted a client without a certificate";
  ASSERT_TRUE(WaitFor([&] { return a->rejected() >= 1; }));
  EXPECT_TRUE(a->received().empty());
}

TEST_F(PeerTransportTls, WithoutClientCertAuthAnyTlsClientGetsToTheHelloCheck) {
  auto a = TlsNode::Start(1, Tls("a", /*require_client_cert=*/false));
  auto b = TlsNode::Start(2, Tls("b"));
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->transport->AddPeer(2, "127.0.0.1", b->port()).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, "127.0.0.1", a->port()).ok());
  ASSERT_TRUE(WaitFor([&] { return a->Connected(2) && b->Connected(1); }));
}

TEST_F(PeerTransportTls, StartRefusesCertificatesOpenSslCannotLoad) {
  PeerTransportOptions options;
  options.self = 1;
  options.tls = Tls("a");
  options.tls->key_pem = "not a key";
  auto t = PeerTransport::Start(options, {}, {});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("private key refused"), std::string::npos)
      << t.status().message();
  options.tls = Tls("a");
  options.tls->trusted_ca_pem.clear();
  t = PeerTransport::Start(options, {}, {});
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("require_client_cert needs trusted_ca_pem"),
            std::string::npos)
      << t.status().message();
}

}  // namespace
}  // namespace tri::net
