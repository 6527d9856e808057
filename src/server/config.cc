#include "server/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>

#include "saga/dsl/duration.h"

namespace tri::server {

std::string Url::ToString() const {
  return fmt::format("{}://{}:{}", scheme, host, port);
}

Result<Url> ParseUrl(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("invalid URL \"{}\": {}", text, why));
  };
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("expected scheme://host:port");
  Url url;
  url.scheme = std::string(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return bad("a path is not allowed");
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("expected host:port");
  url.host = std::string(rest.substr(0, colon));
  if (url.host.front() == '[' && url.host.back() == ']')
    url.host = url.host.substr(1, url.host.size() - 2);
  const std::string_view port = rest.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad("port must be a number in 0..65535");
  url.port = static_cast<std::uint16_t>(value);
  return url;
}

Result<std::vector<Url>> ParseUrlList(std::string_view text) {
  std::vector<Url> urls;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view one = text.substr(start, comma - start);
    while (!one.empty() && one.front() == ' ')
      one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ')
      one.remove_suffix(1);
    if (one.empty()) return InvalidArgument(fmt::format("empty URL in \"{}\"", text));
    TRI_ASSIGN_OR_RETURN(Url url, ParseUrl(one));
    urls.push_back(std::move(url));
    start = comma + 1;
  }
  return urls;
}

std::string JoinUrls(const std::vector<Url>& urls) {
  std::string out;
  for (const Url& u : urls) {
    if (!out.empty()) out += ',';
    out += u.ToString();
  }
  return out;
}

namespace {

// One config-file key: how to store its scalar into the config.
using Setter = std::function<Status(const YAML::Node&, ServerConfig&)>;

template <typename T>
Setter Field(T ServerConfig::*member) {
  return [member](const YAML::Node& node, ServerConfig& config) -> Status {
    if (!node.IsScalar()) return InvalidArgument("expected a single value");
    try {
      config.*member = node.as<T>();
    } catch (const YAML::Exception&) {
      return InvalidArgument(fmt::format("\"{}\" is not a valid value", node.Scalar()));
    }
    return Status::Ok();
  };
}

// etcd's `client-transport-security` / `peer-transport-security` mapping. Empty values
// (as in etcd's sample file) keep the defaults.
Setter TlsSection(TlsFiles ServerConfig::*member) {
  return [member](const YAML::Node& node, ServerConfig& config) -> Status {
    if (node.IsNull()) return Status::Ok();
    if (!node.IsMap())
      return InvalidArgument(
          "expected a mapping with cert-file, key-file, trusted-ca-file, client-cert-auth");
    TlsFiles& tls = config.*member;
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      const YAML::Node& value = item.second;
      if (value.IsNull()) continue;
      if (!value.IsScalar())
        return InvalidArgument(fmt::format("\"{}\": expected a single value", key));
      try {
        if (key == "cert-file") {
          tls.cert_file = value.as<std::string>();
        } else if (key == "key-file") {
          tls.key_file = value.as<std::string>();
        } else if (key == "trusted-ca-file") {
          tls.trusted_ca_file = value.as<std::string>();
        } else if (key == "client-cert-auth") {
          tls.client_cert_auth = value.as<bool>();
        } else if (key == "auto-tls") {
          if (value.as<bool>())
            return InvalidArgument(
                "\"auto-tls\": self-signed certificates are not generated; give cert-file and "
                "key-file");
        } else {
          return InvalidArgument(fmt::format("unknown key \"{}\"", key));
        }
      } catch (const YAML::Exception&) {
        return InvalidArgument(
            fmt::format("\"{}\": \"{}\" is not a valid value", key, value.Scalar()));
      }
    }
    return Status::Ok();
  };
}

