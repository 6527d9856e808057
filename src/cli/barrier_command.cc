// `tri barrier create|arrive|status|list|cancel|remove`: the native barriers
// of a cluster (docs/coordination.md, "Barriers"; service trinity.v1.Barriers).
//
// `tri barrier arrive NAME PARTICIPANT` records the arrival and waits, printing
// the barrier after every change, until it ends. Exit status: 0 released; 3
// timed out; 4 cancelled or removed (both print who was absent); 1 a request
// error; 2 usage.
#include <charconv>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/coordination_client.h"
#include "client/etcdctl_format.h"

namespace tri::cli {
namespace {

namespace pb = ::trinity::v1;

constexpr int kExitTimedOut = 3;
constexpr int kExitCancelled = 4;

std::unique_ptr<client::CoordinationClient> ConnectOrExitCoordination(const EtcdFlags& flags) {
  auto client = client::CoordinationClient::Connect(ClientOptionsOrExit(flags));
  if (!client.ok()) ExitWithStatus(client.status());
  return std::move(*client);
}

std::string StateName(pb::BarrierState s) {
  switch (s) {
    case pb::WAITING_FOR_PREDECESSOR:
      return "waiting_for_predecessor";
    case pb::COLLECTING:
      return "collecting";
    case pb::RELEASED:
      return "released";
    case pb::TIMED_OUT:
      return "timed_out";
    case pb::CANCELLED:
      return "cancelled";
    case pb::REMOVED:
      return "removed";
    default:
      return "unspecified";
  }
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& s : items)
    out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> Row(const pb::BarrierInfo& b) {
  std::string arrived;
  for (const pb::BarrierArrival& a : b.arrivals())
    arrived += (arrived.empty() ? "" : ",") + a.participant();
  return {b.name(),
          StateName(b.state()),
          std::to_string(b.arrivals_size()) + "/" + std::to_string(b.threshold()) + " of " +
              std::to_string(b.participants()),
          b.predecessor(),
          arrived,
          b.absent_size() > 0 ? Join(b.absent()) : std::to_string(b.absent_count())};
}

const std::vector<std::string> kHeader = {"NAME",  "STATE",    "ARRIVED",
                                          "AFTER", "ARRIVALS", "ABSENT"};

std::string Simple(const pb::BarrierInfo& b) {
  const std::vector<std::string> r = Row(b);
  return r[0] + " " + r[1] + " arrived=" + r[2] + (r[3].empty() ? "" : " after=" + r[3]) +
         " absent=" + r[5] + "\n";
}

std::string Render(OutputFormat format, const pb::BarrierInfo& b) {
  if (format == OutputFormat::kJson) return client::GoJson(b) + "\n";
  if (format == OutputFormat::kTable) return client::RenderTable(kHeader, {Row(b)});
  return Simple(b);
}

std::uint32_t ParseCountOrExit(const std::string& flag, const std::string& text) {
  std::uint32_t v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end)
    ExitWithError(kExitUsage, "Error: " + flag + ": not a count: " + text);
  return v;
}

struct CreateState {
  EtcdFlags etcd;
  std::string name;
  std::uint32_t participants = 0;
  std::string threshold;
  std::string fraction;
  std::string timeout = "0s";
  std::string after;
  std::string names;
};

void AddCreate(CLI::App* barrier) {
  auto s = std::make_shared<CreateState>();
  auto* cmd = barrier->add_subcommand("create", "create a barrier of N participants");
  cmd->add_option("NAME", s->name, "the barrier")->required();
  cmd->add_option("--participants", s->participants, "N (0: as many as --names)");
  auto* threshold = cmd->add_option("--threshold", s->threshold, "arrivals that release it (K)");
  auto* fraction = cmd->add_option("--fraction", s->fraction, "release at P/Q of N (rounded up)");
  threshold->excludes(fraction);
  cmd->add_option("--timeout", s->timeout, "time out this long after creation (0s: never)")
      ->capture_default_str();
  cmd->add_option("--after", s->after, "accept arrivals only once this barrier released");
  cmd->add_option("--names", s->names, "the participants allowed, a,b,c");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    pb::CreateBarrierRequest r;
    r.set_name(s->name);
    r.set_participants(s->participants);
    if (!s->names.empty()) {
      std::stringstream in(s->names);
      for (std::string n; std::getline(in, n, ',');)
        r.add_participant_names(n);
    }
    if (!s->threshold.empty()) r.set_threshold_count(ParseCountOrExit("--threshold", s->threshold));
    if (!s->fraction.empty()) {
      const std::size_t slash = s->fraction.find('/');
      if (slash == std::string::npos)
        ExitWithError(kExitUsage, "Error: --fraction: expected P/Q, got " + s->fraction);
      r.mutable_threshold_fraction()->set_numerator(
          ParseCountOrExit("--fraction", s->fraction.substr(0, slash)));
      r.mutable_threshold_fraction()->set_denominator(
          ParseCountOrExit("--fraction", s->fraction.substr(slash + 1)));
    }
    r.set_timeout_ms(
        static_cast<std::uint64_t>(ParseDurationOrExit("--timeout", s->timeout).count()));
    r.set_predecessor(s->after);
    auto resp = ConnectOrExitCoordination(s->etcd)->CreateBarrier(r);
    if (!resp.ok()) ExitWithStatus(resp.status());
    std::cout << Render(format, *resp);
  });
}

