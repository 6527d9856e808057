// `tri saga define|start|get|list|watch|abort`: the saga API of a cluster
// (docs/sagas-api.md) over gRPC, with --endpoints and -w table|json.
// Exit statuses: 0 ok, 1 a request error ("Error: <server's message>"), 2 a
// usage error; `start --wait` and `watch` end with the saga's state as
// `tri run` does: completed 0, failed 1, compensated 3, compensation_failed 4.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/saga_client.h"
#include "client/saga_format.h"
#include "client/saga_json.h"
#include "saga/saga_id.h"
#include "saga/spec.h"

namespace tri::cli {
namespace {

struct SagaFlags {
  EtcdFlags connection;
  std::string write_out = "table";
};

struct SagaArgs {
  SagaFlags flags;
  std::string target;  // FILE, NAME or ID
  std::vector<std::string> inputs;
  std::string id;
  std::uint32_t version = 0;
  bool wait = false;
  std::string state;
  std::string name;
  std::uint32_t limit = 100;
  std::uint64_t from = 0;
};

void AddSagaFlags(CLI::App* cmd, SagaFlags* flags) {
  AddEtcdFlags(cmd, &flags->connection, /*with_write_out=*/false);
  cmd->add_option("-w,--write-out", flags->write_out, "output format: table or json")
      ->capture_default_str();
}

bool Json(const SagaFlags& flags) {
  if (flags.write_out == "json") return true;
  if (flags.write_out == "table") return false;
  ExitWithError(kExitUsage,
                "Error: unknown output format '" + flags.write_out + "' (use table or json)");
}

std::unique_ptr<client::SagaClient> ConnectOrExit(const SagaFlags& flags) {
  auto c = client::SagaClient::Connect(ClientOptionsOrExit(flags.connection));
  if (!c.ok()) ExitWithStatus(c.status());
  return std::move(*c);
}

void PrintJson(const nlohmann::json& json) {
  std::cout << client::DumpJson(json, 2) << "\n";
}

// A saga document from FILE, or from standard input for "-"; bounded by the DSL's limit.
std::string ReadDocumentOrExit(const std::string& path) {
  const std::uint64_t limit = saga::SagaLimits{}.max_document_bytes;
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) ExitWithError(kExitUsage, "Error: " + path + ": cannot open for reading");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = std::move(buffer).str();
  }
  if (text.size() > limit)
    ExitWithError(kExitUsage, "Error: " + path + ": " + std::to_string(text.size()) +
                                  " bytes, more than the limit of " + std::to_string(limit) +
                                  " bytes");
  return text;
}