const std::map<std::string, Setter>& ConfigKeys() {
  static const auto* keys = new std::map<std::string, Setter>{
      {"name", Field(&ServerConfig::name)},
      {"data-dir", Field(&ServerConfig::data_dir)},
      {"listen-client-urls", Field(&ServerConfig::listen_client_urls)},
      {"advertise-client-urls", Field(&ServerConfig::advertise_client_urls)},
      {"listen-peer-urls", Field(&ServerConfig::listen_peer_urls)},
      {"initial-advertise-peer-urls", Field(&ServerConfig::initial_advertise_peer_urls)},
      {"initial-cluster", Field(&ServerConfig::initial_cluster)},
      {"initial-cluster-state", Field(&ServerConfig::initial_cluster_state)},
      {"initial-cluster-token", Field(&ServerConfig::initial_cluster_token)},
      {"heartbeat-interval", Field(&ServerConfig::heartbeat_interval_ms)},
      {"election-timeout", Field(&ServerConfig::election_timeout_ms)},
      {"snapshot-count", Field(&ServerConfig::snapshot_count)},
      {"quota-backend-bytes", Field(&ServerConfig::quota_backend_bytes)},
      {"max-request-bytes", Field(&ServerConfig::max_request_bytes)},
      {"max-txn-ops", Field(&ServerConfig::max_txn_ops)},
      {"parallel-apply-threads", Field(&ServerConfig::parallel_apply_threads)},
      {"parallel-apply-min-batch", Field(&ServerConfig::parallel_apply_min_batch)},
      {"parallel-apply-scheduler", Field(&ServerConfig::parallel_apply_scheduler)},
      {"listen-metrics-urls", Field(&ServerConfig::listen_metrics_urls)},
      {"listen-http-urls", Field(&ServerConfig::listen_http_urls)},
      {"log-level", Field(&ServerConfig::log_level)},
      {"saga-retention", Field(&ServerConfig::saga_retention)},
      {"max-finished-sagas", Field(&ServerConfig::max_finished_sagas)},
      {"max-running-sagas", Field(&ServerConfig::max_running_sagas)},
      {"saga-redispatch-grace", Field(&ServerConfig::saga_redispatch_grace)},
      {"client-transport-security", TlsSection(&ServerConfig::client_tls)},
      {"peer-transport-security", TlsSection(&ServerConfig::peer_tls)},
      {"auto-compaction-mode", Field(&ServerConfig::auto_compaction_mode)},
      {"auto-compaction-retention", Field(&ServerConfig::auto_compaction_retention)},
      {"max-watchers", Field(&ServerConfig::max_watchers)},
      {"experimental-watch-progress-notify-interval",
       Field(&ServerConfig::watch_progress_notify_interval)},
  };
  return *keys;
}

}  // namespace

Status LoadConfigFile(const std::string& path, ServerConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return NotFound(fmt::format("--config-file: cannot read {}", path));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("--config-file: {}:{}:{}: {}", path, e.mark.line + 1,
                                       e.mark.column + 1, e.msg));
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap())
    return InvalidArgument(fmt::format("--config-file: {}: expected a mapping of keys", path));
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const auto it = ConfigKeys().find(key);
    if (it == ConfigKeys().end())
      return InvalidArgument(fmt::format("--config-file: {}:{}: unknown key \"{}\"", path,
                                         item.first.Mark().line + 1, key));
    if (Status st = it->second(item.second, config); !st.ok())
      return InvalidArgument(fmt::format("--config-file: {}:{}: key \"{}\": {}", path,
                                         item.second.Mark().line + 1, key, st.message()));
  }
  return Status::Ok();
}

