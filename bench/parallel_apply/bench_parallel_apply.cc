// bench_parallel_apply: how fast a state machine applies one batch of committed
// KV entries one by one (StateMachine::Apply, the node's default) and through
// StateMachine::ApplyBatch with a txn::ParallelExecutor, for each scheduler and
// thread count. Each measurement applies the batch to a fresh state machine
// holding the workload's keys; the figure is the median of --runs.
//
// Columns: entries/s, speedup over one by one, and the share of the time spent
// in the executor (phase 1; the rest is parsing and the in-order phase 2).
//
// Workloads (N entries over K keys, 64-byte values):
//   put  one Put per entry (the write path only: little for phase 1 to do)
//   txn  a Txn per entry: 4 VALUE compares, then 4 puts on success (a CAS of
//        four keys), 4 ranges on failure (more for phase 1 to compute)
//
//   bench_parallel_apply [--entries N] [--runs R] [--threads T]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/state_machine.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::rsm {
namespace {

struct Options {
  std::size_t entries = 10'000;
  int runs = 5;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
};

std::string Key(std::uint64_t k) {
  return "key/" + std::to_string(k);
}
std::string Value(std::uint64_t v) {
  std::string out = std::to_string(v);
  out.resize(64, '.');
  return out;
}

std::string Entry(const KvRequest& request, std::uint64_t id) {
  return EncodeCommand(Command{CommandKind::kKv, id, 1000, EncodeKvRequest(request)});
}

// The workload's n entries (the keys are filled first, by Filled).
std::vector<std::string> Workload(const std::string& kind, std::size_t n, std::uint64_t keys,
                                  SeededRng& rng) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (kind == "put") {
      PutRequest put;
      put.key = Key(rng.Uniform(keys));
      put.value = Value(i);
      out.push_back(Entry(put, i + 1));
      continue;
    }
    TxnRequest txn;
    std::vector<std::uint64_t> picked;
    while (picked.size() < std::min<std::uint64_t>(4, keys)) {
      const auto k = rng.Uniform(keys);
      if (std::find(picked.begin(), picked.end(), k) == picked.end()) picked.push_back(k);
    }
    for (const std::uint64_t k : picked) {
      Compare c;
      c.key = Key(k);
      c.target = Compare::VALUE;
      c.result = Compare::NOT_EQUAL;
      c.value = "never";
      txn.compare.push_back(c);
      PutRequest put;
      put.key = Key(k);
      put.value = Value(i);
      txn.success.push_back(RequestOp{put});
      RangeRequest range;
      range.key = Key(k);
      txn.failure.push_back(RequestOp{range});
    }
    out.push_back(Entry(txn, i + 1));
  }
  return out;
}

StateMachine Filled(std::uint64_t keys) {
  StateMachine sm;
  for (std::uint64_t k = 0; k < keys; ++k) {
    PutRequest put;
    put.key = Key(k);
    put.value = Value(k);
    TRI_ASSERT(sm.Apply(k + 1, Entry(put, 0)).result.ok());
  }
  return sm;
}

