// TLS settings of `tri server`: etcd's flags and config-file sections, the checks
// with errors that name the flag and the file, and etcd's leniency for http:// URLs.
#include <gtest/gtest.h>

#include <fstream>

#include "net/test_certs.h"
#include "server/config.h"

namespace tri::server {
namespace {

class TlsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.ok());
    ASSERT_TRUE(certs_.MakeCa("ca")) << certs_.Read("openssl.log");
    ASSERT_TRUE(certs_.Issue("server", "ca")) << certs_.Read("openssl.log");
    ASSERT_TRUE(certs_.Issue("other", "ca")) << certs_.Read("openssl.log");
  }

  TlsFiles Files(bool client_cert_auth = false) const {
    return {certs_.Path("server.crt"), certs_.Path("server.key"), certs_.Path("ca.crt"),
            client_cert_auth};
  }

  static ServerConfig HttpsPeers() {
    ServerConfig c;
    c.listen_peer_urls = "https://127.0.0.1:2380";
    c.initial_advertise_peer_urls = "https://127.0.0.1:2380";
    return c;
  }

  static void ExpectError(const ServerConfig& c, const std::string& part1,
                          const std::string& part2 = "") {
    auto r = ResolveConfig(c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(part1), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(part2), std::string::npos) << r.status().message();
  }

  testing::TestCerts certs_;
};

TEST_F(TlsConfigTest, HttpsClientUrlWithoutCertificateAndKeyIsRefusedNamingBoth) {
  ServerConfig c;
  c.listen_client_urls = "https://127.0.0.1:2379";
  ExpectError(c, "--listen-client-urls: https://127.0.0.1:2379", "--cert-file, --key-file");
  c = ServerConfig{};
  c.listen_http_urls = "https://127.0.0.1:8080";
  ExpectError(c, "--listen-http-urls: https://127.0.0.1:8080", "--cert-file");
}

TEST_F(TlsConfigTest, HttpsClientUrlLoadsTheClientMaterial) {
  ServerConfig c;
  c.listen_client_urls = "https://127.0.0.1:2379,http://127.0.0.1:2479";
  c.advertise_client_urls = "https://127.0.0.1:2379";
  c.client_tls = Files(/*client_cert_auth=*/true);
  auto r = ResolveConfig(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->client_tls.has_value());
  EXPECT_EQ(r->client_tls->cert_pem, certs_.Read("server.crt"));
  EXPECT_EQ(r->client_tls->key_pem, certs_.Read("server.key"));
  EXPECT_EQ(r->client_tls->trusted_ca_pem, certs_.Read("ca.crt"));
  EXPECT_TRUE(r->client_tls->client_cert_auth);
  EXPECT_EQ(r->listen_client_urls[0].scheme, "https");
  EXPECT_FALSE(r->peer_tls.has_value());
  EXPECT_TRUE(r->warnings.empty());
}

TEST_F(TlsConfigTest, UnreadableFilesAreNamedWithTheirFlag) {
  ServerConfig c;
  c.listen_client_urls = "https://127.0.0.1:2379";
  c.client_tls = Files();
  c.client_tls.key_file = certs_.Path("missing.key");
  ExpectError(c, "--key-file: cannot read " + certs_.Path("missing.key"));
  c.client_tls = Files();
  c.client_tls.trusted_ca_file = certs_.Path("nope.crt");
  ExpectError(c, "--trusted-ca-file: cannot read " + certs_.Path("nope.crt"));
  c = HttpsPeers();
  c.peer_tls = Files();
  c.peer_tls.cert_file = certs_.Path("absent.crt");
  ExpectError(c, "--peer-cert-file: cannot read " + certs_.Path("absent.crt"));
}

TEST_F(TlsConfigTest, FilesThatAreNotWhatTheFlagNeedsAreRefused) {
  ServerConfig c;
  c.listen_client_urls = "https://127.0.0.1:2379";
  c.client_tls = Files();
  c.client_tls.cert_file = certs_.Path("server.key");
  ExpectError(c, "--cert-file:", "holds no PEM certificate");
  c.client_tls = Files();
  c.client_tls.key_file = certs_.Path("other.key");
  ExpectError(c, "--key-file:", "does not belong to the certificate");
  c.client_tls = Files();
  c.client_tls.key_file = certs_.Path("server.crt");
  ExpectError(c, "--key-file:", "no unencrypted PEM private key");
}