namespace {

Result<std::vector<Url>> UrlsFlag(std::string_view flag, const std::string& value) {
  auto urls = ParseUrlList(value);
  if (!urls.ok()) return InvalidArgument(fmt::format("--{}: {}", flag, urls.status().message()));
  return urls;
}

// Listening needs a concrete port; 0 is allowed only where the OS picks (tests).
Status CheckAdvertised(std::string_view flag, const std::vector<Url>& urls) {
  for (const Url& u : urls) {
    if (u.port == 0)
      return InvalidArgument(fmt::format("--{}: {} needs a port", flag, u.ToString()));
    if (u.host == "0.0.0.0" || u.host == "::")
      return InvalidArgument(
          fmt::format("--{}: {} is not an address peers or clients can reach", flag, u.ToString()));
  }
  return Status::Ok();
}

const Url* FirstHttps(const std::vector<Url>& urls) {
  for (const Url& u : urls)
    if (u.scheme == "https") return &u;
  return nullptr;
}

// Client TLS: needed when a client or HTTP API URL is https. Certificates given with
// only http:// URLs are ignored with a warning, as etcd does.
Status ResolveClientTls(const ServerConfig& config, ResolvedConfig& r) {
  if (const Url* u = FirstHttps(r.listen_metrics_urls))
    return InvalidArgument(fmt::format(
        "--listen-metrics-urls: {}: metrics and health are served on http:// only", u->ToString()));
  const Url* https = FirstHttps(r.listen_client_urls);
  const char* flag = "--listen-client-urls";
  if (https == nullptr) {
    https = FirstHttps(r.listen_http_urls);
    flag = "--listen-http-urls";
  }
  if (https == nullptr) {
    if (!config.client_tls.Empty())
      r.warnings.push_back(
          "--cert-file/--key-file are given but no client URL is https://; they are ignored");
    if (config.client_tls.client_cert_auth)
      r.warnings.push_back("--client-cert-auth is set but no client URL is https://; ignored");
    return Status::Ok();
  }
  if (config.client_tls.Empty())
    return InvalidArgument(
        fmt::format("{}: {} needs a TLS certificate and key (--cert-file, --key-file)", flag,
                    https->ToString()));
  TRI_ASSIGN_OR_RETURN(r.client_tls, LoadTlsMaterial(config.client_tls, ""));
  return Status::Ok();
}

// Peer TLS: all peer URLs are https (every peer connection is TLS, both ways) or none is.
Status ResolvePeerTls(const ServerConfig& config, ResolvedConfig& r) {
  std::vector<std::pair<const char*, const Url*>> all;
  for (const Url& u : r.listen_peer_urls)
    all.emplace_back("--listen-peer-urls", &u);
  for (const Url& u : r.advertise_peer_urls)
    all.emplace_back("--initial-advertise-peer-urls", &u);
  for (const ResolvedMember& m : r.initial_cluster)
    for (const Url& u : m.peer_urls)
      all.emplace_back("--initial-cluster", &u);
  const std::string& scheme = all.front().second->scheme;
  for (const auto& [flag, url] : all) {
    if (url->scheme != scheme)
      return InvalidArgument(
          fmt::format("{}: {} is {} but {} is {}: peer URLs must be all http:// or all https://",
                      flag, url->ToString(), url->scheme, all.front().second->ToString(), scheme));
  }
  if (scheme != "https") {
    if (!config.peer_tls.Empty())
      r.warnings.push_back(
          "--peer-cert-file/--peer-key-file are given but the peer URLs are http://; they are "
          "ignored");
    if (config.peer_tls.client_cert_auth)
      r.warnings.push_back("--peer-client-cert-auth is set but the peer URLs are http://; ignored");
    return Status::Ok();
  }
  if (config.peer_tls.Empty())
    return InvalidArgument(
        fmt::format("--listen-peer-urls: {} needs a TLS certificate and key (--peer-cert-file, "
                    "--peer-key-file)",
                    r.listen_peer_urls.front().ToString()));
  TRI_ASSIGN_OR_RETURN(r.peer_tls, LoadTlsMaterial(config.peer_tls, "peer-"));
  return Status::Ok();
}

}  // namespace

Result<AutoCompactionOptions> ParseAutoCompaction(const std::string& mode,
                                                  const std::string& retention) {
  AutoCompactionOptions options;
  if (mode != "periodic" && mode != "revision") {
    return InvalidArgument(
        fmt::format("--auto-compaction-mode: unknown mode \"{}\" (periodic or revision)", mode));
  }
  // etcd: an integer is hours (periodic) or revisions (revision); otherwise a duration.
  std::int64_t number = -1;
  const auto [end, error] =
      std::from_chars(retention.data(), retention.data() + retention.size(), number);
  const bool integer = error == std::errc() && end == retention.data() + retention.size() &&
                       !retention.empty() && number >= 0;
  if (mode == "revision") {
    if (!integer) {
      return InvalidArgument(fmt::format(
          "--auto-compaction-retention: \"{}\" is not a number of revisions (revision mode)",
          retention));
    }
    if (number == 0) return options;
    options.mode = AutoCompactionOptions::Mode::kRevision;
    options.retention_revisions = number;
    return options;
  }
  std::uint64_t period_ms = 0;
  if (integer) {
    if (number > 24 * 365 * 100) {
      return InvalidArgument(
          fmt::format("--auto-compaction-retention: {} hours is more than a century", number));
    }
    period_ms = static_cast<std::uint64_t>(number) * 60 * 60 * 1000;
  } else {
    auto d = saga::ParseDuration(retention);
    if (!d.ok()) {
      return InvalidArgument(fmt::format("--auto-compaction-retention: {}", d.status().message()));
    }
    period_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
  }
  if (period_ms == 0) return options;
  options.mode = AutoCompactionOptions::Mode::kPeriodic;
  options.period_ms = period_ms;
  return options;
}

