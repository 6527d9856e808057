#include "cli/coord_bench_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/endpoints.h"
#include "client/lease_bench.h"
#include "client/lock_bench.h"
#include "client/watch_bench.h"

namespace tri::cli {
namespace {

// The flags every coordination benchmark shares.
struct CommonBenchFlags {
  EtcdFlags etcd;
  std::string request_timeout = "10s";
  bool json = false;
};

void AddCommonFlags(CLI::App* cmd, CommonBenchFlags* f) {
  cmd->add_option("--endpoints", f->etcd.endpoints, "gRPC endpoints, comma separated")
      ->capture_default_str();
  cmd->add_option("--dial-timeout", f->etcd.dial_timeout, "dial timeout")->capture_default_str();
  AddTlsFlags(cmd, &f->etcd);
  cmd->add_option("--request-timeout", f->request_timeout, "deadline of each request")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "print one JSON object instead of the summary");
}

struct LockBenchState {
  CommonBenchFlags common;
  client::LockBenchOptions bench;
  std::string api = "etcd";
};

void RunLockBenchCommand(const LockBenchState& s) {
  client::LockBenchOptions o = s.bench;
  auto endpoints = client::ParseEndpoints(s.common.etcd.endpoints);
  if (!endpoints.ok()) ExitWithStatus(endpoints.status(), kExitUsage);
  o.endpoints = std::move(*endpoints);
  o.tls = ClientTlsOrExit(s.common.etcd);
  o.dial_timeout = ParseDurationOrExit("--dial-timeout", s.common.etcd.dial_timeout);
  o.request_timeout = ParseDurationOrExit("--request-timeout", s.common.request_timeout);
  if (s.api == "etcd") {
    o.api = client::LockApi::kEtcd;
  } else if (s.api == "native") {
    o.api = client::LockApi::kNative;
  } else {
    ExitWithError(kExitUsage, "Error: --api: '" + s.api + "' (use etcd or native)");
  }
  if (auto st = client::ValidateLockBenchOptions(o); !st.ok()) ExitWithStatus(st, kExitUsage);
  auto report = client::RunLockBench(o);
  if (!report.ok()) ExitWithStatus(report.status());
  std::cout << (s.common.json ? client::LockBenchReportJson(*report) + "\n"
                              : client::LockBenchReportText(*report));
  if (report->completed == 0) throw CLI::RuntimeError(kExitRequestError);
}

void AddLockBench(CLI::App* bench) {
  auto s = std::make_shared<LockBenchState>();
  auto* cmd = bench->add_subcommand(
      "lock", "acquire+release cycles of locks (etcd's v3lock API or Trinity's native Locks)");
  AddCommonFlags(cmd, &s->common);
  cmd->add_option("--api", s->api, "etcd (v3lockpb.Lock) or native (trinity.v1.Locks)")
      ->capture_default_str();
  cmd->add_option("--clients", s->bench.clients, "concurrent closed-loop clients")
      ->capture_default_str();
  cmd->add_option("--locks", s->bench.locks, "distinct locks; client c uses lock c % locks")
      ->capture_default_str();
  cmd->add_option("--conns", s->bench.conns, "gRPC connections the clients share")
      ->capture_default_str();
  cmd->add_option("--cycles", s->bench.cycles, "acquire+release cycles in all")
      ->capture_default_str();
  cmd->add_option("--lease-ttl", s->bench.lease_ttl_s, "TTL of each client's session lease (s)")
      ->capture_default_str();
  cmd->add_option("--prefix", s->bench.prefix, "lock names are PREFIX/<i>")->capture_default_str();
  cmd->add_flag("--target-leader", s->bench.target_leader, "send every request to the leader");
  cmd->callback([s] { RunLockBenchCommand(*s); });
}

struct WatchBenchState {
  CommonBenchFlags common;
  client::WatchBenchOptions bench;
};

void RunWatchBenchCommand(const WatchBenchState& s) {
  client::WatchBenchOptions o = s.bench;
  auto endpoints = client::ParseEndpoints(s.common.etcd.endpoints);
  if (!endpoints.ok()) ExitWithStatus(endpoints.status(), kExitUsage);
  o.endpoints = std::move(*endpoints);
  o.tls = ClientTlsOrExit(s.common.etcd);
  o.dial_timeout = ParseDurationOrExit("--dial-timeout", s.common.etcd.dial_timeout);
  o.request_timeout = ParseDurationOrExit("--request-timeout", s.common.request_timeout);
  if (auto st = client::ValidateWatchBenchOptions(o); !st.ok()) ExitWithStatus(st, kExitUsage);
  auto report = client::RunWatchBench(o);
  if (!report.ok()) ExitWithStatus(report.status());
  std::cout << (s.common.json ? client::WatchBenchReportJson(*report) + "\n"
                              : client::WatchBenchReportText(*report));
  if (report->deliveries == 0) throw CLI::RuntimeError(kExitRequestError);
}

void AddWatchBench(CLI::App* bench) {
  auto s = std::make_shared<WatchBenchState>();
  auto* cmd = bench->add_subcommand(
      "watch", "watchers of one key and a writer: put sent -> event at each watcher");
  AddCommonFlags(cmd, &s->common);
  cmd->add_option("--watchers", s->bench.watchers, "watchers of the key")->capture_default_str();
  cmd->add_option("--streams", s->bench.streams, "Watch streams the watchers share")
      ->capture_default_str();
  cmd->add_option("--conns", s->bench.conns, "gRPC connections the streams share")
      ->capture_default_str();
  cmd->add_option("--events", s->bench.events, "puts of the key, one at a time")
      ->capture_default_str();
  cmd->add_option("--watch-key", s->bench.key, "the key watched and put")->capture_default_str();
  cmd->callback([s] { RunWatchBenchCommand(*s); });
}

struct LeaseBenchState {
  CommonBenchFlags common;
  client::LeaseBenchOptions bench;
  std::string duration = "10s";
};

void RunLeaseBenchCommand(const LeaseBenchState& s) {
  client::LeaseBenchOptions o = s.bench;
  auto endpoints = client::ParseEndpoints(s.common.etcd.endpoints);
  if (!endpoints.ok()) ExitWithStatus(endpoints.status(), kExitUsage);
  o.endpoints = std::move(*endpoints);
  o.tls = ClientTlsOrExit(s.common.etcd);
  o.dial_timeout = ParseDurationOrExit("--dial-timeout", s.common.etcd.dial_timeout);
  o.request_timeout = ParseDurationOrExit("--request-timeout", s.common.request_timeout);
  o.duration = ParseDurationOrExit("--duration", s.duration);
  if (auto st = client::ValidateLeaseBenchOptions(o); !st.ok()) ExitWithStatus(st, kExitUsage);
  auto report = client::RunLeaseBench(o);
  if (!report.ok()) ExitWithStatus(report.status());
  std::cout << (s.common.json ? client::LeaseBenchReportJson(*report) + "\n"
                              : client::LeaseBenchReportText(*report));
  if (report->keepalives == 0) throw CLI::RuntimeError(kExitRequestError);
}

void AddLeaseBench(CLI::App* bench) {
  auto s = std::make_shared<LeaseBenchState>();
  auto* cmd = bench->add_subcommand(
      "lease", "closed-loop lease keep-alives, one lease and LeaseKeepAlive stream per client");
  AddCommonFlags(cmd, &s->common);
  cmd->add_option("--clients", s->bench.clients, "clients, each with its lease and stream")
      ->capture_default_str();
  cmd->add_option("--conns", s->bench.conns, "gRPC connections the streams share")
      ->capture_default_str();
  cmd->add_option("--duration", s->duration, "how long to send keep-alives")->capture_default_str();
  cmd->add_option("--lease-ttl", s->bench.lease_ttl_s, "TTL of each lease (s)")
      ->capture_default_str();
  cmd->callback([s] { RunLeaseBenchCommand(*s); });
}

}  // namespace

void AddCoordinationBenchCommands(CLI::App* bench) {
  AddLockBench(bench);
  AddWatchBench(bench);
  AddLeaseBench(bench);
}

}  // namespace tri::cli
