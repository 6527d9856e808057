// `tri dev`: a one-member server for trying Trinity in a minute (Temporal's
// `server start-dev` is the model). Every listener is on 127.0.0.1 — the usual
// port when it is free, else one the OS picks — the data directory is a fresh
// temporary one, removed on exit. Runs until Ctrl-C (or SIGTERM).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "server/config.h"
#include "server/node.h"

namespace tri::cli {
namespace {

// Binds 127.0.0.1:`port` (0: any) for a moment; returns the port bound, 0 if none.
std::uint16_t ProbePort(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  const int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof(addr);
  std::uint16_t bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    bound = ntohs(addr.sin_port);
  ::close(fd);
  return bound;
}

// The usual port when it is free, else one the OS hands out (and that no
// earlier pick of this run took).
std::uint16_t PickPort(std::uint16_t usual, const std::vector<std::uint16_t>& taken) {
  const auto free = [&](std::uint16_t p) {
    return p != 0 && std::find(taken.begin(), taken.end(), p) == taken.end();
  };
  if (free(ProbePort(usual))) return usual;
  for (int i = 0; i < 100; ++i) {
    const std::uint16_t p = ProbePort(0);
    if (free(p)) return p;
  }
  ExitWithError(1, "tri dev: no free port on 127.0.0.1");
}

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tri-dev-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    ExitWithError(1, "tri dev: cannot create a temporary directory from " + pattern);
  return pattern;
}

void RunDev() {
  std::vector<std::uint16_t> taken;
  for (std::uint16_t usual : {2379, 2380, 2381, 8080})
    taken.push_back(PickPort(usual, taken));
  const std::string client = "http://127.0.0.1:" + std::to_string(taken[0]);
  const std::string peer = "http://127.0.0.1:" + std::to_string(taken[1]);
  const std::string metrics = "http://127.0.0.1:" + std::to_string(taken[2]);
  const std::string http = "http://127.0.0.1:" + std::to_string(taken[3]);

  const std::string data_dir = MakeTempDir();
  server::ServerConfig config;
  config.name = "dev";
  config.data_dir = data_dir;
  config.listen_client_urls = client;
  config.advertise_client_urls = client;
  config.listen_peer_urls = peer;
  config.initial_advertise_peer_urls = peer;
  config.listen_metrics_urls = metrics;
  config.listen_http_urls = http;
  const auto remove_data = [&data_dir] {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  };
  auto resolved = server::ResolveConfig(config);
  if (!resolved.ok()) {
    remove_data();
    ExitWithError(1, "tri dev: " + resolved.status().message());
  }

  // Signals are taken by one thread with sigwait, as `tri server` does. A shell
  // starts background jobs with SIGINT ignored, and sigwait never sees an ignored
  // signal: take it back so `kill -INT` stops `tri dev &` too.
  std::signal(SIGINT, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The node logs warnings and errors only: the banner below is what matters here.
  if (spdlog::get_level() < spdlog::level::warn) spdlog::set_level(spdlog::level::warn);
  auto node = server::Node::Start(*resolved);
  if (!node.ok()) {
    remove_data();
    ExitWithError(1, "tri dev: " + node.status().message());
  }
  // A one-member cluster elects itself within an election timeout.
  for (int i = 0; i < 200 && (*node)->status().leader == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  const std::string endpoint = "127.0.0.1:" + std::to_string(taken[0]);
  std::printf(
      "Trinity dev server: one member, data in %s (removed on exit)\n"
      "  gRPC, sagas and etcd API:  %s\n"
      "  HTTP/JSON saga API:        %s/v1/sagas\n"
      "  metrics and health:        %s/metrics  %s/health\n"
      "Try it:\n"
      "  tri saga start examples/diamond.yaml --wait --endpoints %s\n"
      "  tri saga list --endpoints %s\n"
      "  curl -s %s/v1/sagas\n"
      "Stop with Ctrl-C.\n",
      data_dir.c_str(), endpoint.c_str(), http.c_str(), metrics.c_str(), metrics.c_str(),
      endpoint.c_str(), endpoint.c_str(), http.c_str());
  std::fflush(stdout);

  std::thread watcher([&signals, n = node->get()] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig != 0) n->Shutdown();
  });
  const Status reason = (*node)->Wait();
  pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher if no signal came
  watcher.join();
  node->reset();
  remove_data();
  std::printf("stopped; removed %s\n", data_dir.c_str());
  if (!reason.ok()) ExitWithError(1, "tri dev: " + reason.message());
}

void InstallDevCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "dev",
      "run a one-member server on 127.0.0.1 in a temporary data directory, for trying "
      "Trinity (removed on Ctrl-C)");
  cmd->callback([] { RunDev(); });
}

const CommandRegistration kDevCommand("dev", &InstallDevCommand);

}  // namespace
}  // namespace tri::cli