Result<ResolvedConfig> ResolveConfig(const ServerConfig& config) {
  ResolvedConfig r;
  r.raw = config;
  if (config.name.empty()) return InvalidArgument("--name: must not be empty");
  if (config.name.find_first_of("=,") != std::string::npos)
    return InvalidArgument(fmt::format("--name: \"{}\" must not contain '=' or ','", config.name));
  TRI_ASSIGN_OR_RETURN(r.listen_client_urls,
                       UrlsFlag("listen-client-urls", config.listen_client_urls));
  TRI_ASSIGN_OR_RETURN(r.advertise_client_urls,
                       UrlsFlag("advertise-client-urls", config.advertise_client_urls));
  TRI_ASSIGN_OR_RETURN(r.listen_peer_urls, UrlsFlag("listen-peer-urls", config.listen_peer_urls));
  TRI_ASSIGN_OR_RETURN(r.advertise_peer_urls,
                       UrlsFlag("initial-advertise-peer-urls", config.initial_advertise_peer_urls));
  TRI_RETURN_IF_ERROR(CheckAdvertised("advertise-client-urls", r.advertise_client_urls));
  TRI_RETURN_IF_ERROR(CheckAdvertised("initial-advertise-peer-urls", r.advertise_peer_urls));
  if (!config.listen_metrics_urls.empty()) {
    TRI_ASSIGN_OR_RETURN(r.listen_metrics_urls,
                         UrlsFlag("listen-metrics-urls", config.listen_metrics_urls));
  }
  if (!config.listen_http_urls.empty()) {
    TRI_ASSIGN_OR_RETURN(r.listen_http_urls, UrlsFlag("listen-http-urls", config.listen_http_urls));
  }

  auto duration_ms = [](const char* flag, const std::string& text) -> Result<std::uint64_t> {
    auto d = saga::ParseDuration(text);
    if (!d.ok()) return InvalidArgument(fmt::format("--{}: {}", flag, d.status().message()));
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
  };
  TRI_ASSIGN_OR_RETURN(r.saga_retention_ms, duration_ms("saga-retention", config.saga_retention));
  TRI_ASSIGN_OR_RETURN(r.saga_redispatch_grace_ms,
                       duration_ms("saga-redispatch-grace", config.saga_redispatch_grace));
  if (config.max_running_sagas == 0)
    return InvalidArgument("--max-running-sagas: must be at least 1");
  TRI_ASSIGN_OR_RETURN(r.auto_compaction, ParseAutoCompaction(config.auto_compaction_mode,
                                                              config.auto_compaction_retention));
  if (config.max_watchers == 0) return InvalidArgument("--max-watchers: must be at least 1");
  TRI_ASSIGN_OR_RETURN(r.watch_progress_notify_interval_ms,
                       duration_ms("experimental-watch-progress-notify-interval",
                                   config.watch_progress_notify_interval));
  if (r.watch_progress_notify_interval_ms == 0)
    return InvalidArgument("--experimental-watch-progress-notify-interval: must be above 0");

  if (config.initial_cluster_state == "new") {
    r.new_cluster = true;
  } else if (config.initial_cluster_state == "existing") {
    r.new_cluster = false;
  } else {
    return InvalidArgument(fmt::format("--initial-cluster-state: \"{}\" must be new or existing",
                                       config.initial_cluster_state));
  }
  if (config.initial_cluster_token.empty())
    return InvalidArgument("--initial-cluster-token: must not be empty");

  const std::string cluster = config.initial_cluster.empty()
                                  ? config.name + "=" + config.initial_advertise_peer_urls
                                  : config.initial_cluster;
  std::map<std::string, std::vector<Url>> members;
  std::size_t start = 0;
  while (start <= cluster.size()) {
    std::size_t comma = cluster.find(',', start);
    if (comma == std::string::npos) comma = cluster.size();
    const std::string item = cluster.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument(fmt::format("--initial-cluster: \"{}\" is not name=url", item));
    auto url = ParseUrl(item.substr(eq + 1));
    if (!url.ok()) return InvalidArgument("--initial-cluster: " + url.status().message());
    members[item.substr(0, eq)].push_back(*url);
    start = comma + 1;
  }
  const auto self = members.find(config.name);
  if (self == members.end())
    return InvalidArgument(
        fmt::format("--initial-cluster: has no member named \"{}\" (--name)", config.name));
  {
    auto mine = self->second;
    auto advertised = r.advertise_peer_urls;
    const auto by_text = [](const Url& a, const Url& b) { return a.ToString() < b.ToString(); };
    std::sort(mine.begin(), mine.end(), by_text);
    std::sort(advertised.begin(), advertised.end(), by_text);
    if (mine != advertised)
      return InvalidArgument(
          fmt::format("--initial-cluster: member \"{}\" has peer URLs {} but "
                      "--initial-advertise-peer-urls is {}",
                      config.name, JoinUrls(mine), JoinUrls(advertised)));
  }
  std::set<std::string> seen_urls;
  for (auto& [name, urls] : members) {
    for (const Url& u : urls) {
      if (!seen_urls.insert(u.ToString()).second)
        return InvalidArgument(
            fmt::format("--initial-cluster: URL {} is given twice", u.ToString()));
    }
    r.initial_cluster.push_back({name, urls});
  }

  if (config.heartbeat_interval_ms == 0)
    return InvalidArgument("--heartbeat-interval: must be at least 1 (milliseconds)");
  if (config.election_timeout_ms < 5 * config.heartbeat_interval_ms)
    return InvalidArgument(fmt::format(
        "--election-timeout: {} ms must be at least 5 times --heartbeat-interval ({} ms)",
        config.election_timeout_ms, config.heartbeat_interval_ms));
  if (config.election_timeout_ms > 50000)
    return InvalidArgument("--election-timeout: must be at most 50000 ms");
  r.heartbeat_ticks = 1;
  r.election_ticks = static_cast<int>(config.election_timeout_ms / config.heartbeat_interval_ms);
  if (config.snapshot_count == 0) return InvalidArgument("--snapshot-count: must be at least 1");
  if (config.max_request_bytes < 1024)
    return InvalidArgument("--max-request-bytes: must be at least 1024");
  if (config.max_request_bytes > (std::uint64_t{64} << 20))
    return InvalidArgument("--max-request-bytes: must be at most 64 MiB");
  if (config.max_txn_ops == 0) return InvalidArgument("--max-txn-ops: must be at least 1");
  if (config.parallel_apply_threads > txn::kMaxThreads)
    return InvalidArgument(fmt::format("--parallel-apply-threads: {} is more than {}",
                                       config.parallel_apply_threads, txn::kMaxThreads));
  if (config.parallel_apply_min_batch == 0)
    return InvalidArgument("--parallel-apply-min-batch: must be at least 1");
  if (config.parallel_apply_scheduler == "optimistic") {
    r.parallel_apply_scheduler = txn::Scheduler::kOptimistic;
  } else if (config.parallel_apply_scheduler == "declared") {
    r.parallel_apply_scheduler = txn::Scheduler::kDeclared;
  } else if (config.parallel_apply_scheduler == "serial") {
    r.parallel_apply_scheduler = txn::Scheduler::kSerial;
  } else {
    return InvalidArgument(
        fmt::format("--parallel-apply-scheduler: \"{}\" is not optimistic, declared or serial",
                    config.parallel_apply_scheduler));
  }
  if (config.quota_backend_bytes == 0)
    return InvalidArgument("--quota-backend-bytes: must be at least 1");
  TRI_RETURN_IF_ERROR(ResolveClientTls(config, r));
  TRI_RETURN_IF_ERROR(ResolvePeerTls(config, r));
  return r;
}

}  // namespace tri::server
