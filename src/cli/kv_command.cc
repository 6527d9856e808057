// `tri kv put|get|del|txn`: etcdctl's put, get, del and txn, with its flags and
// its simple and json output (table is refused, as etcdctl refuses it).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/etcdctl_format.h"
#include "client/etcdctl_ops.h"

namespace tri::cli {
namespace {

struct SimpleOptions {
  bool value_only = false;
};

void PrintKv(const mvccpb::KeyValue& kv, const SimpleOptions& o) {
  if (!o.value_only) std::cout << kv.key() << "\n";
  std::cout << kv.value() << "\n";
}

void PrintPut(const etcdserverpb::PutResponse& r, const SimpleOptions& o) {
  std::cout << "OK\n";
  if (r.has_prev_kv()) PrintKv(r.prev_kv(), o);
}

void PrintRange(const etcdserverpb::RangeResponse& r, bool count_only, const SimpleOptions& o) {
  for (const mvccpb::KeyValue& kv : r.kvs())
    PrintKv(kv, o);
  if (count_only) std::cout << r.count() << "\n";
}

void PrintDel(const etcdserverpb::DeleteRangeResponse& r, const SimpleOptions& o) {
  std::cout << r.deleted() << "\n";
  for (const mvccpb::KeyValue& kv : r.prev_kvs())
    PrintKv(kv, o);
}

void PrintTxn(const etcdserverpb::TxnRequest& req, const etcdserverpb::TxnResponse& r,
              const SimpleOptions& o) {
  std::cout << (r.succeeded() ? "SUCCESS" : "FAILURE") << "\n";
  const auto& ops = r.succeeded() ? req.success() : req.failure();
  for (int i = 0; i < r.responses_size(); ++i) {
    std::cout << "\n";
    const etcdserverpb::ResponseOp& op = r.responses(i);
    if (op.has_response_put()) {
      PrintPut(op.response_put(), o);
    } else if (op.has_response_range()) {
      const bool count_only =
          i < ops.size() && ops[i].has_request_range() && ops[i].request_range().count_only();
      PrintRange(op.response_range(), count_only, o);
    } else if (op.has_response_delete_range()) {
      PrintDel(op.response_delete_range(), o);
    } else {
      std::cout << "unexpected response " << op.ShortDebugString() << "\n";
    }
  }
}

// kv commands print simple or json; table is not a format for them.
OutputFormat KvFormatOrExit(const EtcdFlags& flags) {
  const OutputFormat format = OutputFormatOrExit(flags);
  if (format == OutputFormat::kTable)
    ExitWithError(kExitUsage, "Error: table not supported as output format");
  return format;
}

void PrintJson(const google::protobuf::Message& response) {
  std::cout << client::GoJson(response) << "\n";
}

void AddPut(CLI::App* kv) {
  struct State {
    EtcdFlags etcd;
    std::vector<std::string> args;
    client::PutFlags put;
  };
  auto s = std::make_shared<State>();
  auto* cmd = kv->add_subcommand(
      "put", "put KEY VALUE into the store (VALUE from stdin when only KEY is given)");
  cmd->add_option("KEY VALUE", s->args, "the key and its value")->expected(1, 2);
  cmd->add_flag("--prev-kv", s->put.prev_kv, "return the previous key-value pair");
  cmd->add_option("--lease", s->put.lease, "lease ID (in hex) to attach to the key");
  cmd->add_flag("--ignore-value", s->put.ignore_value, "update the key keeping its current value");
  cmd->add_flag("--ignore-lease", s->put.ignore_lease, "update the key keeping its current lease");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = KvFormatOrExit(s->etcd);
    if (s->args.size() == 1 && !s->put.ignore_value) {
      // etcdctl reads the value from stdin when only the key is given.
      std::string value(client::kMaxStdinValueBytes + 1, '\0');
      std::cin.read(value.data(), static_cast<std::streamsize>(value.size()));
      value.resize(static_cast<std::size_t>(std::cin.gcount()));
      if (value.size() > client::kMaxStdinValueBytes)
        ExitWithError(kExitUsage, "Error: value on stdin larger than " +
                                      std::to_string(client::kMaxStdinValueBytes) + " bytes");
      s->args.push_back(std::move(value));
    }
    auto req = client::BuildPutRequest(s->args, s->put);
    if (!req.ok()) ExitWithStatus(req.status(), kExitUsage);
    auto client = ConnectOrExit(s->etcd);
    auto resp = client->Put(*req);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson)
      PrintJson(*resp);
    else
      PrintPut(*resp, {});
  });
}

