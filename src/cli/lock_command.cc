// `tri lock acquire|release|list`: the native fenced locks of a cluster
// (docs/coordination.md, "Locks"; service trinity.v1.Locks).
//
// `tri lock acquire NAME [--owner O] [--ttl S] [--wait D] [-- COMMAND...]`
// takes the lock under a lease of its own (TTL S seconds), keeps that lease
// alive, and prints the owner, token and fence key. With a COMMAND it runs it
// with TRI_LOCK_NAME, TRI_LOCK_OWNER, TRI_LOCK_TOKEN and TRI_LOCK_FENCE_KEY in
// its environment, releases the lock when it exits and exits with its status;
// without one it holds the lock until SIGINT/SIGTERM, then releases it. If the
// lease is lost while held (the process was stopped past its TTL, or no
// keep-alive was answered for a whole TTL), it says so, stops the command (SIGTERM) and exits 1:
// the lock may be someone else's now, and the fence refuses this holder's writes.
//
// Exit status: 0 ok (or the command's status), 1 a request error, the lock not
// acquired within --wait, or the lock lost; 2 usage.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
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
#include "client/coordination_client.h"
#include "client/etcdctl_format.h"
#include "client/lease_client.h"
#include "client/lease_format.h"

namespace tri::cli {
namespace {

namespace pb = ::trinity::v1;

std::unique_ptr<client::CoordinationClient> ConnectCoordinationOrExit(const EtcdFlags& flags) {
  auto client = client::CoordinationClient::Connect(ClientOptionsOrExit(flags));
  if (!client.ok()) ExitWithStatus(client.status());
  return std::move(*client);
}

std::string DefaultOwner() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return std::string(host) + "-" + std::to_string(::getpid());
}

std::string RenderAcquired(OutputFormat format, const std::string& name, const std::string& owner,
                           const pb::AcquireLockResponse& r) {
  if (format == OutputFormat::kJson) {
    pb::LockInfo info;
    info.set_name(name);
    info.set_holder(owner);
    info.set_token(r.token());
    info.set_hold_count(r.hold_count());
    info.set_lease(r.lease());
    info.set_fence_key(r.fence_key());
    return client::GoJson(info) + "\n";
  }
  const std::string lease = r.lease() == 0 ? "" : client::LeaseIdHex(r.lease());
  if (format == OutputFormat::kTable) {
    return client::RenderTable({"NAME", "OWNER", "TOKEN", "HOLDS", "LEASE", "FENCE KEY"},
                               {{name, owner, std::to_string(r.token()),
                                 std::to_string(r.hold_count()), lease, r.fence_key()}});
  }
  return "name: " + name + "\nowner: " + owner + "\ntoken: " + std::to_string(r.token()) +
         "\nfence_key: " + r.fence_key() + "\nlease: " + lease + "\n";
}

// Holding the lock: the lease's keep-alives, the command, the signals.
class Holder {
 public:
  Holder(const EtcdFlags& flags, std::int64_t lease, std::int64_t ttl_s)
      : flags_(flags), lease_(lease), ttl_s_(ttl_s) {}

  // Keeps the lease alive (a third of its TTL apart) until Stop or its loss:
  // an answer of TTL 0 (the lease is gone), or no answer for a whole TTL (a
  // failed keep-alive is retried every kRetry meanwhile: a leader change is
  // not a loss).
  void KeepAlive() {
    constexpr auto kRetry = std::chrono::milliseconds(250);
    const auto ttl = std::chrono::seconds(ttl_s_);
    auto last_ok = std::chrono::steady_clock::now();
    std::unique_ptr<client::LeaseClient> client;
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      Result<etcdserverpb::LeaseKeepAliveResponse> resp = Unavailable("not connected");
      if (client == nullptr) {
        auto connected = client::LeaseClient::Connect(ClientOptionsOrExit(flags_));
        if (connected.ok()) {
          client = std::move(*connected);
        } else {
          resp = connected.status();
        }
      }
      if (client != nullptr) resp = client->KeepAliveOnce(lease_);
      lock.lock();
      if (stop_) break;
      if (resp.ok() && resp->ttl() <= 0) {
        lost_ = "its lease expired";
        break;
      }
      if (resp.ok()) {
        last_ok = std::chrono::steady_clock::now();
        cv_.wait_for(lock, std::chrono::milliseconds(resp->ttl() * 1000 / 3),
                     [&] { return stop_; });
        continue;
      }
      if (std::chrono::steady_clock::now() - last_ok >= ttl) {
        lost_ = "no keep-alive answered for its TTL: " + resp.status().message();
        break;
      }
      cv_.wait_for(lock, kRetry, [&] { return stop_; });
    }
    stop_ = true;
    cv_.notify_all();
  }

  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  void WaitForStop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_; });
  }
  std::string lost() {
    std::lock_guard lock(mu_);
    return lost_;
  }

 private:
  const EtcdFlags& flags_;
  const std::int64_t lease_;
  const std::int64_t ttl_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::string lost_;  // non-empty: the lease is gone
};