TEST_F(TlsConfigTest, CertificateAuthNeedsATrustedCaAndACertNeedsAKey) {
  ServerConfig c;
  c.listen_client_urls = "https://127.0.0.1:2379";
  c.client_tls = Files(/*client_cert_auth=*/true);
  c.client_tls.trusted_ca_file.clear();
  ExpectError(c, "--client-cert-auth: needs --trusted-ca-file");
  c.client_tls = Files();
  c.client_tls.key_file.clear();
  ExpectError(c, "--key-file: required with --cert-file");
  c = HttpsPeers();
  c.peer_tls = Files(/*client_cert_auth=*/true);
  c.peer_tls.trusted_ca_file.clear();
  ExpectError(c, "--peer-client-cert-auth: needs --peer-trusted-ca-file");
}

TEST_F(TlsConfigTest, CertificatesGivenForHttpUrlsAreIgnoredWithAWarningAsEtcdDoes) {
  ServerConfig c;
  c.client_tls = Files(/*client_cert_auth=*/true);
  c.peer_tls = Files(/*client_cert_auth=*/true);
  auto r = ResolveConfig(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->client_tls.has_value());
  EXPECT_FALSE(r->peer_tls.has_value());
  ASSERT_EQ(r->warnings.size(), 4u);
  EXPECT_NE(r->warnings[0].find("--cert-file/--key-file are given"), std::string::npos);
  EXPECT_NE(r->warnings[3].find("--peer-client-cert-auth"), std::string::npos);
}

TEST_F(TlsConfigTest, PeerUrlsMustBeAllHttpsOrAllHttp) {
  ServerConfig c = HttpsPeers();
  c.peer_tls = Files();
  c.initial_advertise_peer_urls = "http://127.0.0.1:2380";
  c.initial_cluster = "default=http://127.0.0.1:2380";
  ExpectError(c, "must be all http:// or all https://");
  c = HttpsPeers();
  c.peer_tls = Files();
  c.name = "a";
  c.initial_cluster = "a=https://127.0.0.1:2380,b=http://127.0.0.1:2381";
  ExpectError(c, "--initial-cluster: http://127.0.0.1:2381 is http");
}

TEST_F(TlsConfigTest, HttpsPeersNeedAndLoadThePeerMaterial) {
  ServerConfig c = HttpsPeers();
  ExpectError(c, "--listen-peer-urls: https://127.0.0.1:2380", "--peer-cert-file, --peer-key-file");
  c.peer_tls = Files(/*client_cert_auth=*/true);
  auto r = ResolveConfig(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->peer_tls.has_value());
  EXPECT_TRUE(r->peer_tls->client_cert_auth);
  EXPECT_EQ(r->peer_tls->trusted_ca_pem, certs_.Read("ca.crt"));
  EXPECT_FALSE(r->client_tls.has_value());
}

TEST_F(TlsConfigTest, MetricsStayPlainHttp) {
  ServerConfig c;
  c.listen_metrics_urls = "https://127.0.0.1:2381";
  c.client_tls = Files();
  ExpectError(c, "--listen-metrics-urls: https://127.0.0.1:2381", "http:// only");
}

TEST_F(TlsConfigTest, ConfigFileHasEtcdsTransportSecuritySections) {
  const std::string path = certs_.Path("tri.yaml");
  {
    std::ofstream f(path);
    f << "client-transport-security:\n"
         "  cert-file: /c.crt\n  key-file: /c.key\n  client-cert-auth: true\n"
         "  trusted-ca-file: /ca.crt\n  auto-tls: false\n"
         "peer-transport-security:\n"
         "  cert-file: /p.crt\n  key-file:\n  client-cert-auth: false\n";
  }
  ServerConfig c;
  ASSERT_TRUE(LoadConfigFile(path, c).ok());
  EXPECT_EQ(c.client_tls, (TlsFiles{"/c.crt", "/c.key", "/ca.crt", true}));
  EXPECT_EQ(c.peer_tls, (TlsFiles{"/p.crt", "", "", false}));

  {
    std::ofstream f(path);
    f << "peer-transport-security:\n  crl-file: /x\n";
  }
  Status st = LoadConfigFile(path, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("\"peer-transport-security\": unknown key \"crl-file\""),
            std::string::npos)
      << st.message();
  {
    std::ofstream f(path);
    f << "client-transport-security:\n  auto-tls: true\n";
  }
  st = LoadConfigFile(path, c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("auto-tls"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace tri::server
