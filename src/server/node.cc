#include "server/node.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>

#include "base/assert.h"
#include "base/rng.h"
#include "io/posix_file_system.h"
#include "net/peer_transport.h"
#include "rsm/kv_codec.h"
#include "server/auto_compactor.h"
#include "server/coordination_grpc_service.h"
#include "server/coordination_service.h"
#include "server/election_services.h"
#include "server/etcd_services.h"
#include "server/http_endpoints.h"
#include "server/identity.h"
#include "server/ids.h"
#include "server/lease_grpc_service.h"
#include "server/lease_service.h"
#include "server/observed_file_system.h"
#include "server/saga_grpc_service.h"
#include "server/saga_http.h"
#include "server/saga_service.h"
#include "server/tls_context.h"
#include "server/watch_hub.h"
#include "server/watch_service.h"
#include "storage/wal_raft_storage.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::server {
namespace {

std::uint64_t WallMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// Hands the core's outgoing messages to the transport (non-blocking).
class TransportSink final : public MessageSink {
 public:
  void Send(std::vector<raft::Message> messages) override {
    if (transport != nullptr) transport->Send(std::move(messages));
  }
  net::PeerTransport* transport = nullptr;
};

std::vector<std::string> UrlStrings(const std::vector<Url>& urls) {
  std::vector<std::string> out;
  for (const Url& u : urls)
    out.push_back(u.ToString());
  return out;
}

// gRPC credentials of one client URL: TLS on https://, plain on http://.
std::shared_ptr<grpc::ServerCredentials> ClientCredentials(const ResolvedConfig& config,
                                                           const Url& url) {
  if (url.scheme != "https") return grpc::InsecureServerCredentials();
  TRI_ASSERT(config.client_tls.has_value());  // ResolveConfig requires it for https
  return GrpcServerCredentials(*config.client_tls);
}

}  // namespace

class Node::Impl {
 public:
  std::unique_ptr<ObservedFileSystem> observed_fs;
  io::FileSystem* fs = nullptr;
  bool disk_full_logged = false;
  NodeIdentity identity;
  std::unique_ptr<storage::WalRaftStorage> storage;
  std::unique_ptr<SeededRng> rng;
  TransportSink sink;
  std::unique_ptr<net::PeerTransport> transport;
  // The parallel apply's executor (nullptr: off); outlives `core`, which uses it.
  std::unique_ptr<txn::ParallelExecutor> apply_executor;
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<NodeSagas> sagas;
  std::unique_ptr<EtcdServices> services;
  std::unique_ptr<WatchHub> watch_hub;            // loop thread only
  std::unique_ptr<WatchService> watch_service;    // etcd's Watch: outlives grpc_server
  std::unique_ptr<AutoCompactor> compactor;       // loop thread only
  std::unique_ptr<SagaGrpcService> saga_service;  // saga API: outlives grpc_server
  std::unique_ptr<NodeLeases> leases;
  std::unique_ptr<LeaseGrpcService> lease_service;                // outlives grpc_server
  std::unique_ptr<NodeCoordination> coordination;                 // native locks and barriers
  std::unique_ptr<CoordinationGrpcService> coordination_service;  // outlives grpc_server
  std::unique_ptr<ElectionServices> election_services;  // v3lock, v3election: outlive grpc_server
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<HttpEndpoints> http;
  std::unique_ptr<SagaHttpServer> saga_http;  // saga API over HTTP; stopped before `sagas` goes

  // Loop thread only.
  RequestToken next_token = 0;
  std::map<RequestToken, std::function<void(NodeCore&, const Completion&)>> pending;
  std::map<std::uint64_t, std::string> peer_addresses;  // member id -> "host:port" dialled
  bool published_attributes = false;
  bool transfer_started = false;
  std::chrono::steady_clock::time_point shutdown_deadline;

  // Metrics, updated on the loop thread.
  Gauge* has_leader = nullptr;
  Gauge* is_leader = nullptr;
  Counter* leader_changes = nullptr;
  Counter* proposals_committed = nullptr;
  Counter* proposals_applied = nullptr;
  Counter* proposals_failed = nullptr;
  Gauge* proposals_pending = nullptr;
  Histogram* process_seconds = nullptr;
  Counter* snapshots = nullptr;
  Gauge* watchers = nullptr;
  Gauge* watch_streams = nullptr;
  Counter* slow_watcher_cancels = nullptr;
  Gauge* lock_waits = nullptr;
  Gauge* barrier_streams = nullptr;
  // The parallel apply (docs/transactions.md, "In the node"); zero while off.
  Counter* parallel_apply_runs = nullptr;
  Counter* parallel_apply_planned = nullptr;
  Counter* parallel_apply_serial = nullptr;
  Counter* parallel_apply_fallbacks = nullptr;
  rsm::ParallelApplyStats last_parallel_apply;
  std::uint64_t slow_watcher_cancels_seen = 0;
  NodeCoreStats last_stats;
};