// Times the executor's calls (phase 1 of the parallel apply).
class TimedExecutor final : public txn::BatchExecutor {
 public:
  explicit TimedExecutor(txn::BatchExecutor& inner) : inner_(inner) {}
  Result<txn::BatchResult> Execute(const txn::StateView& base,
                                   std::span<const txn::Transaction> batch,
                                   const txn::ExecuteOptions& options) override {
    const auto start = std::chrono::steady_clock::now();
    Result<txn::BatchResult> result = inner_.Execute(base, batch, options);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
  double seconds = 0;

 private:
  txn::BatchExecutor& inner_;
};

struct Timing {
  double seconds = 0;
  double phase1_seconds = 0;
};

// Applies `entries` to a fresh state machine; executor nullptr: Apply one by
// one.
Timing Measure(std::uint64_t keys, const std::vector<std::string>& entries,
               txn::BatchExecutor* executor, txn::Scheduler scheduler, std::uint64_t& hash) {
  StateMachine sm = Filled(keys);
  std::vector<BatchEntry> batch;
  batch.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    batch.push_back(BatchEntry{keys + 1 + i, entries[i]});
  std::optional<TimedExecutor> timed;
  if (executor != nullptr) timed.emplace(*executor);
  const auto start = std::chrono::steady_clock::now();
  if (executor == nullptr) {
    for (const BatchEntry& e : batch)
      (void)sm.Apply(e.index, e.data);
  } else {
    ParallelApplyOptions options;
    options.executor = &*timed;
    options.scheduler = scheduler;
    options.min_batch = 1;
    options.max_batch = entries.size();
    (void)sm.ApplyBatch(batch, options);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  hash = sm.StateHash();
  return Timing{seconds, timed ? timed->seconds : 0};
}

Timing Median(std::vector<Timing> xs) {
  std::sort(xs.begin(), xs.end(),
            [](const Timing& a, const Timing& b) { return a.seconds < b.seconds; });
  return xs[xs.size() / 2];
}

int Main(const Options& o) {
  std::printf("%-5s %7s %-11s %7s %12s %8s %8s\n", "work", "keys", "apply", "threads", "entries/s",
              "speedup", "phase1");
  std::vector<std::size_t> thread_counts = {1, 2};
  if (o.threads > 2) thread_counts.push_back(o.threads);
  for (const std::string kind : {"put", "txn"}) {
    for (const std::uint64_t keys : {10u, 1'000u, 100'000u}) {
      SeededRng rng(42);
      const std::vector<std::string> entries = Workload(kind, o.entries, keys, rng);
      std::uint64_t serial_hash = 0;
      std::vector<Timing> serial_runs;
      for (int r = 0; r < o.runs; ++r)
        serial_runs.push_back(
            Measure(keys, entries, nullptr, txn::Scheduler::kSerial, serial_hash));
      const double serial = Median(serial_runs).seconds;
      std::printf("%-5s %7llu %-11s %7d %12.0f %8.2f %8s\n", kind.c_str(),
                  static_cast<unsigned long long>(keys), "one-by-one", 1,
                  static_cast<double>(o.entries) / serial, 1.0, "-");
      for (const txn::Scheduler scheduler :
           {txn::Scheduler::kDeclared, txn::Scheduler::kOptimistic}) {
        for (const std::size_t threads : thread_counts) {
          auto executor = txn::ParallelExecutor::Create(threads);
          TRI_ASSERT(executor.ok());
          std::vector<Timing> runs;
          for (int r = 0; r < o.runs; ++r) {
            std::uint64_t hash = 0;
            runs.push_back(Measure(keys, entries, executor->get(), scheduler, hash));
            TRI_ASSERT_MSG(hash == serial_hash, "the parallel apply left another state");
          }
          const Timing median = Median(runs);
          std::printf("%-5s %7llu %-11s %7zu %12.0f %8.2f %7.0f%%\n", kind.c_str(),
                      static_cast<unsigned long long>(keys),
                      std::string(txn::SchedulerName(scheduler)).c_str(), threads,
                      static_cast<double>(o.entries) / median.seconds, serial / median.seconds,
                      100 * median.phase1_seconds / median.seconds);
        }
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace tri::rsm

int main(int argc, char** argv) {
  tri::rsm::Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* flag = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (value <= 0) {
      std::fprintf(stderr, "%s: must be a positive number\n", flag);
      return 2;
    }
    if (std::strcmp(flag, "--entries") == 0) {
      o.entries = static_cast<std::size_t>(value);
    } else if (std::strcmp(flag, "--runs") == 0) {
      o.runs = static_cast<int>(value);
    } else if (std::strcmp(flag, "--threads") == 0) {
      o.threads = static_cast<std::size_t>(value);
    } else {
      std::fprintf(stderr, "unknown flag %s (--entries N, --runs R, --threads T)\n", flag);
      return 2;
    }
  }
  return tri::rsm::Main(o);
}
