#include "demo/durable.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "server/config.h"
#include "server/ids.h"

namespace tri::demo {
namespace {

// A port the kernel reports free now (the member binds it moments later).
Result<std::uint16_t> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError("socket: cannot pick a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) return IoError("cannot pick a free port on 127.0.0.1");
  return port;
}

std::string Url(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace

// --- the embedded cluster -----------------------------------------------------------

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(const Options& options) {
  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  std::mt19937_64 random(std::random_device{}());
  cluster->base_dir_ =
      (std::filesystem::temp_directory_path() /
       ("tri-demo-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000)))
          .string();
  std::filesystem::create_directories(cluster->base_dir_);
  std::vector<server::ServerConfig> configs(options.members);
  std::string initial_cluster;
  for (std::uint32_t i = 0; i < options.members; ++i) {
    TRI_ASSIGN_OR_RETURN(std::uint16_t client, FreePort());
    TRI_ASSIGN_OR_RETURN(std::uint16_t peer, FreePort());
    server::ServerConfig& c = configs[i];
    c.name = "m" + std::to_string(i + 1);
    c.data_dir = cluster->base_dir_ + "/" + c.name;
    c.listen_client_urls = c.advertise_client_urls = Url(client);
    c.listen_peer_urls = c.initial_advertise_peer_urls = Url(peer);
    c.listen_metrics_urls = "";
    c.listen_http_urls = "";  // the demo talks to the backend directly
    c.heartbeat_interval_ms = options.heartbeat_ms;
    c.election_timeout_ms = options.election_timeout_ms;
    c.saga_redispatch_grace = options.saga_redispatch_grace;
    c.initial_cluster_token = "tri-demo";
    initial_cluster += (i == 0 ? "" : ",") + c.name + "=" + Url(peer);
  }
  for (server::ServerConfig& c : configs) {
    c.initial_cluster = initial_cluster;
    TRI_ASSIGN_OR_RETURN(auto resolved, server::ResolveConfig(c));
    TRI_ASSIGN_OR_RETURN(auto node, server::Node::Start(resolved));
    cluster->nodes_.push_back(std::move(node));
  }
  cluster->halted_syncs_.assign(cluster->nodes_.size(), 0);
  if (cluster->WaitForLeader(-1, 10'000) < 0)
    return Unavailable("the demo cluster elected no leader");
  return cluster;
}

EmbeddedCluster::~EmbeddedCluster() {
  nodes_.clear();
  std::error_code ignored;
  std::filesystem::remove_all(base_dir_, ignored);
}

int EmbeddedCluster::leader() const {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i]) continue;
    const server::NodeStatusView v = nodes_[i]->status();
    if (v.leader != 0 && v.leader == v.member_id) return static_cast<int>(i);
  }
  return -1;
}

int EmbeddedCluster::WaitForLeader(int not_member, int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    const int l = leader();
    if (l >= 0 && l != not_member) return l;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return -1;
}

void EmbeddedCluster::Halt(std::size_t i) {
  halted_syncs_[i] = nodes_[i]->status().syncs;
  nodes_[i]->Halt();
  nodes_[i].reset();
}

std::uint64_t EmbeddedCluster::entries() const {
  std::uint64_t applied = 0;
  for (const auto& n : nodes_) {
    if (n) applied = std::max(applied, n->status().applied_index);
  }
  return applied;
}

std::uint64_t EmbeddedCluster::syncs() const {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    total += nodes_[i] ? nodes_[i]->status().syncs : halted_syncs_[i];
  return total;
}

// --- running a scenario through the saga API ------------------------------------------

namespace {

// Starts every saga of the scenario through `backend`, watches each to its end,
// and collects the final views. Runs `on_progress(steps_succeeded)` (from the
// node's loop thread) as steps succeed.
struct Collected {
  std::vector<server::SagaView> views;
  double wall_ms = 0.0;
};

Result<Collected> RunThrough(const Scenario& scenario, server::SagaBackend& backend,
                             const std::function<void(std::uint32_t)>& on_progress) {
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<server::SagaView> views;
    Status error;
    std::uint32_t expected = 0;
    std::uint32_t steps_succeeded = 0;
    std::chrono::steady_clock::time_point last;
  };
  auto shared = std::make_shared<Shared>();
  auto fail = [shared](Status s) {
    std::lock_guard lock(shared->mutex);
    if (shared->error.ok()) shared->error = std::move(s);
    shared->cv.notify_all();
  };
  // Definitions first, by name and version (the way users register them).
  std::vector<server::SagaDefineReply> definitions;
  for (const SagaBatch& batch : scenario.batches) {
    std::promise<Result<server::SagaDefineReply>> p;
    backend.DefineSaga(server::SagaDefineRequest{batch.document, scenario.name + ".yaml"},
                       [&p](Result<server::SagaDefineReply> r) { p.set_value(std::move(r)); });
    TRI_ASSIGN_OR_RETURN(auto reply, p.get_future().get());
    definitions.push_back(reply);
    shared->expected += batch.count;
  }
  const auto started = std::chrono::steady_clock::now();
  for (std::size_t b = 0; b < scenario.batches.size(); ++b) {
    const SagaBatch& batch = scenario.batches[b];
    for (std::uint32_t i = 0; i < batch.count; ++i) {
      server::SagaStartRequest request;
      request.definition_name = definitions[b].name;
      request.definition_version = definitions[b].version;
      const std::uint32_t abort_after = batch.abort_after_succeeded;
      backend.StartSaga(std::move(request), [&backend, shared, fail, abort_after,
                                             on_progress](Result<server::SagaStartReply> r) {
        if (!r.ok()) return fail(r.status());
        const std::string id = r->saga_id;
        auto succeeded = std::make_shared<std::uint32_t>(0);
        backend.WatchSaga(
            id, 0,
            [&backend, shared, fail, id, succeeded, abort_after, on_progress](
                std::vector<server::SagaEventView> batch, bool finished) {
              std::uint32_t now_ok = 0;
              for (const auto& e : batch) {
                if (e.event != "step_succeeded") continue;
                ++now_ok;
                if (++*succeeded == abort_after) {
                  backend.AbortSaga(id, [fail](Result<server::SagaView> v) {
                    if (!v.ok() && v.status().code() != StatusCode::kFailedPrecondition)
                      fail(v.status());
                  });
                }
              }
              if (now_ok > 0 && on_progress) {
                std::uint32_t total = 0;
                {
                  std::lock_guard lock(shared->mutex);
                  total = shared->steps_succeeded += now_ok;
                }
                on_progress(total);
              }
              if (!finished) return;
              backend.GetSaga(id, /*serializable=*/true,
                              [shared, fail](Result<server::SagaView> v) {
                                if (!v.ok()) return fail(v.status());
                                std::lock_guard lock(shared->mutex);
                                shared->views.push_back(std::move(*v));
                                shared->last = std::chrono::steady_clock::now();
                                shared->cv.notify_all();
                              });
            },
            fail);
      });
    }
  }
  std::unique_lock lock(shared->mutex);
  const bool done = shared->cv.wait_for(lock, std::chrono::seconds(120), [&] {
    return !shared->error.ok() || shared->views.size() == shared->expected;
  });
  if (!shared->error.ok()) return shared->error.WithContext("scenario " + scenario.name);
  if (!done)
    return DeadlineExceeded("scenario " + scenario.name + ": sagas did not finish in 120 s");
  Collected c;
  c.views = std::move(shared->views);
  c.wall_ms = std::chrono::duration<double, std::milli>(shared->last - started).count();
  return c;
}

Result<ScenarioReport> Report(const std::string& name, const Collected& collected,
                              std::uint64_t entries, std::uint64_t syncs) {
  ReportBuilder builder(name);
  for (const server::SagaView& v : collected.views) {
    std::vector<StepOutcome> steps;
    for (const auto& step : v.steps)
      steps.push_back(StepOutcome{step.forward_state, step.state, step.code});
    TRI_RETURN_IF_ERROR(builder.Add(Summarize(v.definition_name, v.state, v.max_parallelism, steps),
                                    static_cast<double>(v.wall_us) / 1000.0, v.avg_parallelism));
  }
  ScenarioReport report = builder.Finish(collected.wall_ms);
  if (report.sagas > 0) {
    report.entries_per_saga = static_cast<double>(entries) / report.sagas;
    report.fsyncs_per_saga = static_cast<double>(syncs) / report.sagas;
  }
  return report;
}

}  // namespace

Result<ScenarioReport> RunScenarioDurable(const Scenario& scenario, EmbeddedCluster& cluster,
                                          std::size_t member) {
  const std::uint64_t entries_before = cluster.entries();
  const std::uint64_t syncs_before = cluster.syncs();
  TRI_ASSIGN_OR_RETURN(Collected collected,
                       RunThrough(scenario, cluster.node(member)->sagas(), nullptr));
  return Report(scenario.name, collected, cluster.entries() - entries_before,
                cluster.syncs() - syncs_before);
}

Result<ScenarioReport> RunFailoverScenario(std::uint32_t sagas) {
  EmbeddedCluster::Options options;
  options.members = 3;
  options.saga_redispatch_grace = "200ms";
  TRI_ASSIGN_OR_RETURN(auto cluster, EmbeddedCluster::Start(options));
  const int old_leader = cluster->leader();
  if (old_leader < 0) return Unavailable("failover: no leader");
  const std::size_t client = (static_cast<std::size_t>(old_leader) + 1) % cluster->size();

  Scenario scenario = DiamondScenario(sagas);
  scenario.name = "failover";
  const std::uint32_t halfway = sagas * 5 / 2;  // half of the diamonds' steps
  std::mutex mu;
  std::condition_variable cv;
  bool reached = false;
  const std::uint64_t entries_before = cluster->entries();
  const std::uint64_t syncs_before = cluster->syncs();
  std::thread stopper([&] {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return reached; });
    lock.unlock();
    cluster->Halt(static_cast<std::size_t>(old_leader));
  });
  auto collected = RunThrough(scenario, cluster->node(client)->sagas(), [&](std::uint32_t ok) {
    if (ok < halfway) return;
    std::lock_guard lock(mu);
    reached = true;
    cv.notify_all();
  });
  {
    std::lock_guard lock(mu);
    reached = true;
    cv.notify_all();
  }
  stopper.join();
  if (!collected.ok()) return collected.status();
  const int new_leader = cluster->WaitForLeader(old_leader, 5000);
  TRI_ASSIGN_OR_RETURN(ScenarioReport report,
                       Report(scenario.name, *collected, cluster->entries() - entries_before,
                              cluster->syncs() - syncs_before));
  report.note = "leader m" + std::to_string(old_leader + 1) + " stopped after " +
                std::to_string(halfway) + " steps succeeded; m" + std::to_string(new_leader + 1) +
                " took over";
  return report;
}

}  // namespace tri::demo