// Runs `argv` with `env` added; answers the child's pid (exits 1 when fork fails).
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const pid_t pid = ::fork();
  if (pid < 0) ExitWithError(kExitRequestError, "Error: cannot fork the command");
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    for (const std::string& e : env)
      ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "Error: cannot run %s\n", args[0]);
    ::_exit(127);
  }
  return pid;
}

struct AcquireState {
  EtcdFlags etcd;
  std::string name;
  std::string owner;
  std::int64_t ttl = 10;
  std::string wait = "1440m";  // the server's longest wait, a day
  std::vector<std::string> command;
};

void RunAcquire(const AcquireState& s) {
  const OutputFormat format = OutputFormatOrExit(s.etcd);
  if (s.ttl <= 0) ExitWithError(kExitUsage, "Error: --ttl must be a positive number of seconds");
  const std::chrono::milliseconds wait = ParseDurationOrExit("--wait", s.wait);
  const std::string owner = s.owner.empty() ? DefaultOwner() : s.owner;

  // Signals go to one thread (sigwait); block them before any thread starts.
  std::signal(SIGINT, SIG_DFL);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto client = ConnectCoordinationOrExit(s.etcd);
  pb::AcquireLockRequest request;
  request.set_name(s.name);
  request.set_owner(owner);
  request.set_ttl_seconds(s.ttl);
  request.set_wait_timeout_ms(static_cast<std::uint64_t>(wait.count()));
  auto acquired = client->Acquire(request);
  if (!acquired.ok()) ExitWithStatus(acquired.status());
  if (!acquired->acquired()) {
    ExitWithError(kExitRequestError,
                  "Error: lock " + s.name + " not acquired within " + s.wait +
                      " (place in the queue: " + std::to_string(acquired->position()) + ")");
  }
  std::cout << RenderAcquired(format, s.name, owner, *acquired) << std::flush;

  Holder holder(s.etcd, acquired->lease(), s.ttl);
  std::thread keep_alive([&holder] { holder.KeepAlive(); });
  pid_t child = 0;
  int child_status = 0;
  std::thread reaper;
  if (!s.command.empty()) {
    child = Spawn(s.command, {"TRI_LOCK_NAME=" + s.name, "TRI_LOCK_OWNER=" + owner,
                              "TRI_LOCK_TOKEN=" + std::to_string(acquired->token()),
                              "TRI_LOCK_FENCE_KEY=" + acquired->fence_key()});
    reaper = std::thread([&holder, &child_status, child] {
      while (::waitpid(child, &child_status, 0) < 0 && errno == EINTR) {
      }
      holder.Stop();
    });
  }
  std::thread signal_watcher([&signals, &holder, child] {
    int sig = 0;
    sigwait(&signals, &sig);
    // With a command, the command decides when to stop (the reaper sees it).
    if (child != 0) {
      ::kill(child, sig);
    } else {
      holder.Stop();
    }
  });
  signal_watcher.detach();

  holder.WaitForStop();
  std::string lost = holder.lost();
  if (!lost.empty() && child != 0) ::kill(child, SIGTERM);
  if (reaper.joinable()) reaper.join();
  keep_alive.join();
  if (lost.empty()) {
    // The command may have ended right after a pause the keep-alives did not
    // notice yet: whether the hold outlived it is the lease's answer.
    auto leases = client::LeaseClient::Connect(ClientOptionsOrExit(s.etcd));
    if (leases.ok()) {
      auto alive = (*leases)->KeepAliveOnce(acquired->lease());
      if (alive.ok() && alive->ttl() <= 0) lost = "its lease expired";
    }
  }
  if (!lost.empty()) {
    ExitWithError(kExitRequestError, "Error: lock " + s.name + " lost (" + lost +
                                         "); its fence now refuses token " +
                                         std::to_string(acquired->token()));
  }
  auto released = client->Release(s.name, owner);
  if (!released.ok()) ExitWithStatus(released.status());
  // The lease was granted for this hold only.
  if (auto leases = client::LeaseClient::Connect(ClientOptionsOrExit(s.etcd)); leases.ok())
    (void)(*leases)->Revoke(acquired->lease());
  if (child != 0) {
    const int code = WIFEXITED(child_status)     ? WEXITSTATUS(child_status)
                     : WIFSIGNALED(child_status) ? 128 + WTERMSIG(child_status)
                                                 : 1;
    if (code != 0) throw CLI::RuntimeError(code);
  }
}

