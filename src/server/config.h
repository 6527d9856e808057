#pragma once

// The configuration of `tri server`, with etcd's flag and config-file names so that
// operators feel at home (docs/server.md). With no flags at all it describes the
// embedded default: a one-member cluster in ./default.tri, clients on
// 127.0.0.1:2379, peers on 127.0.0.1:2380, metrics on 127.0.0.1:2381, the HTTP
// saga API on 127.0.0.1:8080.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "server/auto_compactor.h"
#include "server/tls_config.h"
#include "txn/options.h"

namespace tri::server {

// "http://host:port" or "https://host:port" (TLS with the configured certificates).
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;

  std::string ToString() const;
  friend bool operator==(const Url&, const Url&) = default;
};

// Parses one URL; the error names the URL and what is wrong with it.
Result<Url> ParseUrl(std::string_view text);
// Comma-separated list of URLs (at least one).
Result<std::vector<Url>> ParseUrlList(std::string_view text);
std::string JoinUrls(const std::vector<Url>& urls);

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;  // empty: "<name>.tri" in the working directory
  std::string listen_client_urls = "http://127.0.0.1:2379";
  std::string advertise_client_urls = "http://127.0.0.1:2379";
  std::string listen_peer_urls = "http://127.0.0.1:2380";
  std::string initial_advertise_peer_urls = "http://127.0.0.1:2380";
  // "name=url[,name=url...]"; empty: "<name>=<initial-advertise-peer-urls>".
  std::string initial_cluster;
  std::string initial_cluster_state = "new";  // new | existing
  std::string initial_cluster_token = "tri-cluster";
  std::uint32_t heartbeat_interval_ms = 100;
  std::uint32_t election_timeout_ms = 1000;
  std::uint64_t snapshot_count = 100000;
  std::uint64_t quota_backend_bytes = std::uint64_t{2} << 30;
  std::uint64_t max_request_bytes = 1536 * 1024;
  std::uint32_t max_txn_ops = 128;
  // Parallel apply (docs/transactions.md, "In the node"): worker threads of the
  // transaction executor that applies runs of committed KV entries (0: off,
  // every entry applies one by one), the shortest run handed to it, and its
  // scheduler (optimistic | declared | serial).
  std::uint32_t parallel_apply_threads = 0;
  std::uint64_t parallel_apply_min_batch = 256;
  std::string parallel_apply_scheduler = "optimistic";
  std::string listen_metrics_urls = "http://127.0.0.1:2381";
  // The saga API over HTTP/JSON (docs/sagas-api.md); empty: off.
  std::string listen_http_urls = "http://127.0.0.1:8080";
  std::string log_level = "info";
  // Sagas (docs/sagas-cluster.md). Durations as in the saga DSL: 500ms, 5s, 168h.
  std::string saga_retention = "168h";        // finished sagas kept this long
  std::uint32_t max_finished_sagas = 100000;  // ... and at most this many
  std::uint32_t max_running_sagas = 10000;
  std::string saga_redispatch_grace = "5s";  // a new leader's wait before re-running
  // TLS (docs/server.md): for https:// client and HTTP API URLs, and for https:// peer
  // URLs. Config file: the `client-transport-security` / `peer-transport-security`
  // mappings with the keys cert-file, key-file, trusted-ca-file, client-cert-auth.
  TlsFiles client_tls;
  TlsFiles peer_tls;
  // Watches and compaction (docs/coordination.md, "Watches"), etcd's names.
  std::string auto_compaction_mode = "periodic";  // periodic | revision
  // periodic: a duration ("30m") or an integer number of hours; revision: an
  // integer number of revisions kept. "0": no automatic compaction.
  std::string auto_compaction_retention = "0";
  std::uint32_t max_watchers = 100000;  // watchers on this member, all streams
  std::string watch_progress_notify_interval = "10m";

  // Effective data directory.
  std::string DataDir() const { return data_dir.empty() ? name + ".tri" : data_dir; }
};

// Reads a YAML config file with etcd's keys ("name", "data-dir", "listen-client-urls",
// ...). Keys not present keep the values already in `config`. Unknown keys and values
// of the wrong type are errors that name the key and the file.
Status LoadConfigFile(const std::string& path, ServerConfig& config);

// The cluster as the configuration describes it, validated.
struct ResolvedMember {
  std::string name;
  std::vector<Url> peer_urls;
};

struct ResolvedConfig {
  ServerConfig raw;
  std::vector<Url> listen_client_urls;
  std::vector<Url> advertise_client_urls;
  std::vector<Url> listen_peer_urls;
  std::vector<Url> advertise_peer_urls;
  std::vector<Url> listen_metrics_urls;         // may be empty (metrics off)
  std::vector<Url> listen_http_urls;            // may be empty (HTTP saga API off)
  std::vector<ResolvedMember> initial_cluster;  // sorted by name
  bool new_cluster = true;
  int heartbeat_ticks = 1;  // the tick is the heartbeat interval
  int election_ticks = 10;
  std::uint64_t saga_retention_ms = 0;
  std::uint64_t saga_redispatch_grace_ms = 0;
  // Set when some client or HTTP API URL is https (gRPC and the saga HTTP API use it).
  std::optional<TlsMaterial> client_tls;
  // Set when the peer URLs are https: every peer connection, both ways, is TLS.
  std::optional<TlsMaterial> peer_tls;
  // What etcd also only warns about (certificates given for http:// URLs are ignored).
  std::vector<std::string> warnings;
  AutoCompactionOptions auto_compaction;
  std::uint64_t watch_progress_notify_interval_ms = 0;
  txn::Scheduler parallel_apply_scheduler = txn::Scheduler::kOptimistic;
};

// etcd's --auto-compaction-mode and --auto-compaction-retention; "0" is off.
Result<AutoCompactionOptions> ParseAutoCompaction(const std::string& mode,
                                                  const std::string& retention);

// Validates everything and derives the typed form. Errors name the flag
// ("--election-timeout: ...").
Result<ResolvedConfig> ResolveConfig(const ServerConfig& config);

}  // namespace tri::server