// FILE or NAME: a readable file (or "-") is a document; a word that looks like
// a path but names no file is a usage error rather than an unknown definition.
bool IsDocumentArgument(const std::string& arg) {
  if (arg == "-") return true;
  if (std::ifstream(arg).good()) return true;
  const auto ends_with = [&](std::string_view suffix) {
    return arg.size() >= suffix.size() &&
           arg.compare(arg.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (arg.find('/') != std::string::npos || ends_with(".yaml") || ends_with(".yml") ||
      ends_with(".json"))
    ExitWithError(kExitUsage, "Error: " + arg + ": no such file");
  return false;
}

void CheckSagaIdOrExit(const std::string& flag, const std::string& id) {
  if (Status st = saga::ValidateSagaId(id); !st.ok())
    ExitWithError(kExitUsage, "Error: " + flag + ": " + st.message());
}

// Streams the saga's events until it finishes, then prints its summary and
// ends with the exit status of its state.
[[noreturn]] void WatchToEnd(client::SagaClient& client, const std::string& saga_id,
                             std::uint64_t from, bool json, bool print_events) {
  auto saga = client.Get(saga_id);
  if (!saga.ok()) ExitWithStatus(saga.status());
  const std::uint64_t base_ms = saga->created_ms();
  const Status st = client.Watch(saga_id, from, [&](const trinity::v1::WatchSagaResponse& batch) {
    if (!print_events) return true;
    for (const trinity::v1::SagaEvent& e : batch.events()) {
      if (json)
        std::cout << client::DumpJson(client::SagaEventToJson(e)) << "\n";
      else
        std::cout << client::SagaEventLine(e, saga_id, base_ms) << "\n";
    }
    std::cout.flush();
    return true;
  });
  if (!st.ok()) ExitWithStatus(st);
  saga = client.Get(saga_id);
  if (!saga.ok()) ExitWithStatus(saga.status());
  if (json && !print_events)
    PrintJson(client::SagaToJson(*saga));
  else if (!json)
    std::cout << client::SagaSummary(*saga);
  std::cout.flush();
  const auto code = client::ExitCodeOfSagaState(saga->state());
  if (!code)
    ExitWithError(kExitRequestError, "Error: saga " + saga_id +
                                         " ended its event stream "
                                         "in state " +
                                         saga->state());
  throw CLI::RuntimeError(*code);
}

void Define(const SagaArgs& args) {
  const bool json = Json(args.flags);
  trinity::v1::DefineSagaRequest request;
  request.set_document(ReadDocumentOrExit(args.target));
  request.set_source_name(args.target == "-" ? "<stdin>" : args.target);
  auto client = ConnectOrExit(args.flags);
  auto reply = client->Define(request);
  if (!reply.ok()) ExitWithStatus(reply.status());
  if (json) return PrintJson(client::DefineSagaResponseToJson(*reply));
  std::cout << (reply->already_existed() ? "unchanged: " : "defined: ") << reply->name()
            << " version " << reply->version() << "\n";
}

void Start(const SagaArgs& args) {
  const bool json = Json(args.flags);
  trinity::v1::StartSagaRequest request;
  if (IsDocumentArgument(args.target)) {
    if (args.version != 0) ExitWithError(kExitUsage, "Error: --version needs a definition NAME");
    request.set_document(ReadDocumentOrExit(args.target));
  } else {
    request.set_definition_name(args.target);
    request.set_definition_version(args.version);
  }
  for (const std::string& assignment : args.inputs) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      ExitWithError(kExitUsage, "Error: --input '" + assignment + "': expected NAME=VALUE");
    const std::string name = assignment.substr(0, eq);
    if (request.inputs().contains(name))
      ExitWithError(kExitUsage, "Error: --input " + name + " is given twice");
    (*request.mutable_inputs())[name] = assignment.substr(eq + 1);
  }
  if (!args.id.empty()) {
    CheckSagaIdOrExit("--id", args.id);
    request.set_saga_id(args.id);
  }
  auto client = ConnectOrExit(args.flags);
  auto reply = client->Start(request);
  if (!reply.ok()) ExitWithStatus(reply.status());
  if (json && !args.wait) return PrintJson(client::StartSagaResponseToJson(*reply));
  if (!json) {
    std::cout << (reply->already_existed() ? "exists: saga " : "started: saga ") << reply->saga_id()
              << "\n";
    std::cout.flush();
  }
  if (args.wait) WatchToEnd(*client, reply->saga_id(), 0, json, /*print_events=*/!json);
}

void Get(const SagaArgs& args) {
  const bool json = Json(args.flags);
  CheckSagaIdOrExit("ID", args.target);
  auto client = ConnectOrExit(args.flags);
  auto saga = client->Get(args.target);
  if (!saga.ok()) ExitWithStatus(saga.status());
  if (json) return PrintJson(client::SagaToJson(*saga));
  std::cout << client::RenderSagaDetail(*saga);
}

void List(const SagaArgs& args) {
  const bool json = Json(args.flags);
  if (args.limit == 0) ExitWithError(kExitUsage, "Error: --limit must be at least 1");
  auto client = ConnectOrExit(args.flags);
  // Pages of at most 1000 (the server's bound) until --limit sagas or the end.
  trinity::v1::ListSagasResponse all;
  trinity::v1::ListSagasRequest request;
  request.set_state(args.state);
  request.set_definition_name(args.name);
  for (;;) {
    const std::uint32_t left = args.limit - static_cast<std::uint32_t>(all.sagas_size());
    request.set_limit(std::min<std::uint32_t>(left, 1000));
    auto page = client->List(request);
    if (!page.ok()) ExitWithStatus(page.status());
    for (trinity::v1::Saga& saga : *page->mutable_sagas())
      *all.add_sagas() = std::move(saga);
    all.set_next_page_token(page->next_page_token());
    if (page->next_page_token().empty() || all.sagas_size() >= static_cast<int>(args.limit)) break;
    request.set_page_token(page->next_page_token());
  }
  if (json) return PrintJson(client::ListSagasResponseToJson(all));
  std::cout << client::RenderSagaList(all);
  if (!all.next_page_token().empty()) std::cout << "(more sagas: raise --limit to see them)\n";
}

void Watch(const SagaArgs& args) {
  const bool json = Json(args.flags);
  CheckSagaIdOrExit("ID", args.target);
  auto client = ConnectOrExit(args.flags);
  WatchToEnd(*client, args.target, args.from, json, /*print_events=*/true);
}

void Abort(const SagaArgs& args) {
  const bool json = Json(args.flags);
  CheckSagaIdOrExit("ID", args.target);
  auto client = ConnectOrExit(args.flags);
  auto saga = client->Abort(args.target);
  if (!saga.ok()) ExitWithStatus(saga.status());
  if (json) return PrintJson(client::SagaToJson(*saga));
  std::cout << "abort requested: saga " << saga->id() << " is " << saga->state()
            << (saga->compensating() ? " (compensating)" : "") << "\n";
}

void InstallSagaCommand(CLI::App& app) {
  auto* saga = app.add_subcommand("saga",
                                  "sagas on a cluster: define, start, get, list, watch, "
                                  "abort (docs/sagas-api.md)");
  saga->require_subcommand(1);

  const auto sub = [saga](const char* name, const char* help, void (*run)(const SagaArgs&)) {
    auto args = std::make_shared<SagaArgs>();
    CLI::App* cmd = saga->add_subcommand(name, help);
    AddSagaFlags(cmd, &args->flags);
    cmd->callback([args, run] { run(*args); });
    return std::make_pair(cmd, args);
  };

  {
    auto [cmd, args] =
        sub("define", "register a saga definition (a new version if it changed)", &Define);
    cmd->add_option("FILE", args->target, "saga document (YAML or JSON), or - for standard input")
        ->required();
  }
  {
    auto [cmd, args] = sub("start",
                           "start a saga of a definition NAME, or of FILE (defined inline); "
                           "--wait: exit 0 completed, 1 failed, 3 compensated, 4 "
                           "compensation_failed",
                           &Start);
    cmd->add_option("FILE|NAME", args->target,
                    "saga document, - for standard input, or the "
                    "name of a registered definition")
        ->required();
    cmd->add_option("--input", args->inputs, "saga input NAME=VALUE (repeatable)");
    cmd->add_option("--id", args->id,
                    "saga id (default: a new ULID); starting an existing id returns that saga");
    cmd->add_option("--version", args->version, "definition version (default: the newest)");
    cmd->add_flag("--wait", args->wait, "follow the saga to its end and exit with its outcome");
  }
  {
    auto [cmd, args] = sub("get", "show a saga with its steps", &Get);
    cmd->add_option("ID", args->target, "saga id")->required();
  }
  {
    auto [cmd, args] = sub("list", "list sagas, oldest first", &List);
    cmd->add_option("--state", args->state,
                    "only sagas in this state: running, completed, failed, compensated, "
                    "compensation_failed");
    cmd->add_option("--name", args->name, "only sagas of this definition");
    cmd->add_option("--limit", args->limit, "show at most this many")->capture_default_str();
  }
  {
    auto [cmd, args] = sub("watch",
                           "follow a saga's events to its end; exit 0 completed, 1 failed, 3 "
                           "compensated, 4 compensation_failed",
                           &Watch);
    cmd->add_option("ID", args->target, "saga id")->required();
    cmd->add_option("--from", args->from, "first event position (default: the first event)");
  }
  {
    auto [cmd, args] =
        sub("abort", "abort a running saga (its completed steps are compensated)", &Abort);
    cmd->add_option("ID", args->target, "saga id")->required();
  }
}

const CommandRegistration kSagaCommand("saga", &InstallSagaCommand);

}  // namespace
}  // namespace tri::cli
