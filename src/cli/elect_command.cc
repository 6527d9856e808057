// `tri elect NAME [PROPOSAL]` and `tri elect -l NAME`: etcdctl's elect on the
// client recipes of client/concurrency.h (they run against etcd too).
//
// Campaigning: grants a session lease (--ttl, kept alive by client::Session),
// waits to lead, prints the leader key and the proposal as etcdctl does (simple:
// "NAME/<lease hex>" then the value), then "token N" — the term's fencing token,
// the leader key's create revision, strictly increasing across terms — and holds
// leadership until SIGINT/SIGTERM, which resigns, revokes the lease and exits 0.
// A signal while still waiting exits 1 ("Error: context canceled", as
// etcdctl). A session whose lease is lost exits 1 ("Error: elect: session
// expired").
//
// Observing (-l): prints each leader when it first leads and each value it
// proclaims, until a signal (exit 0).
//
// -w json prints one object per line instead, as etcdctl's json printer
// writes messages (bytes in base64): each observed {"header","kv"}; the
// campaign's {"header","kv":{key, create_revision, value, lease},"token"}.
//
// The recipes talk to the first endpoint that accepts a connection within
// --dial-timeout (no failover while waiting; a lost member ends the command
// with its error).
#include <grpcpp/channel.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/concurrency.h"
#include "client/etcd_client.h"
#include "client/etcdctl_format.h"
#include "client/failover.h"
#include "client/session.h"

namespace tri::cli {
namespace {

// Exits at once, flushing what was printed (other threads may be inside gRPC
// calls, so no static destructors run).
[[noreturn]] void ExitNow(int code) {
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(code);
}

std::shared_ptr<grpc::Channel> DialOrExit(const client::ClientOptions& options) {
  for (const std::string& endpoint : options.endpoints) {
    auto channel = client::DialChannel(endpoint, 0, options.max_receive_message_bytes, options.tls);
    if (channel->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout))
      return channel;
  }
  ExitWithStatus(DeadlineExceeded("context deadline exceeded"));
}

void PrintLeader(bool json, const client::LeaderValue& leader) {
  if (json) {
    std::cout << "{\"header\":" << client::GoJson(leader.header)
              << ",\"kv\":" << client::GoJson(leader.kv) << "}" << std::endl;
  } else {
    std::cout << leader.kv.key() << "\n" << leader.kv.value() << std::endl;
  }
}

// Blocks SIGINT and SIGTERM for every thread started after it, so that one
// thread takes them with sigwait.
sigset_t BlockStopSignals() {
  std::signal(SIGINT, SIG_DFL);  // a background job starts with SIGINT ignored
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

struct LeadState {
  std::mutex mu;
  std::condition_variable changed;
  bool stop = false;
  bool leading = false;
};

void Observe(const client::RecipeClient& recipes, const std::string& name, bool json) {
  const Status observed = client::Observe(recipes, name, [json](const client::LeaderValue& l) {
    PrintLeader(json, l);
    return true;
  });
  ExitWithStatus(observed);
}

void Campaign(const client::RecipeClient& recipes, const std::string& name,
              const std::string& proposal, std::int64_t ttl_s, bool json, const sigset_t& signals) {
  auto session = client::Session::Start(recipes, ttl_s);
  if (!session.ok()) ExitWithStatus(session.status());
  client::Session& s = **session;
  auto state = std::make_shared<LeadState>();
  // The signal thread: a stop while waiting ends the command; a stop while
  // leading wakes the main thread, which resigns.
  std::thread([signals, state, &s] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::unique_lock lock(state->mu);
    if (!state->leading) {
      (void)s.Close();  // releases the waiting key with the lease
      std::cerr << "Error: context canceled" << std::endl;
      ExitNow(kExitRequestError);
    }
    state->stop = true;
    state->changed.notify_all();
  }).detach();

  Result<client::Campaigned> won = client::Campaign(recipes, name, s.lease(), proposal);
  if (!won.ok()) ExitWithStatus(won.status());
  {
    std::lock_guard lock(state->mu);
    state->leading = true;
  }
  if (json) {
    // The observer's form (header, kv) plus the token.
    mvccpb::KeyValue kv;
    kv.set_key(won->leader.key);
    kv.set_create_revision(won->leader.rev);
    kv.set_value(proposal);
    kv.set_lease(won->leader.lease);
    std::cout << "{\"header\":" << client::GoJson(won->header) << ",\"kv\":" << client::GoJson(kv)
              << ",\"token\":" << won->leader.rev << "}" << std::endl;
  } else {
    std::cout << won->leader.key << "\n" << proposal << "\ntoken " << won->leader.rev << std::endl;
  }

  std::unique_lock lock(state->mu);
  while (!state->stop && !s.expired())
    state->changed.wait_for(lock, std::chrono::milliseconds(200));
  if (!state->stop) {
    std::cerr << "Error: elect: session expired" << std::endl;
    ExitNow(kExitRequestError);
  }
  const Result<etcdserverpb::ResponseHeader> resigned = client::Resign(recipes, won->leader);
  const Status closed = s.Close();
  if (!resigned.ok()) ExitWithStatus(resigned.status());
  if (!closed.ok()) ExitWithStatus(closed);
  ExitNow(0);
}

void InstallElectCommand(CLI::App& app) {
  struct State {
    EtcdFlags etcd;
    std::vector<std::string> args;
    bool listen = false;
    std::int64_t ttl_s = 60;
  };
  auto s = std::make_shared<State>();
  auto* cmd = app.add_subcommand(
      "elect", "campaign in a leader election and hold leadership, or observe it (etcdctl elect)");
  cmd->add_option("NAME [PROPOSAL]", s->args, "the election, and the value to lead with")
      ->required()
      ->expected(1, 2);
  cmd->add_flag("-l,--listen", s->listen, "observation mode: print each leader");
  cmd->add_option("--ttl", s->ttl_s, "the session lease's TTL in seconds")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{9000000000}));
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    if (format == OutputFormat::kTable)
      ExitWithError(kExitUsage, "Error: table not supported as output format");
    if (s->listen && s->args.size() != 1)
      ExitWithError(kExitUsage, "Error: elect -l takes one argument: the election name");
    if (!s->listen && s->args.size() != 2)
      ExitWithError(kExitUsage, "Error: elect takes two arguments: the name and a proposal");
    const sigset_t signals = BlockStopSignals();
    const client::ClientOptions options = ClientOptionsOrExit(s->etcd);
    const client::RecipeClient recipes(DialOrExit(options));
    const bool json = format == OutputFormat::kJson;
    if (s->listen) {
      std::thread([signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        ExitNow(0);
      }).detach();
      Observe(recipes, s->args[0], json);
    }
    Campaign(recipes, s->args[0], s->args[1], s->ttl_s, json, signals);
  });
}

const CommandRegistration kRegistration("elect", &InstallElectCommand);

}  // namespace
}  // namespace tri::cli
