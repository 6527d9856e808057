#include "server/http_endpoints.h"

#include <dirent.h>
#include <fmt/format.h>
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "server/http_listen.h"
#include "server/node.h"

namespace tri::server {

std::string RenderProcessMetrics() {
  std::string out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may contain spaces) are space separated.
    const auto close = line.rfind(')');
    std::istringstream in(line.substr(close + 2));
    std::vector<std::string> f;
    std::string s;
    while (in >> s)
      f.push_back(s);
    // f[0] is field 3 (state): utime = field 14, stime = 15, rss = 24.
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      out += fmt::format(
          "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
          "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {}\n",
          cpu);
      out += fmt::format(
          "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
          "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {:.0f}\n",
          std::stod(f[21]) * page);
    }
  }
  int fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr)
      ++fds;
    closedir(d);
    fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  out += fmt::format(
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\nprocess_open_fds {}\n",
      fds);
  return out;
}

Result<std::unique_ptr<HttpEndpoints>> HttpEndpoints::Start(Node* node,
                                                            const std::vector<Url>& urls) {
  std::unique_ptr<HttpEndpoints> ep(new HttpEndpoints());
  for (const Url& url : urls) {
    auto server = std::make_unique<httplib::Server>();
    server->Get("/metrics", [node](const httplib::Request&, httplib::Response& res) {
      res.set_content(node->metrics().Render() + RenderProcessMetrics(),
                      "text/plain; version=0.0.4");
    });
    server->Get("/health", [node](const httplib::Request&, httplib::Response& res) {
      const NodeStatusView s = node->status();
      std::string reason;
      if (s.leader == 0) reason = "RAFT NO LEADER";
      if (s.nospace_alarm) reason = "ALARM NOSPACE";
      if (s.stopping) reason = "STOPPING";
      res.status = reason.empty() ? 200 : 503;
      res.set_content(fmt::format(R"({{"health":"{}","reason":"{}"}})",
                                  reason.empty() ? "true" : "false", reason),
                      "application/json");
    });
    server->Get("/livez", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server->Get("/readyz", [node](const httplib::Request&, httplib::Response& res) {
      const NodeStatusView s = node->status();
      const bool ready = s.leader != 0 && !s.stopping;
      res.status = ready ? 200 : 503;
      res.set_content(ready ? "ok\n" : "not ready: no leader\n", "text/plain");
    });
    server->Get("/version", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"etcdserver":"3.4.0+trinity.0.1.0","etcdcluster":"3.4.0"})",
                      "application/json");
    });
    TRI_RETURN_IF_ERROR(BindExclusive(*server, url, "--listen-metrics-urls").status());
    httplib::Server* raw = server.get();
    ep->threads_.emplace_back([raw] { raw->listen_after_bind(); });
    ep->servers_.push_back(std::move(server));
  }
  return ep;
}

HttpEndpoints::~HttpEndpoints() {
  Stop();
}

void HttpEndpoints::Stop() {
  for (auto& s : servers_)
    s->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace tri::server
