// etcdctl's TLS rules for the clients (client/client_tls.h), without a server.
#include "client/client_tls.h"

#include <gtest/gtest.h>

#include <fstream>

namespace tri::client {
namespace {

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ClientTls, NoFlagsMeansPlainForBareEndpointsAndTlsForHttpsOnes) {
  auto tls = LoadClientTls("", "", "", false);
  ASSERT_TRUE(tls.ok());
  EXPECT_FALSE(tls->for_plain_endpoints);
  const DialTarget bare = ResolveDialTarget("127.0.0.1:2379", *tls);
  EXPECT_EQ(bare.target, "127.0.0.1:2379");
  EXPECT_FALSE(bare.tls);
  const DialTarget https = ResolveDialTarget("https://127.0.0.1:2379", *tls);
  EXPECT_EQ(https.target, "127.0.0.1:2379");
  EXPECT_TRUE(https.tls);
}

TEST(ClientTls, AnyTlsFileMakesBareEndpointsTls) {
  const std::string ca = WriteFile("client_tls_ca.pem", "-----BEGIN CERTIFICATE-----\nx\n");
  auto tls = LoadClientTls(ca, "", "", false);
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  EXPECT_TRUE(tls->for_plain_endpoints);
  EXPECT_EQ(tls->ca_pem, "-----BEGIN CERTIFICATE-----\nx\n");
  EXPECT_TRUE(ResolveDialTarget("a:1", *tls).tls);
}

TEST(ClientTls, ErrorsNameTheFlagAndTheFile) {
  auto tls = LoadClientTls("/nonexistent/ca.pem", "", "", false);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find("--cacert: cannot read /nonexistent/ca.pem"),
            std::string::npos)
      << tls.status().message();
  const std::string not_pem = WriteFile("client_tls_not_pem.txt", "hello");
  tls = LoadClientTls("", not_pem, not_pem, false);
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find("--cert: " + not_pem + " is not a PEM file"),
            std::string::npos)
      << tls.status().message();
  EXPECT_EQ(LoadClientTls("", "c.pem", "", false).status().message(),
            "--key: required with --cert");
  EXPECT_EQ(LoadClientTls("", "", "k.pem", false).status().message(),
            "--cert: required with --key");
}

}  // namespace
}  // namespace tri::client
