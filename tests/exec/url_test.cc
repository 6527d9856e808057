// The http action's URL parser: what it accepts and what it names as wrong.
#include "exec/url.h"

#include <gtest/gtest.h>

namespace tri::exec {
namespace {

HttpUrl Parsed(const std::string& url) {
  auto parsed = ParseHttpUrl(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : HttpUrl{};
}

std::string Error(const std::string& url) {
  auto parsed = ParseHttpUrl(url);
  EXPECT_FALSE(parsed.ok()) << url << " parsed";
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(HttpUrl, SchemeHostPortAndTarget) {
  HttpUrl url = Parsed("http://Example.COM:8080/a/b?x=1&y=2#frag");
  EXPECT_FALSE(url.https);
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.target, "/a/b?x=1&y=2");
  EXPECT_EQ(url.host_header, "example.com:8080");
}

TEST(HttpUrl, DefaultPortsAndPath) {
  HttpUrl plain = Parsed("http://h");
  EXPECT_EQ(plain.port, 80);
  EXPECT_EQ(plain.target, "/");
  EXPECT_EQ(plain.host_header, "h");
  HttpUrl tls = Parsed("HTTPS://h?q=1");
  EXPECT_TRUE(tls.https);
  EXPECT_EQ(tls.port, 443);
  EXPECT_EQ(tls.target, "/?q=1");
}

TEST(HttpUrl, BracketedIpv6Host) {
  HttpUrl url = Parsed("http://[::1]:9000/x");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 9000);
  EXPECT_EQ(url.host_header, "[::1]:9000");
}

TEST(HttpUrl, NonAsciiBytesArePercentEncoded) {
  EXPECT_EQ(Parsed("http://h/caf\xC3\xA9").target, "/caf%C3%A9");
}

TEST(HttpUrl, RejectsWhatCannotBeSent) {
  EXPECT_NE(Error("example.com/x").find("scheme://host"), std::string::npos);
  EXPECT_NE(Error("ftp://h/").find("unsupported scheme 'ftp'"), std::string::npos);
  EXPECT_NE(Error("http:///path").find("empty host"), std::string::npos);
  EXPECT_NE(Error("http://h:/").find("empty port"), std::string::npos);
  EXPECT_NE(Error("http://h:0/").find("out of range"), std::string::npos);
  EXPECT_NE(Error("http://h:65536/").find("out of range"), std::string::npos);
  EXPECT_NE(Error("http://h:80a/").find("not a number"), std::string::npos);
  EXPECT_NE(Error("http://user:pw@h/").find("credentials"), std::string::npos);
  EXPECT_NE(Error("http://h/a b").find("space"), std::string::npos);
  EXPECT_NE(Error("http://h o/").find("invalid character"), std::string::npos);
  EXPECT_NE(Error("http://[::1/").find("unterminated"), std::string::npos);
  EXPECT_NE(Error("http://[host]/").find("IPv6"), std::string::npos);
}

TEST(RedactUrl, HidesUserInfoQueryValuesAndFragment) {
  EXPECT_EQ(RedactUrl("https://user:pa55@api.example.com:8443/pay?token=s3cret&page=2#access=x"),
            "https://***@api.example.com:8443/pay?token=***&page=***#***");
  EXPECT_EQ(RedactUrl("http://h/p?justasecret"), "http://h/p?***");
  EXPECT_EQ(RedactUrl("http://h/p?a=1&&b"), "http://h/p?a=***&&***");
}

TEST(RedactUrl, KeepsUrlsWithoutCredentialsAsTheyAre) {
  for (const char* url : {"http://127.0.0.1:8080/a/b", "https://[::1]/", "not a url", "",
                          "http://host/path@with-at"}) {
    EXPECT_EQ(RedactUrl(url), url);
  }
}

TEST(RedactUrl, HidesSecretsOfTextThatIsNotAValidUrl) {
  EXPECT_EQ(RedactUrl("ftp://u:p@h/?k=v"), "ftp://***@h/?k=***");
  EXPECT_EQ(RedactUrl("/relative?key=v"), "/relative?key=***");
  EXPECT_EQ(RedactUrl("/cb?next=http://u:p@h/"), "/cb?next=***");
  EXPECT_EQ(RedactUrl("http://h/cb?next=http://u:p@h/"), "http://h/cb?next=***");
}

TEST(HttpUrl, ErrorsNeverQuoteCredentials) {
  const std::string error = Error("http://admin:hunter2@host/x?api_key=k3y");
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_EQ(error.find("k3y"), std::string::npos) << error;
  EXPECT_NE(error.find("http://***@host/x?api_key=***"), std::string::npos) << error;
}

TEST(RedactHeader, CredentialHeadersAreHiddenOthersKept) {
  EXPECT_TRUE(IsCredentialHeader("authorization"));
  EXPECT_TRUE(IsCredentialHeader("Proxy-Authorization"));
  EXPECT_TRUE(IsCredentialHeader("COOKIE"));
  EXPECT_TRUE(IsCredentialHeader("Set-Cookie"));
  EXPECT_FALSE(IsCredentialHeader("Content-Type"));
  EXPECT_EQ(RedactHeaderValue("Authorization", "Bearer abc.def"), "Bearer ***");
  EXPECT_EQ(RedactHeaderValue("Proxy-Authorization", "opaque"), "***");
  EXPECT_EQ(RedactHeaderValue("Cookie", "session=abc"), "***");
  EXPECT_EQ(RedactHeaderValue("X-Trace", "t-1"), "t-1");
}

}  // namespace
}  // namespace tri::exec