Node::Node(const ResolvedConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {}

Node::~Node() {
  Shutdown();
  if (loop_.joinable()) {
    (void)Wait();
    loop_.join();
  }
  if (impl_->saga_http) impl_->saga_http->Stop();  // saga API: no request reaches `sagas` now
  impl_->sagas.reset();                            // its action threads end before the rest goes
}

SagaBackend& Node::sagas() {
  return *impl_->sagas;
}

NodeLeases& Node::leases() {
  return *impl_->leases;
}

Result<std::unique_ptr<Node>> Node::Start(const ResolvedConfig& config) {
  std::unique_ptr<Node> node(new Node(config));
  Impl& impl = *node->impl_;
  const ServerConfig& raw = config.raw;
  const std::string data_dir = raw.DataDir();
  const char* fault_file = std::getenv("TRI_TESTING_FAULT_FILE");
  impl.observed_fs = std::make_unique<ObservedFileSystem>(
      io::PosixFileSystem::Instance(),
      node->metrics_.GetHistogram("etcd_disk_wal_fsync_duration_seconds", "WAL fdatasync latency.",
                                  ExponentialBuckets(0.0001, 2, 16)),
      fault_file != nullptr ? fault_file : "");
  impl.fs = impl.observed_fs.get();
  if (fault_file != nullptr) spdlog::warn("TESTING: disk faults are switched by {}", fault_file);

  // Identity: from the data directory when it has one, else from the flags.
  TRI_ASSIGN_OR_RETURN(auto stored, LoadIdentity(*impl.fs, data_dir));
  std::vector<Member> founders;
  std::optional<raft::ConfState> bootstrap;
  if (stored) {
    impl.identity = *stored;
    if (stored->name != raw.name)
      spdlog::warn("data directory {} belongs to member \"{}\"; --name \"{}\" is ignored", data_dir,
                   stored->name, raw.name);
  } else {
    impl.identity.name = raw.name;
    impl.identity.member_id =
        ComputeMemberId(UrlStrings(config.advertise_peer_urls), raw.initial_cluster_token);
    if (config.new_cluster) {
      std::vector<std::uint64_t> ids;
      raft::ConfState cs;
      for (const ResolvedMember& rm : config.initial_cluster) {
        Member m;
        m.id = ComputeMemberId(UrlStrings(rm.peer_urls), raw.initial_cluster_token);
        m.name = rm.name;
        m.peer_urls = UrlStrings(rm.peer_urls);
        ids.push_back(m.id);
        cs.voters.insert(m.id);
        founders.push_back(std::move(m));
      }
      impl.identity.cluster_id = ComputeClusterId(ids);
      bootstrap = cs;
    }
  }

  NodeCoreOptions copts;
  copts.id = impl.identity.member_id;
  copts.cluster_id = impl.identity.cluster_id;
  copts.election_ticks = config.election_ticks;
  copts.heartbeat_ticks = config.heartbeat_ticks;
  copts.tick_ms = raw.heartbeat_interval_ms;
  copts.snapshot_count = raw.snapshot_count;
  copts.request_timeout_ms = 5000 + 2 * std::uint64_t{raw.election_timeout_ms};
  copts.state_machine.max_request_bytes = raw.max_request_bytes;
  copts.state_machine.max_txn_ops = raw.max_txn_ops;
  copts.state_machine.quota_bytes = raw.quota_backend_bytes;
  copts.state_machine.watch_events.record = true;  // the watch hub takes them
  copts.sagas.retention_ms = config.saga_retention_ms;
  copts.sagas.max_finished_sagas = raw.max_finished_sagas;
  copts.sagas.max_running_sagas = raw.max_running_sagas;
  // etcd's minLeaseTTL: ceil(3/2 x election timeout), in whole seconds.
  copts.leases.min_ttl_s = static_cast<std::int64_t>(
      (std::uint64_t{3} * config.election_ticks / 2 * raw.heartbeat_interval_ms + 999) / 1000);
  copts.leases.min_ttl_s = std::max<std::int64_t>(copts.leases.min_ttl_s, 1);
  copts.max_entry_size_bytes = raw.max_request_bytes + 4096;
  if (raw.parallel_apply_threads > 0) {
    TRI_ASSIGN_OR_RETURN(impl.apply_executor,
                         txn::ParallelExecutor::Create(raw.parallel_apply_threads));
    copts.parallel_apply.executor = impl.apply_executor.get();
    copts.parallel_apply.min_batch = raw.parallel_apply_min_batch;
    copts.parallel_apply.scheduler = config.parallel_apply_scheduler;
  }
  copts.clock = &RealClock::Instance();
  Histogram* apply_seconds = node->metrics_.GetHistogram(
      "etcd_server_apply_duration_seconds", "Applying the committed entries of one Ready.",
      ExponentialBuckets(0.00001, 2, 18));
  Histogram* snapshot_seconds = node->metrics_.GetHistogram(
      "etcd_debugging_snap_save_total_duration_seconds", "Taking and saving one snapshot.",
      ExponentialBuckets(0.001, 2, 16));
  copts.observe_apply = [apply_seconds](Duration d) {
    apply_seconds->Observe(std::chrono::duration<double>(d).count());
  };
  copts.observe_snapshot = [snapshot_seconds](Duration d) {
    snapshot_seconds->Observe(std::chrono::duration<double>(d).count());
  };
  storage::WalRaftStorageOptions sopts;
  sopts.bootstrap = bootstrap;
  if (bootstrap) {
    sopts.bootstrap_data =
        NodeCore::FoundingSnapshotData(founders, impl.identity.cluster_id, copts.state_machine);
  }
  TRI_ASSIGN_OR_RETURN(impl.storage, storage::WalRaftStorage::Open(*impl.fs, data_dir, sopts));
  if (!stored) TRI_RETURN_IF_ERROR(SaveIdentity(*impl.fs, data_dir, impl.identity));

  impl.rng = std::make_unique<SeededRng>(std::random_device{}() ^ impl.identity.member_id);

  TRI_ASSIGN_OR_RETURN(
      impl.core, NodeCore::Create(copts, impl.storage.get(), &impl.sink, impl.rng.get(), WallMs()));

  // Peer transport.
  net::PeerTransportOptions topts;
  topts.cluster_id = impl.core->cluster_id();
  topts.self = impl.identity.member_id;
  topts.listen_host = config.listen_peer_urls.front().host;
  topts.listen_port = config.listen_peer_urls.front().port;
  if (config.peer_tls) {
    // https:// peer URLs: every peer connection is TLS, both ways (docs/server.md).
    topts.tls = net::PeerTlsOptions{.cert_pem = config.peer_tls->cert_pem,
                                    .key_pem = config.peer_tls->key_pem,
                                    .trusted_ca_pem = config.peer_tls->trusted_ca_pem,
                                    .require_client_cert = config.peer_tls->client_cert_auth};
  }
  Node* self = node.get();
  TRI_ASSIGN_OR_RETURN(impl.transport,
                       net::PeerTransport::Start(
                           topts,
                           [self](raft::NodeId, std::vector<raft::Message> messages) {
                             self->Post([messages = std::move(messages)](NodeCore& core) mutable {
                               for (raft::Message& m : messages)
                                 core.Step(std::move(m));
                             });
                           },
                           [self](raft::NodeId peer, bool connected) {
                             // The transport logs the connection change itself.
                             if (!connected)
                               self->Post([peer](NodeCore& core) { core.ReportUnreachable(peer); });
                           }));
  impl.sink.transport = impl.transport.get();

  // Metrics.
  MetricsRegistry& m = node->metrics_;
  impl.has_leader = m.GetGauge("etcd_server_has_leader", "Whether a leader exists (1) or not (0).");
  impl.is_leader = m.GetGauge("etcd_server_is_leader", "Whether this member is the leader.");
  impl.leader_changes =
      m.GetCounter("etcd_server_leader_changes_seen_total", "Leader changes seen.");
  impl.proposals_committed =
      m.GetCounter("etcd_server_proposals_committed_total", "Entries committed.");
  impl.proposals_applied = m.GetCounter("etcd_server_proposals_applied_total", "Entries applied.");
  impl.proposals_failed =
      m.GetCounter("etcd_server_proposals_failed_total", "Local requests that failed.");
  impl.parallel_apply_runs = m.GetCounter("trinity_parallel_apply_runs_total",
                                          "Runs of KV entries handed to the executor.");
  impl.parallel_apply_planned = m.GetCounter("trinity_parallel_apply_planned_entries_total",
                                             "Entries applied on the executor's prediction.");
  impl.parallel_apply_serial = m.GetCounter(
      "trinity_parallel_apply_serial_entries_total",
      "Entries of parallel-apply batches applied one by one (ineligible or after a fallback).");
  impl.parallel_apply_fallbacks = m.GetCounter("trinity_parallel_apply_fallbacks_total",
                                               "Runs that fell back to one by one part way.");
  impl.proposals_pending = m.GetGauge("etcd_server_proposals_pending", "Local requests in flight.");
  impl.process_seconds =
      m.GetHistogram("trinity_node_round_duration_seconds", "One loop round: persist, send, apply.",
                     ExponentialBuckets(0.0001, 2, 16));
  impl.snapshots = m.GetCounter("trinity_snapshots_total", "Snapshots saved.");
  impl.watchers = m.GetGauge("etcd_debugging_mvcc_watcher_total", "Watchers on this member.");
  impl.watch_streams =
      m.GetGauge("etcd_debugging_mvcc_watch_stream_total", "Watch streams on this member.");
  impl.slow_watcher_cancels =
      m.GetCounter("trinity_watch_slow_cancels_total",
                   "Watchers cancelled because their client read too slowly.");
  impl.lock_waits =
      m.GetGauge("trinity_lock_waits", "Lock acquires waiting behind a holder on this member.");
  impl.barrier_streams =
      m.GetGauge("trinity_barrier_arrive_streams", "Barrier Arrive streams open on this member.");

  // Sagas: the API's backend and the leader's executor.
  impl.sagas = std::make_unique<NodeSagas>(
      *self,
      NodeSagasOptions{.executor = {.redispatch_grace_ms = config.saga_redispatch_grace_ms}});

  // Leases: keep-alive coalescing and the leader's executor.
  impl.leases = std::make_unique<NodeLeases>(*self, LeaseExecutorOptions{});
  // Native locks and barriers: waiting acquires, arrive streams, the barrier timer.
  impl.coordination =
      std::make_unique<NodeCoordination>(*self, *impl.leases, NodeCoordinationOptions{});

  // Client API.
  impl.services = std::make_unique<EtcdServices>(self);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  for (std::size_t i = 0; i < config.listen_client_urls.size(); ++i) {
    const Url& u = config.listen_client_urls[i];
    builder.AddListeningPort(fmt::format("{}:{}", u.host, u.port), ClientCredentials(config, u),
                             i == 0 ? &bound_port : nullptr);
  }
  // etcd's overhead allowance on top of --max-request-bytes for the gRPC envelope.
  builder.SetMaxReceiveMessageSize(static_cast<int>(raw.max_request_bytes + 512 * 1024));
  builder.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  impl.services->Register(builder);
  impl.watch_hub = std::make_unique<WatchHub>(
      WatchHubOptions{.max_watchers = raw.max_watchers,
                      .progress_notify_interval_ms = config.watch_progress_notify_interval_ms,
                      .max_response_bytes = static_cast<std::size_t>(raw.max_request_bytes)});
  impl.compactor = std::make_unique<AutoCompactor>(config.auto_compaction);
  impl.watch_service = std::make_unique<WatchService>(self, impl.watch_hub.get());
  builder.RegisterService(impl.watch_service.get());
  // Saga API (docs/sagas-api.md): trinity.v1.Sagas beside etcd's services.
  impl.saga_service = std::make_unique<SagaGrpcService>(
      *impl.sagas, SagaServiceOptions{.metrics = &node->metrics_});
  impl.saga_service->Register(builder);
  impl.lease_service = std::make_unique<LeaseGrpcService>(*self, *impl.leases);
  impl.lease_service->Register(builder);
  impl.coordination_service = std::make_unique<CoordinationGrpcService>(*self, *impl.coordination);
  impl.coordination_service->Register(builder);
  impl.election_services = std::make_unique<ElectionServices>();
  impl.election_services->Register(builder);
  impl.grpc_server = builder.BuildAndStart();
  if (!impl.grpc_server || bound_port == 0)
    return Unavailable(
        fmt::format("--listen-client-urls: cannot listen on {}", raw.listen_client_urls));
  impl.election_services->Attach(*impl.grpc_server);
  node->client_port_ = static_cast<std::uint16_t>(bound_port);

  if (!config.listen_metrics_urls.empty()) {
    TRI_ASSIGN_OR_RETURN(impl.http, HttpEndpoints::Start(self, config.listen_metrics_urls));
  }
  // Saga API over HTTP/JSON on --listen-http-urls (docs/sagas-api.md).
  if (!config.listen_http_urls.empty()) {
    TRI_ASSIGN_OR_RETURN(impl.saga_http,
                         SagaHttpServer::Start(*impl.sagas, config.listen_http_urls,
                                               SagaHttpOptions{.tls = config.client_tls}));
  }

  spdlog::info("member {} ({}) of cluster {} starting: clients {}, peers {}, data {}",
               IdToString(impl.identity.member_id), impl.identity.name,
               IdToString(impl.core->cluster_id()), raw.advertise_client_urls,
               raw.initial_advertise_peer_urls, data_dir);
  node->Publish();
  node->loop_ = std::thread([self] { self->Loop(); });
  return node;
}

void Node::Post(std::function<void(NodeCore&)> fn) {
  {
    std::lock_guard lock(mu_);
    inbox_.push_back(std::move(fn));
  }
  wake_.notify_one();
}

RequestToken Node::Track(std::function<void(NodeCore&, const Completion&)> done) {
  const RequestToken token = ++impl_->next_token;
  impl_->pending.emplace(token, std::move(done));
  return token;
}

std::uint16_t Node::peer_port() const {
  return impl_->transport ? impl_->transport->listen_port() : 0;
}

NodeStatusView Node::status() const {
  std::lock_guard lock(mu_);
  return published_;
}

std::string Node::RenderPeerMetrics() const {
  if (!impl_->transport) return "";
  const net::TransportMetrics t = impl_->transport->metrics();
  std::string out;
  const auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& [id, p] : t.peers) {
      const auto v = value(p);
      if (v) out += fmt::format("{}{{To=\"{}\"}} {}\n", name, IdToString(id), *v);
    }
  };
  using P = net::PeerMetrics;
  using V = std::optional<double>;
  family("etcd_network_peer_sent_bytes_total", "counter", "Bytes sent to peers.",
         [](const P& p) -> V { return double(p.bytes_sent); });
  family("etcd_network_peer_received_bytes_total", "counter", "Bytes received from peers.",
         [](const P& p) -> V { return double(p.bytes_received); });
  family("trinity_peer_messages_sent_total", "counter", "Raft messages sent to peers.",
         [](const P& p) -> V { return double(p.messages_sent); });
  family("trinity_peer_messages_received_total", "counter", "Raft messages received from peers.",
         [](const P& p) -> V { return double(p.messages_received); });
  family("trinity_peer_messages_dropped_total", "counter",
         "Raft messages dropped (queue full, not connected, too large); Raft retransmits.",
         [](const P& p) -> V { return double(p.messages_dropped); });
  family("trinity_peer_round_trip_time_seconds", "gauge",
         "Last measured round-trip time to the peer.", [](const P& p) -> V {
           if (!p.last_rtt) return std::nullopt;
           return std::chrono::duration<double>(*p.last_rtt).count();
         });
  family("trinity_peer_connected", "gauge", "Whether the connection to the peer is up.",
         [](const P& p) -> V { return p.connected ? 1.0 : 0.0; });
  return out;
}

