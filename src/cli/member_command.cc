// `tri member list|add|remove|promote|update`: etcdctl's member commands with
// its simple, json and table output.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/etcdctl_format.h"

namespace tri::cli {
namespace {

std::vector<std::string> SplitUrls(const std::string& csv) {
  std::vector<std::string> urls;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = csv.find(',', start);
    urls.push_back(
        csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return urls;
    start = comma + 1;
  }
}

std::uint64_t ParseMemberIdOrExit(const std::string& text) {
  std::uint64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, id, 16);
  if (text.empty() || ec != std::errc() || p != end)
    ExitWithError(kExitUsage, "Error: bad member ID arg (" + text + "), expecting ID in Hex");
  return id;
}

// Member %16x ... cluster %16x, as etcdctl prints it (space padded to 16).
std::string Hex16(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%16llx", static_cast<unsigned long long>(v));
  return buf;
}

void PrintMemberList(OutputFormat format, const etcdserverpb::MemberListResponse& r) {
  const auto rows = client::MemberListRows(r);
  if (format == OutputFormat::kJson) {
    std::cout << client::GoJson(r) << "\n";
  } else if (format == OutputFormat::kTable) {
    std::cout << client::RenderTable(client::MemberListHeader(), rows);
  } else {
    for (const auto& row : rows) {
      std::string line;
      for (const std::string& cell : row)
        line += (line.empty() ? "" : ", ") + cell;
      std::cout << line << "\n";
    }
  }
}

void AddList(CLI::App* member) {
  auto flags = std::make_shared<EtcdFlags>();
  auto* cmd = member->add_subcommand("list", "list the members of the cluster");
  AddEtcdFlags(cmd, flags.get());
  cmd->callback([flags] {
    const OutputFormat format = OutputFormatOrExit(*flags);
    auto client = ConnectOrExit(*flags);
    auto resp = client->MemberList();
    if (!resp.ok()) ExitWithStatus(resp.status());
    PrintMemberList(format, *resp);
  });
}

void AddAdd(CLI::App* member) {
  struct State {
    EtcdFlags etcd;
    std::string name;
    std::string peer_urls;
    bool learner = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = member->add_subcommand("add", "add a member to the cluster");
  cmd->add_option("NAME", s->name, "the new member's name")->required();
  cmd->add_option("--peer-urls", s->peer_urls, "the new member's peer URLs, comma separated")
      ->required();
  cmd->add_flag("--learner", s->learner, "add as a learner (non-voting)");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    auto client = ConnectOrExit(s->etcd);
    auto resp = client->MemberAdd(SplitUrls(s->peer_urls), s->learner);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson) {
      std::cout << client::GoJson(*resp) << "\n";
      return;
    }
    if (format == OutputFormat::kTable)
      ExitWithError(kExitUsage, "Error: table not supported as output format");
    const std::uint64_t new_id = resp->member().id();
    std::cout << "Member " << Hex16(new_id) << " added to cluster "
              << Hex16(resp->header().cluster_id()) << "\n";
    // The environment a new etcd member would start with (etcdctl prints it).
    std::string conf;
    for (const etcdserverpb::Member& m : resp->members()) {
      for (const std::string& url : m.peerurls()) {
        const std::string& name = m.id() == new_id ? s->name : m.name();
        conf += (conf.empty() ? "" : ",") + name + "=" + url;
      }
    }
    std::cout << "\n"
              << "ETCD_NAME=" << client::GoJsonString(s->name) << "\n"
              << "ETCD_INITIAL_CLUSTER=" << client::GoJsonString(conf) << "\n"
              << "ETCD_INITIAL_ADVERTISE_PEER_URLS=" << client::GoJsonString(s->peer_urls) << "\n"
              << "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n";
  });
}

// remove, promote and update share a shape: ID, a call, one line of output.
template <typename Call>
void AddIdCommand(CLI::App* member, const char* name, const char* help, const char* verb,
                  bool with_peer_urls, Call call) {
  struct State {
    EtcdFlags etcd;
    std::string id;
    std::string peer_urls;
  };
  auto s = std::make_shared<State>();
  auto* cmd = member->add_subcommand(name, help);
  cmd->add_option("ID", s->id, "the member's ID (hex)")->required();
  if (with_peer_urls)
    cmd->add_option("--peer-urls", s->peer_urls, "the member's new peer URLs, comma separated")
        ->required();
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s, verb, call] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    const std::uint64_t id = ParseMemberIdOrExit(s->id);
    auto client = ConnectOrExit(s->etcd);
    auto resp = call(*client, id, SplitUrls(s->peer_urls));
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson) {
      std::cout << client::GoJson(*resp) << "\n";
      return;
    }
    if (format == OutputFormat::kTable)
      ExitWithError(kExitUsage, "Error: table not supported as output format");
    std::cout << "Member " << Hex16(id) << " " << verb << " cluster "
              << Hex16(resp->header().cluster_id()) << "\n";
  });
}

void AddMemberCommands(CLI::App& app) {
  auto* member = app.add_subcommand("member", "membership of an etcd-compatible cluster");
  member->require_subcommand(1);
  AddList(member);
  AddAdd(member);
  AddIdCommand(member, "remove", "remove a member from the cluster", "removed from", false,
               [](client::EtcdClient& c, std::uint64_t id, const std::vector<std::string>&) {
                 return c.MemberRemove(id);
               });
  AddIdCommand(member, "promote", "promote a learner to a voting member", "promoted in", false,
               [](client::EtcdClient& c, std::uint64_t id, const std::vector<std::string>&) {
                 return c.MemberPromote(id);
               });
  AddIdCommand(member, "update", "update a member's peer URLs", "updated in", true,
               [](client::EtcdClient& c, std::uint64_t id, const std::vector<std::string>& urls) {
                 return c.MemberUpdate(id, urls);
               });
}

const CommandRegistration kMemberCommand("member", &AddMemberCommands);

}  // namespace
}  // namespace tri::cli
