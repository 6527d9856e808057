// The client-facing listeners with TLS, over the fake saga backend: gRPC with
// GrpcServerCredentials reached by the C++ client (client_tls.h), and the HTTP/JSON
// saga API on an https:// URL. With client-certificate auth, a client without a
// certificate from the trusted CA is refused.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "client/saga_client.h"
#include "net/test_certs.h"
#include "server/fake_saga_backend.h"
#include "server/saga_grpc_service.h"
#include "server/saga_http.h"
#include "server/tls_config.h"
#include "server/tls_context.h"

namespace tri::server {
namespace {

class TlsListenersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok());
    for (const char* ca : {"ca", "other-ca"})
      ASSERT_TRUE(certs_.MakeCa(ca)) << certs_.Read("openssl.log");
    for (const char* name : {"server", "client"})
      ASSERT_TRUE(certs_.Issue(name, "ca")) << certs_.Read("openssl.log");
    ASSERT_TRUE(certs_.Issue("stranger", "other-ca")) << certs_.Read("openssl.log");
    auto material = LoadTlsMaterial(
        {certs_.Path("server.crt"), certs_.Path("server.key"), certs_.Path("ca.crt"), true}, "");
    ASSERT_TRUE(material.ok()) << material.status().ToString();
    tls_ = *material;
    SagaView v;
    v.id = "o-1";
    v.definition_name = "order";
    v.state = "running";
    backend_.PutSaga(v);
  }

  // A client of the gRPC listener with etcdctl-style TLS files ("" for none).
  Result<std::unique_ptr<client::SagaClient>> Dial(const std::string& endpoint,
                                                   const std::string& cacert,
                                                   const std::string& cert, bool skip = false) {
    auto tls = client::LoadClientTls(cacert.empty() ? "" : certs_.Path(cacert),
                                     cert.empty() ? "" : certs_.Path(cert + ".crt"),
                                     cert.empty() ? "" : certs_.Path(cert + ".key"), skip);
    if (!tls.ok()) return tls.status();
    client::ClientOptions options;
    options.endpoints = {endpoint};
    options.tls = *tls;
    options.dial_timeout = std::chrono::milliseconds(1500);
    return client::SagaClient::Connect(options);
  }

  tri::testing::TestCerts certs_;
  TlsMaterial tls_;
  testing::FakeSagaBackend backend_;
};

TEST_F(TlsListenersTest, GrpcOverTlsServesClientsWithATrustedCertificateOnly) {
  SagaGrpcService service(backend_, SagaServiceOptions{});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", GrpcServerCredentials(tls_), &port);
  service.Register(builder);
  auto server = builder.BuildAndStart();
  ASSERT_TRUE(server != nullptr);
  const std::string https = "https://127.0.0.1:" + std::to_string(port);
  const std::string bare = "127.0.0.1:" + std::to_string(port);

  auto trusted = Dial(https, "ca.crt", "client");
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  auto got = (*trusted)->Get("o-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id(), "o-1");
  // A bare host:port is dialled with TLS once a TLS flag is given (etcdctl's rule).
  EXPECT_TRUE(Dial(bare, "ca.crt", "client").ok());
  // Encrypted without verifying the server (--insecure-skip-tls-verify).
  EXPECT_TRUE(Dial(https, "", "client", /*skip=*/true).ok());

  EXPECT_EQ(Dial(https, "ca.crt", "").status().code(), StatusCode::kDeadlineExceeded)
      << "served a client without a certificate";
  EXPECT_EQ(Dial(https, "ca.crt", "stranger").status().code(), StatusCode::kDeadlineExceeded)
      << "served a client whose certificate is from another CA";
  EXPECT_EQ(Dial(https, "other-ca.crt", "client").status().code(), StatusCode::kDeadlineExceeded)
      << "the client accepted a server certificate it cannot verify";
  client::ClientOptions plain;
  plain.endpoints = {bare};
  plain.dial_timeout = std::chrono::milliseconds(1500);
  EXPECT_FALSE(client::SagaClient::Connect(plain).ok()) << "a plain client was served";
  server->Shutdown(std::chrono::system_clock::now());
}

TEST_F(TlsListenersTest, TheHttpSagaApiOnAnHttpsUrlRequiresATrustedClientCertificate) {
  auto server =
      SagaHttpServer::Start(backend_, {Url{"https", "127.0.0.1", 0}}, SagaHttpOptions{.tls = tls_});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->ports()[0];

  httplib::SSLClient with_cert("127.0.0.1", port, certs_.Path("client.crt"),
                               certs_.Path("client.key"));
  with_cert.set_ca_cert_path(certs_.Path("ca.crt").c_str());
  with_cert.enable_server_certificate_verification(true);
  auto r = with_cert.Get("/v1/sagas/o-1");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;

  httplib::SSLClient without_cert("127.0.0.1", port);
  without_cert.set_ca_cert_path(certs_.Path("ca.crt").c_str());
  without_cert.enable_server_certificate_verification(true);
  EXPECT_FALSE(without_cert.Get("/v1/sagas/o-1")) << "served a client without a certificate";

  httplib::SSLClient stranger("127.0.0.1", port, certs_.Path("stranger.crt"),
                              certs_.Path("stranger.key"));
  stranger.set_ca_cert_path(certs_.Path("ca.crt").c_str());
  EXPECT_FALSE(stranger.Get("/v1/sagas/o-1")) << "served a certificate from another CA";
  (*server)->Stop();
}

TEST_F(TlsListenersTest, AnHttpsUrlWithoutCertificatesIsRefused) {
  auto server = SagaHttpServer::Start(backend_, {Url{"https", "127.0.0.1", 0}});
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("needs --cert-file and --key-file"), std::string::npos)
      << server.status().message();
}

}  // namespace
}  // namespace tri::server
