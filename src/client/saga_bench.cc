#include "client/saga_bench.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "client/saga_client.h"

namespace tri::client {
namespace {

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

}  // namespace

std::string SagaBenchDocument(SagaShape shape, std::uint32_t steps) {
  std::string doc = std::string("name: bench-") +
                    (shape == SagaShape::kChain ? "chain" : "diamond") + "-" +
                    std::to_string(steps) + "\nsteps:\n";
  auto add = [&doc](std::uint32_t i, const std::vector<std::uint32_t>& needs) {
    doc += "  - id: s" + std::to_string(i) + "\n";
    if (!needs.empty()) {
      doc += "    needs: [";
      for (std::size_t k = 0; k < needs.size(); ++k)
        doc += (k == 0 ? "s" : ", s") + std::to_string(needs[k]);
      doc += "]\n";
    }
    doc += "    run: noop\n";
  };
  if (shape == SagaShape::kChain) {
    for (std::uint32_t i = 0; i < steps; ++i)
      add(i, i == 0 ? std::vector<std::uint32_t>{} : std::vector<std::uint32_t>{i - 1});
    return doc;
  }
  // Diamonds: join, then up to 3 parallel steps needing it, then the next join.
  add(0, {});
  std::uint32_t join = 0;
  std::uint32_t i = 1;
  while (i < steps) {
    std::vector<std::uint32_t> middle;
    for (int k = 0; k < 3 && i + 1 < steps; ++k)
      middle.push_back(i), add(i++, {join});
    if (middle.empty()) middle.push_back(join);
    add(i, middle);
    join = i++;
  }
  return doc;
}

Status ValidateSagaBenchOptions(const SagaBenchOptions& o) {
  if (o.endpoints.empty()) return InvalidArgument("--endpoints: at least one endpoint");
  if (o.clients < 1 || o.clients > kMaxSagaBenchClients)
    return InvalidArgument("--clients: between 1 and " + std::to_string(kMaxSagaBenchClients));
  if (o.total < 1 || o.total > kMaxSagaBenchTotal)
    return InvalidArgument("--total: between 1 and " + std::to_string(kMaxSagaBenchTotal));
  if (o.steps < 1 || o.steps > kMaxSagaBenchSteps)
    return InvalidArgument("--steps: between 1 and " + std::to_string(kMaxSagaBenchSteps));
  return Status::Ok();
}

Result<SagaBenchReport> RunSagaBench(const SagaBenchOptions& options) {
  TRI_RETURN_IF_ERROR(ValidateSagaBenchOptions(options));
  ClientOptions copts;
  copts.endpoints = options.endpoints;
  copts.tls = options.tls;
  copts.dial_timeout = options.dial_timeout;
  copts.command_timeout = options.request_timeout;
  TRI_ASSIGN_OR_RETURN(auto client, SagaClient::Connect(copts));
  trinity::v1::DefineSagaRequest define;
  define.set_document(SagaBenchDocument(options.shape, options.steps));
  define.set_source_name("bench.yaml");
  TRI_ASSIGN_OR_RETURN(auto defined, client->Define(define));

  SagaBenchReport report;
  report.shape = options.shape == SagaShape::kChain ? "chain" : "diamond";
  report.steps = options.steps;
  report.clients = options.clients;
  std::vector<double> latencies(options.total, -1.0);
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> completed{0}, other{0}, errors{0};
  std::mutex error_mutex;
  auto record_error = [&](const Status& s) {
    if (errors.fetch_add(1) == 0) {
      std::lock_guard lock(error_mutex);
      report.first_error = s.ToString();
    }
  };
  const auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < options.clients; ++c) {
    threads.emplace_back([&] {
      for (;;) {
        const std::uint64_t n = next.fetch_add(1);
        if (n >= options.total) return;
        const auto t0 = std::chrono::steady_clock::now();
        trinity::v1::StartSagaRequest start;
        start.set_definition_name(defined.name());
        start.set_definition_version(defined.version());
        // One call per saga: the reply comes once the saga is terminal.
        start.set_wait(true);
        auto started = client->Start(start);
        if (!started.ok()) {
          record_error(started.status());
          continue;
        }
        const std::string& outcome = started->state();
        latencies[n] = Ms(std::chrono::steady_clock::now() - t0);
        (outcome == "completed" ? completed : other).fetch_add(1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  report.elapsed_s = Ms(std::chrono::steady_clock::now() - began) / 1000.0;
  report.started = options.total;
  report.completed = completed.load();
  report.other_terminal = other.load();
  report.errors = errors.load();
  std::vector<double> ok;
  for (double l : latencies)
    if (l >= 0) ok.push_back(l);
  std::sort(ok.begin(), ok.end());
  report.completed_per_s = report.elapsed_s > 0 ? report.completed / report.elapsed_s : 0;
  report.latency_p50_ms = Percentile(ok, 50);
  report.latency_p90_ms = Percentile(ok, 90);
  report.latency_p99_ms = Percentile(ok, 99);
  report.latency_max_ms = ok.empty() ? 0 : ok.back();
  double sum = 0;
  for (double l : ok)
    sum += l;
  report.latency_mean_ms = ok.empty() ? 0 : sum / static_cast<double>(ok.size());
  return report;
}

std::string SagaBenchReportJson(const SagaBenchReport& r) {
  return nlohmann::json{{"op", "saga"},
                        {"shape", r.shape},
                        {"steps", r.steps},
                        {"clients", r.clients},
                        {"started", r.started},
                        {"completed", r.completed},
                        {"other_terminal", r.other_terminal},
                        {"errors", r.errors},
                        {"first_error", r.first_error},
                        {"elapsed_s", r.elapsed_s},
                        {"completed_per_s", r.completed_per_s},
                        {"latency_p50_ms", r.latency_p50_ms},
                        {"latency_p90_ms", r.latency_p90_ms},
                        {"latency_p99_ms", r.latency_p99_ms},
                        {"latency_max_ms", r.latency_max_ms},
                        {"latency_mean_ms", r.latency_mean_ms}}
      .dump();
}

std::string SagaBenchReportText(const SagaBenchReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "saga %s of %u steps, %d clients: %llu started, %llu completed (%llu other "
                "terminal, %llu errors) in %.2fs\n"
                "  completed/s: %.1f\n"
                "  end to end latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n",
                r.shape.c_str(), r.steps, r.clients, static_cast<unsigned long long>(r.started),
                static_cast<unsigned long long>(r.completed),
                static_cast<unsigned long long>(r.other_terminal),
                static_cast<unsigned long long>(r.errors), r.elapsed_s, r.completed_per_s,
                r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms, r.latency_max_ms,
                r.latency_mean_ms);
  std::string out = buf;
  if (!r.first_error.empty()) out += "  first error: " + r.first_error + "\n";
  return out;
}

}  // namespace tri::client