void Node::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
  }
  wake_.notify_one();
}

void Node::Halt() {
  {
    std::lock_guard lock(mu_);
    halt_requested_ = true;
    if (stop_requested_) return;
    stop_requested_ = true;
  }
  wake_.notify_one();
}

Status Node::Wait() {
  std::unique_lock lock(mu_);
  stopped_cv_.wait(lock, [&] { return stopped_; });
  return stop_reason_;
}

void Node::Loop() {
  Impl& impl = *impl_;
  NodeCore& core = *impl.core;
  const auto tick = std::chrono::milliseconds(config_.raw.heartbeat_interval_ms);
  auto next_tick = std::chrono::steady_clock::now() + tick;
  std::vector<std::function<void(NodeCore&)>> batch;
  Status reason;
  bool shutting_down = false;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      auto wake_at = next_tick;
      // The leader-only executors (sagas, leases) may want a round before the tick.
      const std::uint64_t executor_wake =
          std::min({impl.sagas->next_wake_ms(), impl.leases->next_wake_ms(),
                    impl.coordination->next_wake_ms()});
      if (executor_wake != UINT64_MAX) {
        const std::uint64_t now_ms = WallMs();
        const auto in =
            std::chrono::milliseconds(executor_wake > now_ms ? executor_wake - now_ms : 0);
        wake_at = std::min(wake_at, std::chrono::steady_clock::now() + in);
      }
      // Watchers reading history go on at once (bounded chunks per round).
      if (impl.watch_hub->catching_up()) wake_at = std::chrono::steady_clock::now();
      wake_.wait_until(lock, wake_at,
                       [&] { return !inbox_.empty() || (stop_requested_ && !shutting_down); });
      batch.swap(inbox_);
      if (stop_requested_ && !shutting_down) {
        shutting_down = true;
        impl.shutdown_deadline = std::chrono::steady_clock::now() +
                                 std::chrono::milliseconds(config_.raw.election_timeout_ms);
      }
    }
    core.SetTime(WallMs());
    for (auto& fn : batch)
      fn(core);
    batch.clear();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      core.Tick(WallMs());
      next_tick += tick;
      if (next_tick < now) next_tick = now + tick;  // a stall: do not tick in a burst
    }
    const auto started = std::chrono::steady_clock::now();
    ProcessOutput out = core.Process();
    impl.process_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!out.fatal.ok()) {
      spdlog::critical("stopping: {} (the member recovers from its log when restarted)",
                       out.fatal.ToString());
      reason = out.fatal;
      HandleOutput(std::move(out));
      break;
    }
    HandleOutput(std::move(out));
    impl.sagas->AfterRound(core, WallMs());
    impl.leases->AfterRound(core, WallMs());
    impl.coordination->AfterRound(core, WallMs());
    impl.lock_waits->Set(double(impl.coordination->lock_waits()));
    impl.barrier_streams->Set(double(impl.coordination->barrier_watches()));
    impl.watch_hub->AfterRound(core.mutable_state_machine(),
                               WatchHeader{core.cluster_id(), core.id(), core.term()}, WallMs());
    ProposeAutoCompaction();
    impl.watchers->Set(double(impl.watch_hub->watcher_count()));
    impl.watch_streams->Set(double(impl.watch_hub->stream_count()));
    impl.slow_watcher_cancels->Add(
        double(impl.watch_hub->slow_cancels() - impl.slow_watcher_cancels_seen));
    impl.slow_watcher_cancels_seen = impl.watch_hub->slow_cancels();
    if (!core.disk_full().ok() && !impl.disk_full_logged) {
      impl.disk_full_logged = true;
      spdlog::error(
          "disk full: {}; this member no longer takes part in consensus and refuses writes, "
          "serializable reads go on; free space and restart it",
          core.disk_full().message());
    }
    if (core.removed()) {
      reason = FailedPrecondition("this member was removed from the cluster");
      spdlog::warn("stopping: {}", reason.message());
      break;
    }
    if (shutting_down) {
      // A leader hands over first so the cluster does not wait an election timeout.
      const auto st = core.raft_status();
      const bool leader = core.leader() == core.id();
      bool halt = false;
      {
        std::lock_guard lock(mu_);
        halt = halt_requested_;
      }
      if (!halt && leader && st.conf_state.voters.size() > 1 && now < impl.shutdown_deadline) {
        if (!impl.transfer_started) {
          impl.transfer_started = true;
          raft::NodeId best = raft::kNoNode;
          raft::Index best_match = 0;
          for (const auto& [id, pr] : st.progress) {
            if (id == core.id() || !st.conf_state.IsVoter(id)) continue;
            if (best == raft::kNoNode || pr.match > best_match) {
              best = id;
              best_match = pr.match;
            }
          }
          if (best != raft::kNoNode) {
            spdlog::info("shutting down: transferring leadership to {}", IdToString(best));
            core.TransferLeader(Track([](NodeCore&, const Completion&) {}), best);
          }
        }
        continue;
      }
      spdlog::info("shutting down");
      break;
    }
  }
  // Stop the producers before failing what is left, so nothing new arrives.
  if (impl.http) impl.http->Stop();
  if (impl.saga_http) impl.saga_http->Stop();  // saga API: ends event streams and waiting requests
  impl.election_services->Stop();              // their recipes' calls to this node fail from now on
  impl.watch_hub->CloseAllStreams();           // watch clients go on with another member at once
  // Waiting acquires and arrive streams end now (UNAVAILABLE): the gRPC
  // shutdown below waits for calls that only this thread could finish.
  impl.coordination->Stop();
  // The gRPC shutdown waits for every call in flight, and a unary request
  // waiting for its entry finishes only when this thread answers it: shut down
  // on another thread while this one goes on failing what is posted and pending.
  std::atomic<bool> grpc_stopped{impl.grpc_server == nullptr};
  std::thread grpc_stopper;
  if (impl.grpc_server) {
    grpc_stopper = std::thread([&impl, &grpc_stopped] {
      impl.grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
      grpc_stopped = true;
    });
  }
  impl.transport->Stop();
  const Status stopped = Unavailable("etcdserver: server stopped");
  const auto fail_what_is_left = [&] {
    {
      std::lock_guard lock(mu_);
      batch.swap(inbox_);
    }
    for (auto& fn : batch)
      fn(core);  // posted requests complete with errors just below
    batch.clear();
    auto pending = std::move(impl.pending);
    impl.pending.clear();
    for (auto& [token, done] : pending)
      done(core, Completion{token, stopped, std::nullopt});
  };
  for (;;) {
    fail_what_is_left();
    if (grpc_stopped) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (grpc_stopper.joinable()) grpc_stopper.join();
  impl.sagas->Stop(core);
  impl.leases->Stop();
  fail_what_is_left();
  Publish();
  {
    std::lock_guard lock(mu_);
    published_.stopping = true;
    stopped_ = true;
    stop_reason_ = reason;
  }
  stopped_cv_.notify_all();
}

