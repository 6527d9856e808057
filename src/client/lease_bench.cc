#include "client/lease_bench.h"

#include <grpcpp/client_context.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "client/etcd_client.h"
#include "client/failover.h"
#include "client/lease_client.h"

namespace tri::client {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Status ValidateLeaseBenchOptions(const LeaseBenchOptions& o) {
  if (o.endpoints.empty()) return InvalidArgument("bench lease: --endpoints is empty");
  if (o.clients < 1 || o.clients > kMaxLeaseBenchClients)
    return InvalidArgument("bench lease: --clients must be in 1.." +
                           std::to_string(kMaxLeaseBenchClients));
  if (o.conns < 1 || o.conns > kMaxLeaseBenchConns || o.conns > o.clients)
    return InvalidArgument("bench lease: --conns must be in 1..min(--clients, " +
                           std::to_string(kMaxLeaseBenchConns) + ")");
  if (o.duration.count() <= 0 || o.duration > kMaxLeaseBenchDuration)
    return InvalidArgument("bench lease: --duration must be in (0, " +
                           std::to_string(kMaxLeaseBenchDuration.count()) + "s]");
  if (o.lease_ttl_s < 1 || o.lease_ttl_s > 3600)
    return InvalidArgument("bench lease: --lease-ttl must be in 1..3600 seconds");
  if (o.request_timeout.count() <= 0)
    return InvalidArgument("bench lease: --request-timeout must be positive");
  return Status::Ok();
}

Result<LeaseBenchReport> RunLeaseBench(const LeaseBenchOptions& o) {
  TRI_RETURN_IF_ERROR(ValidateLeaseBenchOptions(o));
  ClientOptions copts;
  copts.endpoints = o.endpoints;
  copts.tls = o.tls;
  copts.dial_timeout = o.dial_timeout;
  copts.command_timeout = o.request_timeout;
  TRI_ASSIGN_OR_RETURN(auto admin, LeaseClient::Connect(copts));
  std::vector<std::int64_t> leases;
  for (int c = 0; c < o.clients; ++c) {
    auto granted = admin->Grant(o.lease_ttl_s);
    if (!granted.ok())
      return Status(granted.status().code(), "bench lease: granting lease " + std::to_string(c) +
                                                 ": " + granted.status().message());
    leases.push_back(granted->id());
  }
  auto revoke_all = [&] {
    for (std::int64_t id : leases)
      (void)admin->Revoke(id);  // best effort: the TTL ends them otherwise
  };

  std::vector<std::unique_ptr<etcdserverpb::Lease::Stub>> stubs;
  for (int c = 0; c < o.conns; ++c) {
    const std::string& target = o.endpoints[static_cast<std::size_t>(c) % o.endpoints.size()];
    auto channel = DialChannel(target, c, ClientOptions{}.max_receive_message_bytes, o.tls);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + o.dial_timeout)) {
      revoke_all();
      return DeadlineExceeded("bench lease: connection " + std::to_string(c) + " to " + target +
                              " not established within the dial timeout");
    }
    stubs.push_back(etcdserverpb::Lease::NewStub(channel));
  }

  const std::size_t samples_per_client =
      kMaxLeaseBenchSamples / static_cast<std::size_t>(o.clients);
  std::vector<std::vector<double>> samples(static_cast<std::size_t>(o.clients));
  std::atomic<std::uint64_t> answered{0}, errors{0};
  std::mutex error_mu;
  std::string first_error;
  auto record_error = [&](const std::string& what) {
    errors.fetch_add(1);
    std::lock_guard lock(error_mu);
    if (first_error.empty()) first_error = what;
  };

  const Clock::time_point begin = Clock::now();
  const Clock::time_point end = begin + o.duration;
  auto client_loop = [&](int c) {
    std::vector<double>& mine = samples[static_cast<std::size_t>(c)];
    const std::int64_t id = leases[static_cast<std::size_t>(c)];
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + o.duration + o.request_timeout);
    auto stream = stubs[static_cast<std::size_t>(c % o.conns)]->LeaseKeepAlive(&ctx);
    etcdserverpb::LeaseKeepAliveRequest req;
    req.set_id(id);
    etcdserverpb::LeaseKeepAliveResponse resp;
    while (Clock::now() < end) {
      const Clock::time_point sent = Clock::now();
      if (!stream->Write(req) || !stream->Read(&resp)) {
        grpc::Status st = stream->Finish();
        record_error("keep-alive stream of lease " + std::to_string(id) +
                     " broke: " + st.error_message());
        return;
      }
      if (resp.ttl() <= 0) {
        record_error("lease " + std::to_string(id) + " is gone (keep-alive answered TTL " +
                     std::to_string(resp.ttl()) + ")");
        return;
      }
      answered.fetch_add(1, std::memory_order_relaxed);
      if (mine.size() < samples_per_client)
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    }
    stream->WritesDone();
    ctx.TryCancel();
    (void)stream->Finish();
  };
  {
    std::vector<std::jthread> threads;
    for (int c = 0; c < o.clients; ++c)
      threads.emplace_back(client_loop, c);
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();
  revoke_all();

  LeaseBenchReport r;
  r.clients = o.clients;
  r.keepalives = answered.load();
  r.errors = errors.load();
  r.first_error = first_error;
  r.elapsed_s = elapsed_s;
  r.keepalives_per_s = elapsed_s > 0 ? static_cast<double>(r.keepalives) / elapsed_s : 0;
  std::vector<double> all;
  for (auto& v : samples)
    all.insert(all.end(), v.begin(), v.end());
  r.latency = Summarize(all);
  return r;
}

std::string LeaseBenchReportJson(const LeaseBenchReport& r) {
  return nlohmann::json{{"op", "lease"},
                        {"clients", r.clients},
                        {"keepalives", r.keepalives},
                        {"errors", r.errors},
                        {"first_error", r.first_error},
                        {"elapsed_s", r.elapsed_s},
                        {"keepalives_per_s", r.keepalives_per_s},
                        {"keepalive_latency", LatencySummaryJson(r.latency)}}
      .dump();
}

std::string LeaseBenchReportText(const LeaseBenchReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "lease keep-alive: %d clients: %llu answered, %llu errors in %.2fs\n"
                "  keep-alives/s:\t%.1f\n",
                r.clients, static_cast<unsigned long long>(r.keepalives),
                static_cast<unsigned long long>(r.errors), r.elapsed_s, r.keepalives_per_s);
  std::string out = buf;
  out += "  latency:\t" + LatencySummaryText(r.latency) + "\n";
  if (!r.first_error.empty()) out += "  first error:\t" + r.first_error + "\n";
  return out;
}

}  // namespace tri::client
