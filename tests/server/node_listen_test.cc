// A node refuses to start on an HTTP port that is already in use (metrics and
// the saga HTTP API alike), naming the flag, instead of sharing the port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "server/config.h"
#include "server/node.h"

namespace tri::server {
namespace {

// A listening socket on a free loopback port, closed at the end.
class BusyPort {
 public:
  BusyPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

Result<std::unique_ptr<Node>> StartWith(const std::string& metrics, const std::string& http,
                                        const std::string& dir) {
  ServerConfig c;
  c.name = "s1";
  c.data_dir = dir;
  c.listen_client_urls = "http://127.0.0.1:0";
  c.advertise_client_urls = "http://127.0.0.1:1";
  c.listen_peer_urls = "http://127.0.0.1:0";
  c.initial_advertise_peer_urls = "http://127.0.0.1:1";
  c.listen_metrics_urls = metrics;
  c.listen_http_urls = http;
  auto resolved = ResolveConfig(c);
  if (!resolved.ok()) return resolved.status();
  return Node::Start(*resolved);
}

TEST(NodeListen, ABusyMetricsOrHttpPortIsAnErrorNamingTheFlag) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tri-node-listen-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  BusyPort busy;
  auto metrics = StartWith(busy.url(), "", dir + "/a");
  ASSERT_FALSE(metrics.ok());
  EXPECT_NE(metrics.status().message().find("--listen-metrics-urls"), std::string::npos)
      << metrics.status().ToString();
  auto http = StartWith("", busy.url(), dir + "/b");
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.status().message().find("--listen-http-urls"), std::string::npos)
      << http.status().ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tri::server
