// `tri lease grant|revoke|keep-alive|timetolive (ttl)|list`: etcdctl's lease
// commands with its simple and json output (table is refused, as etcdctl
// refuses it). Exit statuses follow tri's: 1 for a request error, 2 for usage.
#include <charconv>
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/etcdctl_format.h"
#include "client/lease_client.h"
#include "client/lease_format.h"

namespace tri::cli {
namespace {

OutputFormat LeaseFormatOrExit(const EtcdFlags& flags) {
  const OutputFormat format = OutputFormatOrExit(flags);
  if (format == OutputFormat::kTable)
    ExitWithError(kExitUsage, "Error: table not supported as output format");
  return format;
}

std::int64_t ParseOrExit(const std::string& text, int base, const std::string& what) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || p != end) ExitWithError(kExitUsage, what);
  return value;
}

std::int64_t LeaseIdOrExit(const std::string& text) {
  return ParseOrExit(text, 16, "Error: bad lease ID arg (" + text + "), expecting ID in Hex");
}

std::unique_ptr<client::LeaseClient> ConnectLeaseOrExit(const EtcdFlags& flags) {
  auto client = client::LeaseClient::Connect(ClientOptionsOrExit(flags));
  if (!client.ok()) ExitWithStatus(client.status());
  return std::move(*client);
}

// A command with one positional argument and the etcd flags.
struct State {
  EtcdFlags etcd;
  std::string arg;
  bool flag = false;
};

CLI::App* AddCommand(CLI::App* lease, const char* name, const char* help, const char* arg_name,
                     const char* arg_help, std::shared_ptr<State> s) {
  auto* cmd = lease->add_subcommand(name, help);
  if (arg_name != nullptr) cmd->add_option(arg_name, s->arg, arg_help)->required();
  AddEtcdFlags(cmd, &s->etcd);
  return cmd;
}

void AddGrant(CLI::App* lease) {
  auto s = std::make_shared<State>();
  auto* cmd = AddCommand(lease, "grant", "create a lease of TTL seconds", "TTL",
                         "time to live, seconds", s);
  cmd->callback([s] {
    const OutputFormat format = LeaseFormatOrExit(s->etcd);
    const std::int64_t ttl = ParseOrExit(s->arg, 10, "Error: bad TTL (" + s->arg + ")");
    auto resp = ConnectLeaseOrExit(s->etcd)->Grant(ttl);
    if (!resp.ok()) ExitWithStatus(resp.status(), kExitRequestError);
    std::cout << (format == OutputFormat::kJson ? client::LeaseGrantJson(*resp)
                                                : client::LeaseGrantSimple(*resp));
  });
}

void AddRevoke(CLI::App* lease) {
  auto s = std::make_shared<State>();
  auto* cmd = AddCommand(lease, "revoke", "revoke a lease, deleting its keys", "ID",
                         "the lease's ID (hex)", s);
  cmd->callback([s] {
    const OutputFormat format = LeaseFormatOrExit(s->etcd);
    const std::int64_t id = LeaseIdOrExit(s->arg);
    auto resp = ConnectLeaseOrExit(s->etcd)->Revoke(id);
    if (!resp.ok()) {
      ExitWithError(kExitRequestError,
                    "Error: failed to revoke lease (" + resp.status().message() + ")");
    }
    std::cout << (format == OutputFormat::kJson ? client::GoJson(*resp) + "\n"
                                                : client::LeaseRevokeSimple(id));
  });
}

void AddKeepAlive(CLI::App* lease) {
  auto s = std::make_shared<State>();
  auto* cmd = AddCommand(lease, "keep-alive", "keep a lease alive (until it is gone)", "ID",
                         "the lease's ID (hex)", s);
  cmd->add_flag("--once", s->flag, "send one keep-alive and exit");
  cmd->callback([s] {
    const OutputFormat format = LeaseFormatOrExit(s->etcd);
    const std::int64_t id = LeaseIdOrExit(s->arg);
    auto client = ConnectLeaseOrExit(s->etcd);
    auto print = [format](const etcdserverpb::LeaseKeepAliveResponse& r) {
      std::cout << (format == OutputFormat::kJson ? client::LeaseKeepAliveJson(r)
                                                  : client::LeaseKeepAliveSimple(r))
                << std::flush;
    };
    if (s->flag) {
      auto resp = client->KeepAliveOnce(id);
      if (!resp.ok()) ExitWithStatus(resp.status(), kExitRequestError);
      // clientv3's KeepAliveOnce: a TTL of 0 means the lease is gone.
      if (resp->ttl() <= 0) {
        ExitWithError(kExitRequestError, "Error: etcdserver: requested lease not found");
      }
      print(*resp);
      return;
    }
    const Status status = client->KeepAlive(id, print);
    if (!status.ok()) ExitWithStatus(status, kExitRequestError);
    if (format == OutputFormat::kSimple)
      std::cout << "lease " << client::LeaseIdHex(id) << " expired or revoked.\n";
  });
}

void AddTimeToLive(CLI::App* lease, const char* name, const char* help) {
  auto s = std::make_shared<State>();
  auto* cmd = AddCommand(lease, name, help, "ID", "the lease's ID (hex)", s);
  cmd->add_flag("--keys", s->flag, "also list the keys attached to the lease");
  cmd->callback([s] {
    const OutputFormat format = LeaseFormatOrExit(s->etcd);
    const std::int64_t id = LeaseIdOrExit(s->arg);
    auto resp = ConnectLeaseOrExit(s->etcd)->TimeToLive(id, s->flag);
    if (!resp.ok()) ExitWithStatus(resp.status(), kExitRequestError);
    std::cout << (format == OutputFormat::kJson ? client::LeaseTimeToLiveJson(*resp)
                                                : client::LeaseTimeToLiveSimple(*resp, s->flag));
  });
}

void AddList(CLI::App* lease) {
  auto s = std::make_shared<State>();
  auto* cmd = AddCommand(lease, "list", "list every lease", nullptr, nullptr, s);
  cmd->callback([s] {
    const OutputFormat format = LeaseFormatOrExit(s->etcd);
    auto resp = ConnectLeaseOrExit(s->etcd)->Leases();
    if (!resp.ok()) ExitWithStatus(resp.status(), kExitRequestError);
    std::cout << (format == OutputFormat::kJson ? client::LeaseLeasesJson(*resp)
                                                : client::LeaseLeasesSimple(*resp));
  });
}

void AddLeaseCommands(CLI::App& app) {
  auto* lease = app.add_subcommand("lease", "leases of an etcd-compatible cluster");
  lease->require_subcommand(1);
  AddGrant(lease);
  AddRevoke(lease);
  AddKeepAlive(lease);
  AddTimeToLive(lease, "timetolive", "a lease's granted and remaining TTL");
  AddTimeToLive(lease, "ttl", "the same as timetolive");
  AddList(lease);
}

const CommandRegistration kLeaseCommand("lease", &AddLeaseCommands);

}  // namespace
}  // namespace tri::cli
