#include "cli/coord_bench_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/endpoints.h"
#include "client/lock_bench.h"

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
  cmd->callback([s] { RunLockBenchCommand(*s); });
}

}  // namespace

void AddCoordinationBenchCommands(CLI::App* bench) {
  AddLockBench(bench);
}

}  // namespace tri::cli
