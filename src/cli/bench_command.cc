// `tri bench put|range|txn`: the closed-loop KV benchmark (client/kv_bench.h)
// with the flags of etcd's benchmark tool.
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/coord_bench_command.h"
#include "cli/etcd_flags.h"
#include "client/endpoints.h"
#include "client/kv_bench.h"
#include "client/saga_bench.h"

namespace tri::cli {
namespace {

struct BenchState {
  EtcdFlags etcd;
  client::BenchOptions bench;
  std::string consistency = "l";
  std::string request_timeout = "10s";
  bool json = false;
  std::string key;
  std::string range_end;
};

void RunBench(BenchState& s, client::BenchOp op) {
  auto endpoints = client::ParseEndpoints(s.etcd.endpoints);
  if (!endpoints.ok()) ExitWithError(kExitUsage, "Error: " + endpoints.status().message());
  s.bench.op = op;
  s.bench.endpoints = std::move(*endpoints);
  s.bench.tls = ClientTlsOrExit(s.etcd);
  s.bench.dial_timeout = ParseDurationOrExit("--dial-timeout", s.etcd.dial_timeout);
  s.bench.request_timeout = ParseDurationOrExit("--request-timeout", s.request_timeout);
  if (s.consistency != "l" && s.consistency != "s")
    ExitWithError(kExitUsage, "Error: --consistency must be l or s");
  s.bench.serializable = s.consistency == "s";
  s.bench.range_key = s.key;
  s.bench.range_end = s.range_end;
  if (auto st = client::ValidateBenchOptions(s.bench); !st.ok()) ExitWithStatus(st, kExitUsage);
  auto report = client::RunKvBench(s.bench);
  if (!report.ok()) ExitWithStatus(report.status());
  if (s.json)
    std::cout << client::BenchReportJson(*report, s.bench) << "\n";
  else
    std::cout << client::BenchReportText(*report);
  // Every request failing is a failed run; some failing is reported, not fatal.
  if (report->errors == report->requests) throw CLI::RuntimeError(kExitRequestError);
}

CLI::App* AddBenchSubcommand(CLI::App* bench, const char* name, const char* help,
                             client::BenchOp op) {
  auto s = std::make_shared<BenchState>();
  auto* cmd = bench->add_subcommand(name, help);
  cmd->add_option("--endpoints", s->etcd.endpoints, "gRPC endpoints, comma separated")
      ->capture_default_str();
  cmd->add_option("--dial-timeout", s->etcd.dial_timeout, "dial timeout")->capture_default_str();
  AddTlsFlags(cmd, &s->etcd);
  cmd->add_option("--request-timeout", s->request_timeout, "deadline of each request")
      ->capture_default_str();
  cmd->add_option("--clients", s->bench.clients, "concurrent closed-loop clients")
      ->capture_default_str();
  cmd->add_option("--conns", s->bench.conns, "gRPC connections the clients share")
      ->capture_default_str();
  cmd->add_option("--total", s->bench.total, "requests in all")->capture_default_str();
  cmd->add_option("--key-size", s->bench.key_size, "key size in bytes")->capture_default_str();
  cmd->add_option("--key-space-size", s->bench.key_space_size, "distinct keys")
      ->capture_default_str();
  cmd->add_flag("--target-leader", s->bench.target_leader, "send every request to the leader");
  cmd->add_option("--seed", s->bench.seed, "seed of the key choice")->capture_default_str();
  cmd->add_flag("--json", s->json, "print one JSON object instead of the summary");
  if (op != client::BenchOp::kRange)
    cmd->add_option("--val-size", s->bench.val_size, "value size in bytes")->capture_default_str();
  if (op == client::BenchOp::kTxn)
    cmd->add_option("--txn-ops", s->bench.txn_ops, "puts per transaction")->capture_default_str();
  if (op == client::BenchOp::kRange) {
    cmd->add_option("KEY", s->key, "the key every request reads (default: random keys)");
    cmd->add_option("RANGE_END", s->range_end, "the end of the range read");
    cmd->add_option("--consistency", s->consistency, "linearizable (l) or serializable (s)")
        ->capture_default_str();
  }
  cmd->callback([s, op] { RunBench(*s, op); });
  return cmd;
}

struct SagaBenchState {
  EtcdFlags etcd;
  client::SagaBenchOptions bench;
  std::string shape = "chain";
  std::string request_timeout = "10s";
  bool json = false;
};

void RunSagaBench(const SagaBenchState& s) {
  auto endpoints = client::ParseEndpoints(s.etcd.endpoints);
  if (!endpoints.ok()) ExitWithStatus(endpoints.status(), kExitUsage);
  client::SagaBenchOptions options = s.bench;
  options.endpoints = std::move(*endpoints);
  options.tls = ClientTlsOrExit(s.etcd);
  options.dial_timeout = ParseDurationOrExit("--dial-timeout", s.etcd.dial_timeout);
  options.request_timeout = ParseDurationOrExit("--request-timeout", s.request_timeout);
  if (s.shape == "chain") {
    options.shape = client::SagaShape::kChain;
  } else if (s.shape == "diamond") {
    options.shape = client::SagaShape::kDiamond;
  } else {
    ExitWithError(kExitUsage, "Error: --shape: '" + s.shape + "' (use chain or diamond)");
  }
  if (auto st = client::ValidateSagaBenchOptions(options); !st.ok()) ExitWithStatus(st, kExitUsage);
  auto report = client::RunSagaBench(options);
  if (!report.ok()) ExitWithStatus(report.status());
  std::cout << (s.json ? client::SagaBenchReportJson(*report) + "\n"
                       : client::SagaBenchReportText(*report));
  if (report->completed + report->other_terminal == 0) throw CLI::RuntimeError(kExitRequestError);
}

void AddSagaBench(CLI::App* bench) {
  auto s = std::make_shared<SagaBenchState>();
  auto* cmd = bench->add_subcommand(
      "saga", "sagas of noop steps, each followed to its end (completed sagas per second)");
  cmd->add_option("--endpoints", s->etcd.endpoints, "gRPC endpoints, comma separated")
      ->capture_default_str();
  cmd->add_option("--dial-timeout", s->etcd.dial_timeout, "dial timeout")->capture_default_str();
  AddTlsFlags(cmd, &s->etcd);
  cmd->add_option("--request-timeout", s->request_timeout, "deadline of each request")
      ->capture_default_str();
  cmd->add_option("--shape", s->shape, "chain or diamond")->capture_default_str();
  cmd->add_option("--steps", s->bench.steps, "steps per saga")->capture_default_str();
  cmd->add_option("--clients", s->bench.clients, "concurrent closed-loop clients")
      ->capture_default_str();
  cmd->add_option("--total", s->bench.total, "sagas in all")->capture_default_str();
  cmd->add_flag("--json", s->json, "print one JSON object instead of the summary");
  cmd->callback([s] { RunSagaBench(*s); });
}

void AddBenchCommands(CLI::App& app) {
  auto* bench = app.add_subcommand(
      "bench", "closed-loop load against an etcd-compatible cluster (etcd's benchmark shape)");
  bench->require_subcommand(1);
  AddBenchSubcommand(bench, "put", "puts of random keys", client::BenchOp::kPut);
  AddBenchSubcommand(bench, "range", "ranges (reads) of one key or random keys",
                     client::BenchOp::kRange);
  AddBenchSubcommand(bench, "txn", "transactions of --txn-ops puts", client::BenchOp::kTxn);
  AddSagaBench(bench);
  AddCoordinationBenchCommands(bench);
}

const CommandRegistration kBenchCommand("bench", &AddBenchCommands);

}  // namespace
}  // namespace tri::cli