void AddGet(CLI::App* kv) {
  struct State {
    EtcdFlags etcd;
    std::vector<std::string> args;
    client::GetFlags get;
    bool print_value_only = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = kv->add_subcommand("get", "get a key or a range of keys");
  cmd->add_option("KEY [RANGE_END]", s->args, "the key, and the end of the range [KEY, RANGE_END)")
      ->expected(1, 2);
  cmd->add_flag("--prefix", s->get.prefix, "get keys with matching prefix");
  cmd->add_flag("--from-key", s->get.from_key, "get keys that are >= the given key (byte compare)");
  cmd->add_option("--limit", s->get.limit, "maximum number of results");
  cmd->add_option("--rev", s->get.rev, "the revision to read at");
  cmd->add_option("--sort-by", s->get.sort_by,
                  "sort target: CREATE, KEY, MODIFY, VALUE or VERSION");
  cmd->add_option("--order", s->get.order, "order of results: ASCEND or DESCEND");
  cmd->add_flag("--keys-only", s->get.keys_only, "get only the keys");
  cmd->add_flag("--count-only", s->get.count_only, "get only the count");
  cmd->add_flag("--print-value-only", s->print_value_only, "only write values (simple format)");
  cmd->add_option("--consistency", s->get.consistency, "linearizable (l) or serializable (s)")
      ->capture_default_str();
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = KvFormatOrExit(s->etcd);
    if (s->print_value_only && format != OutputFormat::kSimple)
      ExitWithError(kExitUsage, "Error: print-value-only is only for `--write-out=simple`");
    auto req = client::BuildGetRequest(s->args, s->get);
    if (!req.ok()) ExitWithStatus(req.status(), kExitUsage);
    auto client = ConnectOrExit(s->etcd);
    auto resp = client->Range(*req);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson)
      PrintJson(*resp);
    else
      PrintRange(*resp, s->get.count_only, {s->print_value_only});
  });
}

void AddDel(CLI::App* kv) {
  struct State {
    EtcdFlags etcd;
    std::vector<std::string> args;
    client::DelFlags del;
  };
  auto s = std::make_shared<State>();
  auto* cmd = kv->add_subcommand("del", "delete a key or a range of keys");
  cmd->add_option("KEY [RANGE_END]", s->args, "the key, and the end of the range [KEY, RANGE_END)")
      ->expected(1, 2);
  cmd->add_flag("--prefix", s->del.prefix, "delete keys with matching prefix");
  cmd->add_flag("--from-key", s->del.from_key, "delete keys that are >= the given key");
  cmd->add_flag("--prev-kv", s->del.prev_kv, "return the deleted key-value pairs");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = KvFormatOrExit(s->etcd);
    auto req = client::BuildDelRequest(s->args, s->del);
    if (!req.ok()) ExitWithStatus(req.status(), kExitUsage);
    auto client = ConnectOrExit(s->etcd);
    auto resp = client->DeleteRange(*req);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson)
      PrintJson(*resp);
    else
      PrintDel(*resp, {});
  });
}

void AddTxn(CLI::App* kv) {
  struct State {
    EtcdFlags etcd;
    bool interactive = false;
  };
  auto s = std::make_shared<State>();
  auto* cmd = kv->add_subcommand(
      "txn",
      "a transaction read from stdin: compares, a blank line, success ops, a blank line, "
      "failure ops (etcdctl's txn syntax)");
  cmd->add_flag("-i,--interactive", s->interactive, "prompt for each section");
  AddEtcdFlags(cmd, &s->etcd);
  cmd->callback([s] {
    const OutputFormat format = KvFormatOrExit(s->etcd);
    auto req = client::ParseTxn(std::cin, s->interactive ? &std::cout : nullptr);
    if (!req.ok()) ExitWithStatus(req.status(), kExitUsage);
    auto client = ConnectOrExit(s->etcd);
    auto resp = client->Txn(*req);
    if (!resp.ok()) ExitWithStatus(resp.status());
    if (format == OutputFormat::kJson)
      PrintJson(*resp);
    else
      PrintTxn(*req, *resp, {});
  });
}

void AddKvCommands(CLI::App& app) {
  auto* kv = app.add_subcommand("kv", "read and write keys of an etcd-compatible cluster");
  kv->require_subcommand(1);
  AddPut(kv);
  AddGet(kv);
  AddDel(kv);
  AddTxn(kv);
}

const CommandRegistration kKvCommand("kv", &AddKvCommands);

}  // namespace
}  // namespace tri::cli
