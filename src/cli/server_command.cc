// `tri server`: runs a node (server/node.h) with etcd's flag names; with no flags, a
// one-member cluster in ./default.tri on 127.0.0.1:2379 / 2380 / 2381.
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "base/log.h"
#include "cli/command.h"
#include "server/config.h"
#include "server/node.h"

namespace tri::cli {
namespace {

void AddServerCommand(CLI::App& app) {
  auto config = std::make_shared<server::ServerConfig>();
  auto config_file = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("server", "run a Trinity node (etcd-compatible flags; docs/server.md)");
  server::ServerConfig& c = *config;
  cmd->add_option("--config-file", *config_file, "YAML file with the same keys as the flags");
  cmd->add_option("--name", c.name, "human-readable name of this member")->capture_default_str();
  cmd->add_option("--data-dir", c.data_dir, "data directory (default: <name>.tri)");
  cmd->add_option("--listen-client-urls", c.listen_client_urls, "URLs to serve clients on")
      ->capture_default_str();
  cmd->add_option("--advertise-client-urls", c.advertise_client_urls,
                  "client URLs told to the cluster")
      ->capture_default_str();
  cmd->add_option("--listen-peer-urls", c.listen_peer_urls, "URLs to serve peers on")
      ->capture_default_str();
  cmd->add_option("--initial-advertise-peer-urls", c.initial_advertise_peer_urls,
                  "peer URLs told to the cluster")
      ->capture_default_str();
  cmd->add_option("--initial-cluster", c.initial_cluster,
                  "name=peer-url,... of the founding members");
  cmd->add_option("--initial-cluster-state", c.initial_cluster_state, "new or existing")
      ->capture_default_str();
  cmd->add_option("--initial-cluster-token", c.initial_cluster_token,
                  "cluster token (distinguishes clusters)")
      ->capture_default_str();
  cmd->add_option("--heartbeat-interval", c.heartbeat_interval_ms,
                  "heartbeat interval, ms (the Raft tick)")
      ->capture_default_str();
  cmd->add_option("--election-timeout", c.election_timeout_ms, "election timeout, ms")
      ->capture_default_str();
  cmd->add_option("--snapshot-count", c.snapshot_count, "applied entries between snapshots")
      ->capture_default_str();
  cmd->add_option("--quota-backend-bytes", c.quota_backend_bytes, "state size quota, bytes")
      ->capture_default_str();
  cmd->add_option("--max-request-bytes", c.max_request_bytes, "largest client request, bytes")
      ->capture_default_str();
  cmd->add_option("--max-txn-ops", c.max_txn_ops, "most operations in one txn")
      ->capture_default_str();
  cmd->add_option("--parallel-apply-threads", c.parallel_apply_threads,
                  "threads applying runs of committed KV entries in parallel (0: off)")
      ->capture_default_str();
  cmd->add_option("--parallel-apply-min-batch", c.parallel_apply_min_batch,
                  "shortest run of KV entries applied in parallel")
      ->capture_default_str();
  cmd->add_option("--parallel-apply-scheduler", c.parallel_apply_scheduler,
                  "optimistic, declared or serial")
      ->capture_default_str();
  cmd->add_option("--listen-metrics-urls", c.listen_metrics_urls,
                  "URLs for /metrics and health (empty: off)")
      ->capture_default_str();
  cmd->add_option("--listen-http-urls", c.listen_http_urls,
                  "URLs for the HTTP/JSON saga API (empty: off)")
      ->capture_default_str();

  cmd->add_option("--saga-retention", c.saga_retention,
                  "how long finished sagas are kept (e.g. 168h)")
      ->capture_default_str();
  cmd->add_option("--max-finished-sagas", c.max_finished_sagas,
                  "most finished sagas kept (the oldest are dropped first)")
      ->capture_default_str();
  cmd->add_option("--max-running-sagas", c.max_running_sagas,
                  "starts beyond this many running sagas are refused")
      ->capture_default_str();
  cmd->add_option("--saga-redispatch-grace", c.saga_redispatch_grace,
                  "a new leader waits this long before running again the attempts an earlier "
                  "leader dispatched")
      ->capture_default_str();

  // TLS (etcd's names; docs/server.md "TLS").
  cmd->add_option("--cert-file", c.client_tls.cert_file,
                  "client TLS certificate (PEM), for https:// client and HTTP API URLs");
  cmd->add_option("--key-file", c.client_tls.key_file, "client TLS key (PEM, unencrypted)");
  cmd->add_option("--trusted-ca-file", c.client_tls.trusted_ca_file,
                  "CA certificates (PEM) that client certificates must chain to");
  cmd->add_flag("--client-cert-auth", c.client_tls.client_cert_auth,
                "refuse clients without a certificate from --trusted-ca-file");
  cmd->add_option("--peer-cert-file", c.peer_tls.cert_file,
                  "peer TLS certificate (PEM), for https:// peer URLs (served and presented)");
  cmd->add_option("--peer-key-file", c.peer_tls.key_file, "peer TLS key (PEM, unencrypted)");
  cmd->add_option("--peer-trusted-ca-file", c.peer_tls.trusted_ca_file,
                  "CA certificates (PEM) that peer certificates must chain to");
  cmd->add_flag("--peer-client-cert-auth", c.peer_tls.client_cert_auth,
                "refuse peer connections without a certificate from --peer-trusted-ca-file");
  cmd->add_option("--auto-compaction-mode", c.auto_compaction_mode,
                  "periodic (keep a time window) or revision (keep a number of revisions)")
      ->capture_default_str();
  cmd->add_option("--auto-compaction-retention", c.auto_compaction_retention,
                  "periodic: a duration (30m) or hours (an integer); revision: revisions kept; "
                  "0: off")
      ->capture_default_str();
  cmd->add_option("--max-watchers", c.max_watchers, "most watchers on this member")
      ->capture_default_str();
  cmd->add_option("--experimental-watch-progress-notify-interval", c.watch_progress_notify_interval,
                  "interval of progress notifications to idle progress_notify watchers")
      ->capture_default_str();

  cmd->callback([config, config_file, cmd] {
    server::ServerConfig effective;
    if (!config_file->empty()) {
      if (Status st = server::LoadConfigFile(*config_file, effective); !st.ok())
        ExitWithError(2, st.message());
    }
    // Flags given on the command line win over the file.
    for (const CLI::Option* opt : cmd->get_options()) {
      if (opt->count() == 0 || opt->get_name() == "--config-file") continue;
      const std::string name = opt->get_name();
      const server::ServerConfig& f = *config;
      if (name == "--name")
        effective.name = f.name;
      else if (name == "--data-dir")
        effective.data_dir = f.data_dir;
      else if (name == "--listen-client-urls")
        effective.listen_client_urls = f.listen_client_urls;
      else if (name == "--advertise-client-urls")
        effective.advertise_client_urls = f.advertise_client_urls;
      else if (name == "--listen-peer-urls")
        effective.listen_peer_urls = f.listen_peer_urls;
      else if (name == "--initial-advertise-peer-urls")
        effective.initial_advertise_peer_urls = f.initial_advertise_peer_urls;
      else if (name == "--initial-cluster")
        effective.initial_cluster = f.initial_cluster;
      else if (name == "--initial-cluster-state")
        effective.initial_cluster_state = f.initial_cluster_state;
      else if (name == "--initial-cluster-token")
        effective.initial_cluster_token = f.initial_cluster_token;
      else if (name == "--heartbeat-interval")
        effective.heartbeat_interval_ms = f.heartbeat_interval_ms;
      else if (name == "--election-timeout")
        effective.election_timeout_ms = f.election_timeout_ms;
      else if (name == "--snapshot-count")
        effective.snapshot_count = f.snapshot_count;
      else if (name == "--quota-backend-bytes")
        effective.quota_backend_bytes = f.quota_backend_bytes;
      else if (name == "--max-request-bytes")
        effective.max_request_bytes = f.max_request_bytes;
      else if (name == "--max-txn-ops")
        effective.max_txn_ops = f.max_txn_ops;
      else if (name == "--parallel-apply-threads")
        effective.parallel_apply_threads = f.parallel_apply_threads;
      else if (name == "--parallel-apply-min-batch")
        effective.parallel_apply_min_batch = f.parallel_apply_min_batch;
      else if (name == "--parallel-apply-scheduler")
        effective.parallel_apply_scheduler = f.parallel_apply_scheduler;
      else if (name == "--listen-metrics-urls")
        effective.listen_metrics_urls = f.listen_metrics_urls;
      else if (name == "--listen-http-urls")
        effective.listen_http_urls = f.listen_http_urls;
      else if (name == "--saga-retention")
        effective.saga_retention = f.saga_retention;
      else if (name == "--max-finished-sagas")
        effective.max_finished_sagas = f.max_finished_sagas;
      else if (name == "--max-running-sagas")
        effective.max_running_sagas = f.max_running_sagas;
      else if (name == "--saga-redispatch-grace")
        effective.saga_redispatch_grace = f.saga_redispatch_grace;
      else if (name == "--cert-file")
        effective.client_tls.cert_file = f.client_tls.cert_file;
      else if (name == "--key-file")
        effective.client_tls.key_file = f.client_tls.key_file;
      else if (name == "--trusted-ca-file")
        effective.client_tls.trusted_ca_file = f.client_tls.trusted_ca_file;
      else if (name == "--client-cert-auth")
        effective.client_tls.client_cert_auth = f.client_tls.client_cert_auth;
      else if (name == "--peer-cert-file")
        effective.peer_tls.cert_file = f.peer_tls.cert_file;
      else if (name == "--peer-key-file")
        effective.peer_tls.key_file = f.peer_tls.key_file;
      else if (name == "--peer-trusted-ca-file")
        effective.peer_tls.trusted_ca_file = f.peer_tls.trusted_ca_file;
      else if (name == "--peer-client-cert-auth")
        effective.peer_tls.client_cert_auth = f.peer_tls.client_cert_auth;
      else if (name == "--auto-compaction-mode")
        effective.auto_compaction_mode = f.auto_compaction_mode;
      else if (name == "--auto-compaction-retention")
        effective.auto_compaction_retention = f.auto_compaction_retention;
      else if (name == "--max-watchers")
        effective.max_watchers = f.max_watchers;
      else if (name == "--experimental-watch-progress-notify-interval")
        effective.watch_progress_notify_interval = f.watch_progress_notify_interval;
    }
    auto resolved = server::ResolveConfig(effective);
    if (!resolved.ok()) ExitWithError(2, resolved.status().message());

    // Signals are taken by one thread with sigwait, never by whichever thread runs.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    if (spdlog::get_level() > spdlog::level::info) spdlog::set_level(spdlog::level::info);
    for (const std::string& warning : resolved->warnings)
      spdlog::warn("{}", warning);
    auto node = server::Node::Start(*resolved);
    if (!node.ok()) ExitWithError(1, "tri server: " + node.status().message());
    std::thread watcher([&signals, n = node->get()] {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig != 0) {
        spdlog::info("received signal {}: shutting down", sig);
        n->Shutdown();
      }
    });
    const Status reason = (*node)->Wait();
    // Wake the watcher if no signal came.
    pthread_kill(watcher.native_handle(), SIGTERM);
    watcher.join();
    node->reset();
    if (!reason.ok()) ExitWithError(1, "tri server: " + reason.message());
  });
}

const CommandRegistration kServerCommand("server", &AddServerCommand);

}  // namespace
}  // namespace tri::cli
