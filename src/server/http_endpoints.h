#pragma once

// The node's HTTP endpoints on --listen-metrics-urls (etcd's names and answers):
//   /metrics  Prometheus text: the node's registry plus process CPU, RSS, open fds
//   /health   {"health":"true","reason":""} when a leader is known and no alarm is raised
//   /livez    200 while the process serves
//   /readyz   200 once a leader is known and the member is not stopping
//   /version  {"etcdserver":"...","etcdcluster":"..."}

#include <memory>
#include <thread>
#include <vector>

#include "base/result.h"
#include "server/config.h"

namespace httplib {
class Server;
}

namespace tri::server {

class Node;

class HttpEndpoints {
 public:
  static Result<std::unique_ptr<HttpEndpoints>> Start(Node* node, const std::vector<Url>& urls);
  ~HttpEndpoints();
  void Stop();

 private:
  HttpEndpoints() = default;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
};

// Process metrics from /proc/self (Prometheus' standard names).
std::string RenderProcessMetrics();

}  // namespace tri::server