void AddArrive(CLI::App* barrier) {
  struct State {
    EtcdFlags etcd;
    std::string name;
    std::string participant;
  };
  auto s = std::make_shared<State>();
  auto* cmd = barrier->add_subcommand("arrive", "arrive and wait until the barrier ends");
  cmd->add_option("NAME", s->name, "the barrier")->required();
  cmd->add_option("PARTICIPANT", s->participant, "who arrives")->required();
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    pb::BarrierInfo last;
    const Status status = ConnectOrExitCoordination(s->etcd)->Arrive(
        s->name, s->participant, [&](const pb::BarrierUpdate& u) {
          last = u.barrier();
          if (format == OutputFormat::kJson) {
            std::cout << client::GoJson(u) << "\n" << std::flush;
          } else {
            std::cout << Render(format, u.barrier()) << std::flush;
          }
        });
    if (!status.ok()) ExitWithStatus(status);
    switch (last.state()) {
      case pb::RELEASED:
        return;
      case pb::TIMED_OUT:
        ExitWithError(kExitTimedOut,
                      "Error: barrier " + s->name + " timed out; absent: " + Row(last)[5]);
      default:
        ExitWithError(kExitCancelled, "Error: barrier " + s->name + " " + StateName(last.state()) +
                                          "; absent: " + Row(last)[5]);
    }
  });
}

// status, cancel, remove: one barrier name.
void AddOneName(CLI::App* barrier, const char* verb, const char* help) {
  struct State {
    EtcdFlags etcd;
    std::string name;
  };
  auto s = std::make_shared<State>();
  auto* cmd = barrier->add_subcommand(verb, help);
  cmd->add_option("NAME", s->name, "the barrier")->required();
  AddEtcdFlags(cmd, &s->etcd);
  const std::string v = verb;
  cmd->callback([s, v] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    auto client = ConnectOrExitCoordination(s->etcd);
    if (v == "remove") {
      auto resp = client->RemoveBarrier(s->name);
      if (!resp.ok()) ExitWithStatus(resp.status());
      if (format == OutputFormat::kJson) {
        std::cout << client::GoJson(*resp) << "\n";
      } else {
        std::cout << "removed " << s->name;
        if (resp->cancelled_successors_size() > 0)
          std::cout << "; cancelled " << Join(resp->cancelled_successors());
        std::cout << "\n";
      }
      return;
    }
    auto resp = v == "cancel" ? client->CancelBarrier(s->name) : client->BarrierStatus(s->name);
    if (!resp.ok()) ExitWithStatus(resp.status());
    std::cout << Render(format, *resp);
  });
}

void AddList(CLI::App* barrier) {
  struct State {
    EtcdFlags etcd;
    std::string prefix;
  };
  auto s = std::make_shared<State>();
  auto* cmd = barrier->add_subcommand("list", "every barrier (ended ones until removed)");
  cmd->add_option("PREFIX", s->prefix, "only barriers whose name starts with this");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    auto resp = ConnectOrExitCoordination(s->etcd)->ListBarriers(s->prefix);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson) {
      std::cout << client::GoJson(*resp) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const pb::BarrierInfo& b : resp->barriers())
      rows.push_back(Row(b));
    if (format == OutputFormat::kTable) {
      std::cout << client::RenderTable(kHeader, rows);
      return;
    }
    for (const pb::BarrierInfo& b : resp->barriers())
      std::cout << Simple(b);
  });
}

void AddBarrierCommands(CLI::App& app) {
  auto* barrier = app.add_subcommand("barrier", "native barriers of a Trinity cluster");
  barrier->require_subcommand(1);
  AddCreate(barrier);
  AddArrive(barrier);
  AddOneName(barrier, "status", "one barrier: state, arrivals, who is absent");
  AddList(barrier);
  AddOneName(barrier, "cancel", "end a waiting or collecting barrier as cancelled");
  AddOneName(barrier, "remove", "drop a barrier (barriers after it are cancelled)");
}

const CommandRegistration kBarrierCommand("barrier", &AddBarrierCommands);

}  // namespace
}  // namespace tri::cli