void Node::ProposeAutoCompaction() {
  Impl& impl = *impl_;
  NodeCore& core = *impl.core;
  const rsm::MvccStore& store = core.state_machine().store();
  const auto revision = impl.compactor->Due(WallMs(), core.leader() == core.id(),
                                            store.current_revision(), store.compact_revision());
  if (!revision) return;
  spdlog::info("auto compaction: compacting to revision {}", *revision);
  rsm::CompactionRequest request;
  request.revision = *revision;
  core.Propose(Track([this](NodeCore&, const Completion& c) {
                 const bool applied =
                     c.status.ok() && c.applied &&
                     (c.applied->result.ok() || c.applied->result.error() == rsm::ErrCompacted());
                 if (!applied) spdlog::warn("auto compaction failed; retrying later");
                 impl_->compactor->Done(WallMs(), applied);
               }),
               rsm::CommandKind::kKv, rsm::EncodeKvRequest(rsm::KvRequest(request)));
}

void Node::HandleOutput(ProcessOutput out) {
  Impl& impl = *impl_;
  NodeCore& core = *impl.core;
  for (const Completion& c : out.completions) {
    auto it = impl.pending.find(c.token);
    if (it == impl.pending.end()) continue;
    auto done = std::move(it->second);
    impl.pending.erase(it);
    done(core, c);
  }
  bool membership_changed = false;
  for (const NodeEvent& e : out.events) {
    switch (e.kind) {
      case NodeEvent::Kind::kLeaderChanged:
        impl.leader_changes->Add();
        spdlog::info("leader changed: {}", e.detail);
        break;
      case NodeEvent::Kind::kMembershipChanged:
        membership_changed = true;
        spdlog::info("membership: {}", e.detail);
        break;
      case NodeEvent::Kind::kSnapshotSaved:
        impl.snapshots->Add();
        spdlog::info("snapshot: {}", e.detail);
        break;
      case NodeEvent::Kind::kSnapshotInstalled:
        membership_changed = true;
        impl.coordination->OnSnapshotInstalled();
        spdlog::info("snapshot: {}", e.detail);
        break;
      case NodeEvent::Kind::kLogCompacted:
        spdlog::info("compaction: {}", e.detail);
        break;
      case NodeEvent::Kind::kRemovedFromCluster:
        spdlog::warn("membership: {}", e.detail);
        break;
    }
  }
  // Peers follow the replicated member table.
  if (membership_changed || impl.peer_addresses.empty()) {
    std::map<std::uint64_t, std::string> wanted;
    const auto want = [&](std::uint64_t id, const std::vector<std::string>& peer_urls) {
      if (id == core.id() || peer_urls.empty()) return;
      auto url = ParseUrl(peer_urls.front());
      if (url.ok()) wanted[id] = fmt::format("{}:{}", url->host, url->port);
    };
    for (const auto& [id, member] : core.members().members())
      want(id, member.peer_urls);
    if (core.members().members().empty()) {
      // A member joining an existing cluster knows its peers from --initial-cluster
      // until the leader's state (with the member table) arrives.
      for (const ResolvedMember& rm : config_.initial_cluster) {
        const auto urls = UrlStrings(rm.peer_urls);
        want(ComputeMemberId(urls, config_.raw.initial_cluster_token), urls);
      }
    }
    for (const auto& [id, addr] : impl.peer_addresses) {
      if (!wanted.count(id)) (void)impl.transport->RemovePeer(id);
    }
    for (const auto& [id, addr] : wanted) {
      auto it = impl.peer_addresses.find(id);
      const auto colon = addr.rfind(':');
      const std::string host = addr.substr(0, colon);
      const auto port = static_cast<std::uint16_t>(std::stoi(addr.substr(colon + 1)));
      if (it == impl.peer_addresses.end()) {
        (void)impl.transport->AddPeer(id, host, port);
      } else if (it->second != addr) {
        (void)impl.transport->UpdatePeer(id, host, port);
      }
    }
    impl.peer_addresses = std::move(wanted);
  }
  // A joining member learns the cluster id with the leader's state.
  if (impl.identity.cluster_id == 0 && core.cluster_id() != 0) {
    impl.identity.cluster_id = core.cluster_id();
    impl.transport->SetClusterId(impl.identity.cluster_id);
    if (Status st = SaveIdentity(*impl.fs, config_.raw.DataDir(), impl.identity); !st.ok())
      spdlog::warn("recording the cluster id failed: {}", st.ToString());
    spdlog::info("joined cluster {}", IdToString(impl.identity.cluster_id));
  }
  // A member publishes its name and client URLs once a leader is known (etcd's publish).
  if (!impl.published_attributes && core.leader() != raft::kNoNode) {
    const Member* me = core.members().Find(core.id());
    const auto client_urls = UrlStrings(config_.advertise_client_urls);
    if (me != nullptr && me->name == impl.identity.name && me->client_urls == client_urls) {
      impl.published_attributes = true;
    } else if (me != nullptr) {
      impl.published_attributes = true;
      core.ProposePublish(Track([this](NodeCore&, const Completion& c) {
                            if (!c.status.ok()) {
                              spdlog::warn("publishing member attributes failed: {}; retrying",
                                           c.status.message());
                              impl_->published_attributes = false;
                            }
                          }),
                          impl.identity.name, client_urls);
    }
  }
  // Metrics.
  const NodeCoreStats& s = core.stats();
  impl.proposals_committed->Add(
      double(s.proposals_committed - impl.last_stats.proposals_committed));
  impl.proposals_applied->Add(double(s.proposals_applied - impl.last_stats.proposals_applied));
  impl.proposals_failed->Add(double(s.proposals_failed - impl.last_stats.proposals_failed));
  impl.last_stats = s;
  const rsm::ParallelApplyStats& p = core.parallel_apply_stats();
  rsm::ParallelApplyStats& last = impl.last_parallel_apply;
  impl.parallel_apply_runs->Add(double(p.runs - last.runs));
  impl.parallel_apply_planned->Add(double(p.planned_entries - last.planned_entries));
  impl.parallel_apply_serial->Add(double(p.serial_entries - last.serial_entries));
  impl.parallel_apply_fallbacks->Add(double(p.fallbacks - last.fallbacks));
  last = p;
  impl.proposals_pending->Set(double(core.pending_requests()));
  impl.has_leader->Set(core.leader() != raft::kNoNode ? 1 : 0);
  impl.is_leader->Set(core.leader() == core.id() ? 1 : 0);
  Publish();
}

void Node::Publish() {
  const NodeCore& core = *impl_->core;
  NodeStatusView v;
  v.member_id = core.id();
  v.cluster_id = core.cluster_id();
  v.leader = core.leader();
  v.term = core.term();
  v.committed_index = core.committed_index();
  v.applied_index = core.applied_index();
  v.revision = core.state_machine().store().current_revision();
  v.db_size_bytes = core.state_machine().store().used_bytes();
  const Member* me = core.members().Find(core.id());
  v.is_learner = me != nullptr && me->is_learner;
  v.nospace_alarm = core.state_machine().store().nospace_alarm();
  v.syncs = core.stats().syncs;
  std::lock_guard lock(mu_);
  const bool stopping = published_.stopping;
  published_ = v;
  published_.stopping = stopping;
}

}  // namespace tri::server
