// `tri watch KEY [RANGE_END] [--prefix] [--rev N] [--prev-kv]`: etcdctl's watch,
// with its simple and json output and its exit status when the server cancels
// the watch (5). Unlike etcdctl it names the endpoints it fails over between:
// when the member serving the watch goes away, the watch goes on from the next
// endpoint at the revision after the last event printed (client/watch_client.h).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/etcdctl_format.h"
#include "client/etcdctl_ops.h"
#include "client/watch_client.h"

namespace tri::cli {
namespace {

// etcdctl's ExitInterrupted: the watch was cancelled by the server.
constexpr int kExitInterrupted = 5;

void PrintKv(const mvccpb::KeyValue& kv) {
  std::cout << kv.key() << "\n" << kv.value() << "\n";
}

// etcdctl's simple printer: the type, the previous pair when asked, the pair.
void PrintSimple(const etcdserverpb::WatchResponse& response) {
  for (const mvccpb::Event& e : response.events()) {
    std::cout << (e.type() == mvccpb::Event::PUT ? "PUT" : "DELETE") << "\n";
    if (e.has_prev_kv()) PrintKv(e.prev_kv());
    PrintKv(e.kv());
  }
}

// etcdctl's json printer prints clientv3's WatchResponse struct.
void PrintJson(const etcdserverpb::WatchResponse& response) {
  std::string out = "{\"Header\":" + client::GoJson(response.header()) + ",\"Events\":";
  out += "[";
  for (int i = 0; i < response.events_size(); ++i) {
    if (i > 0) out += ",";
    out += client::GoJson(response.events(i));
  }
  out += "]";
  out += ",\"CompactRevision\":" + std::to_string(response.compact_revision()) +
         ",\"Canceled\":" + (response.canceled() ? "true" : "false") +
         ",\"Created\":" + (response.created() ? "true" : "false") + "}";
  std::cout << out << std::endl;
}

void InstallWatchCommand(CLI::App& app) {
  struct State {
    EtcdFlags etcd;
    std::vector<std::string> args;
    bool prefix = false;
    bool prev_kv = false;
    std::int64_t rev = 0;
  };
  auto s = std::make_shared<State>();
  auto* cmd =
      app.add_subcommand("watch", "watch a key or a range of keys for changes (etcdctl watch)");
  cmd->add_option("KEY [RANGE_END]", s->args, "the key, and the end of the range [KEY, RANGE_END)")
      ->expected(1, 2);
  cmd->add_flag("--prefix", s->prefix, "watch on a prefix");
  cmd->add_flag("--prev-kv", s->prev_kv,
                "get the previous key-value pair before the event happens");
  cmd->add_option("--rev", s->rev, "revision to start watching");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = OutputFormatOrExit(s->etcd);
    if (format == OutputFormat::kTable)
      ExitWithError(kExitUsage, "Error: table not supported as output format");
    if (s->prefix && s->args.size() == 2)
      ExitWithError(kExitUsage, "Error: unexpected RANGE_END with --prefix");
    const client::ClientOptions options = ClientOptionsOrExit(s->etcd);
    client::WatchSpec spec;
    spec.set_key(s->args[0]);
    if (s->args.size() == 2) spec.set_range_end(s->args[1]);
    if (s->prefix) spec.set_range_end(client::PrefixRangeEnd(s->args[0]));
    spec.set_start_revision(s->rev);
    spec.set_prev_kv(s->prev_kv);
    client::WatchClientOptions watch_options;
    watch_options.endpoints = options.endpoints;
    watch_options.dial_timeout = options.dial_timeout;
    watch_options.tls = options.tls;
    const client::WatchEnd end =
        client::RunWatch(watch_options, spec, [format](const etcdserverpb::WatchResponse& r) {
          if (format == OutputFormat::kJson) {
            PrintJson(r);
          } else {
            PrintSimple(r);
            std::cout.flush();
          }
          return true;
        });
    if (end.canceled_by_server) {
      std::cerr << "watch was canceled (" << end.status.message() << ")\n";
      ExitWithError(kExitInterrupted, "Error: watch is canceled by the server");
    }
    ExitWithStatus(end.status);
  });
}

const CommandRegistration kRegistration("watch", &InstallWatchCommand);

}  // namespace
}  // namespace tri::cli
