// `tri endpoint status|health`: one request per endpoint, as etcdctl does, with
// its simple, json and table output.
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/etcd_flags.h"
#include "client/etcdctl_format.h"

namespace tri::cli {
namespace {

// A client for exactly one endpoint of `flags` (status and health describe one
// member each, so they must not fail over).
Result<std::unique_ptr<client::EtcdClient>> ConnectOne(const client::ClientOptions& base,
                                                       const std::string& endpoint) {
  client::ClientOptions options = base;
  options.endpoints = {endpoint};
  return client::EtcdClient::Connect(options);
}

void AddStatus(CLI::App* endpoint) {
  auto flags = std::make_shared<EtcdFlags>();
  auto* cmd = endpoint->add_subcommand("status", "print the status of each endpoint");
  AddEtcdFlags(cmd, flags.get());
  cmd->callback([flags] {
    const OutputFormat format = OutputFormatOrExit(*flags);
    const client::ClientOptions options = ClientOptionsOrExit(*flags);
    std::vector<std::pair<std::string, etcdserverpb::StatusResponse>> statuses;
    bool failed = false;
    for (const std::string& ep : options.endpoints) {
      auto client = ConnectOne(options, ep);
      Result<etcdserverpb::StatusResponse> status =
          client.ok() ? (*client)->Status(ep)
                      : Result<etcdserverpb::StatusResponse>(client.status());
      if (!status.ok()) {
        // etcdctl reports the failed endpoint and goes on with the others.
        std::cerr << "Failed to get the status of endpoint " << ep << " ("
                  << status.status().message() << ")\n";
        failed = true;
        continue;
      }
      statuses.emplace_back(ep, std::move(*status));
    }
    if (format == OutputFormat::kJson) {
      std::string out = "[";
      for (const auto& [ep, st] : statuses) {
        if (out.size() > 1) out += ",";
        out +=
            "{\"Endpoint\":" + client::GoJsonString(ep) + ",\"Status\":" + client::GoJson(st) + "}";
      }
      std::cout << out << "]\n";
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& [ep, st] : statuses)
        rows.push_back(client::EndpointStatusRow(ep, st));
      if (format == OutputFormat::kTable) {
        std::cout << client::RenderTable(client::EndpointStatusHeader(), rows);
      } else {
        for (const auto& row : rows) {
          std::string line;
          for (std::size_t i = 0; i < row.size(); ++i)
            line += (i == 0 ? "" : ", ") + row[i];
          std::cout << line << "\n";
        }
      }
    }
    if (failed) throw CLI::RuntimeError(kExitRequestError);
  });
}

struct Health {
  std::string endpoint;
  bool healthy = false;
  std::string took;
  std::string error;
};

// Healthy when a linearizable read of the key "health" succeeds (or is denied:
// permission checks run after consensus), as etcdctl's check.
Health CheckHealth(const client::ClientOptions& options, const std::string& ep) {
  Health h;
  h.endpoint = ep;
  auto client = ConnectOne(options, ep);
  if (!client.ok()) {
    h.error = client.status().message();
    return h;
  }
  const auto start = std::chrono::steady_clock::now();
  etcdserverpb::RangeRequest req;
  req.set_key("health");
  auto resp = (*client)->Range(req);
  h.took = client::GoDuration(std::chrono::steady_clock::now() - start);
  if (resp.ok() || resp.status().code() == StatusCode::kPermissionDenied)
    h.healthy = true;
  else
    h.error = resp.status().message();
  return h;
}

void AddHealth(CLI::App* endpoint) {
  auto flags = std::make_shared<EtcdFlags>();
  auto* cmd = endpoint->add_subcommand("health", "check the health of each endpoint");
  AddEtcdFlags(cmd, flags.get());
  cmd->callback([flags] {
    const OutputFormat format = OutputFormatOrExit(*flags);
    const client::ClientOptions options = ClientOptionsOrExit(*flags);
    // In parallel, as etcdctl, so one dead endpoint costs one timeout in all.
    std::vector<std::future<Health>> futures;
    for (const std::string& ep : options.endpoints)
      futures.push_back(std::async(std::launch::async, CheckHealth, options, ep));
    std::vector<Health> results;
    bool unhealthy = false;
    for (auto& f : futures) {
      results.push_back(f.get());
      unhealthy |= !results.back().error.empty();
    }
    if (format == OutputFormat::kJson) {
      std::string out = "[";
      for (const Health& h : results) {
        if (out.size() > 1) out += ",";
        out += "{\"endpoint\":" + client::GoJsonString(h.endpoint) +
               ",\"health\":" + (h.healthy ? "true" : "false") +
               ",\"took\":" + client::GoJsonString(h.took);
        if (!h.error.empty()) out += ",\"error\":" + client::GoJsonString(h.error);
        out += "}";
      }
      std::cout << out << "]\n";
    } else if (format == OutputFormat::kTable) {
      std::vector<std::vector<std::string>> rows;
      for (const Health& h : results)
        rows.push_back({h.endpoint, h.healthy ? "true" : "false", h.took, h.error});
      std::cout << client::RenderTable({"endpoint", "health", "took", "error"}, rows);
    } else {
      // etcdctl writes these lines to standard error.
      for (const Health& h : results) {
        if (h.error.empty())
          std::cerr << h.endpoint
                    << " is healthy: successfully committed proposal: took = " << h.took << "\n";
        else
          std::cerr << h.endpoint << " is unhealthy: failed to commit proposal: " << h.error
                    << "\n";
      }
    }
    if (unhealthy) ExitWithError(kExitRequestError, "Error: unhealthy cluster");
  });
}

void AddEndpointCommands(CLI::App& app) {
  auto* endpoint = app.add_subcommand("endpoint", "status and health of each endpoint");
  endpoint->require_subcommand(1);
  AddStatus(endpoint);
  AddHealth(endpoint);
}

const CommandRegistration kEndpointCommand("endpoint", &AddEndpointCommands);

}  // namespace
}  // namespace tri::cli