void AddAcquire(CLI::App* lock) {
  auto s = std::make_shared<AcquireState>();
  auto* cmd = lock->add_subcommand("acquire",
                                   "take a lock and hold it (until Ctrl-C, or while COMMAND runs)");
  cmd->add_option("NAME", s->name, "the lock")->required();
  cmd->add_option("COMMAND", s->command, "run this while holding the lock (after --)");
  cmd->add_option("--owner", s->owner, "who holds it (default: host-pid)");
  cmd->add_option("--ttl", s->ttl, "the hold's lease TTL, seconds (kept alive while held)")
      ->capture_default_str();
  cmd->add_option("--wait", s->wait, "how long to wait behind other holders (0s: try once)")
      ->capture_default_str();
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] { RunAcquire(*s); });
}

void AddRelease(CLI::App* lock) {
  struct State {
    EtcdFlags etcd;
    std::string name;
    std::string owner;
  };
  auto s = std::make_shared<State>();
  auto* cmd = lock->add_subcommand("release", "undo one acquire of a holder");
  cmd->add_option("NAME", s->name, "the lock")->required();
  cmd->add_option("--owner", s->owner, "the holder")->required();
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    auto resp = ConnectCoordinationOrExit(s->etcd)->Release(s->name, s->owner);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson) {
      std::cout << client::GoJson(*resp) << "\n";
    } else {
      std::cout << "released " << s->name << " (holds left: " << resp->hold_count() << ")\n";
    }
  });
}

void AddList(CLI::App* lock) {
  struct State {
    EtcdFlags etcd;
    std::string prefix;
  };
  auto s = std::make_shared<State>();
  auto* cmd = lock->add_subcommand("list", "the locks held, with their queues");
  cmd->add_option("PREFIX", s->prefix, "only locks whose name starts with this");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    auto resp = ConnectCoordinationOrExit(s->etcd)->ListLocks(s->prefix);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson) {
      std::cout << client::GoJson(*resp) << "\n";
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const pb::LockInfo& l : resp->locks()) {
      std::string waiters;
      for (const pb::LockWaiter& w : l.waiters())
        waiters += (waiters.empty() ? "" : ",") + w.owner();
      rows.push_back({l.name(), l.holder(), std::to_string(l.token()),
                      std::to_string(l.hold_count()),
                      l.lease() == 0 ? "" : client::LeaseIdHex(l.lease()), waiters});
    }
    if (format == OutputFormat::kTable) {
      std::cout << client::RenderTable({"NAME", "HOLDER", "TOKEN", "HOLDS", "LEASE", "WAITERS"},
                                       rows);
      return;
    }
    for (const auto& r : rows) {
      std::cout << r[0] << " holder=" << r[1] << " token=" << r[2] << " holds=" << r[3]
                << " lease=" << r[4] << " waiters=" << r[5] << "\n";
    }
  });
}

void AddLockCommands(CLI::App& app) {
  auto* lock = app.add_subcommand("lock", "native fenced locks of a Trinity cluster");
  lock->require_subcommand(1);
  AddAcquire(lock);
  AddRelease(lock);
  AddList(lock);
}

const CommandRegistration kLockCommand("lock", &AddLockCommands);

}  // namespace
}  // namespace tri::cli
