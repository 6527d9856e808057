#include "client/endpoints.h"

#include <gtest/gtest.h>

namespace tri::client {
namespace {

TEST(ParseEndpoints, AcceptsHostPortAndHttpUrlsCommaSeparated) {
  auto eps = ParseEndpoints("127.0.0.1:2379,http://localhost:22379/,http://[::1]:3");
  ASSERT_TRUE(eps.ok()) << eps.status().ToString();
  EXPECT_EQ(*eps, (std::vector<std::string>{"127.0.0.1:2379", "localhost:22379", "[::1]:3"}));
}

TEST(ParseEndpoints, HttpsEndpointsKeepTheirSchemeForTls) {
  auto eps = ParseEndpoints("https://127.0.0.1:2379/,a:1");
  ASSERT_TRUE(eps.ok()) << eps.status().ToString();
  EXPECT_EQ(*eps, (std::vector<std::string>{"https://127.0.0.1:2379", "a:1"}));
}

TEST(ParseEndpoints, RefusesEachBadItemNamingIt) {
  const struct {
    const char* csv;
    const char* expected;
  } cases[] = {
      {"", "empty endpoint"},
      {"a:1,,b:2", "empty endpoint"},
      {"https://a", "expected host:port"},
      {"https://http://a:1", "unknown scheme"},
      {"unix://x:1", "unknown scheme"},
      {"a:1/v3", "a path is not allowed"},
      {"localhost", "expected host:port"},
      {"a:0", "port must be"},
      {"a:65536", "port must be"},
      {"a:x1", "port must be"},
  };
  for (const auto& c : cases) {
    auto eps = ParseEndpoints(c.csv);
    ASSERT_FALSE(eps.ok()) << c.csv;
    EXPECT_EQ(eps.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(eps.status().message().find(c.expected), std::string::npos)
        << c.csv << ": " << eps.status().message();
  }
}

TEST(ParseEndpoints, RefusesMoreThanTheBound) {
  std::string csv;
  for (std::size_t i = 0; i <= kMaxEndpoints; ++i)
    csv += (i ? "," : "") + std::string("h:1");
  EXPECT_FALSE(ParseEndpoints(csv).ok());
}

}  // namespace
}  // namespace tri::client
