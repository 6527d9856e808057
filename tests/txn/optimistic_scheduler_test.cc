// The optimistic (Block-STM) scheduler equals the serial reference on
// hand-made batches, whatever the number of threads, and its traces are well
// formed. Each batch runs many times per thread count: the interleavings
// differ from run to run, the result must not.

#include "txn/parallel/optimistic_scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/rng.h"
#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::txn {
namespace {

constexpr int kRunsPerMode = 8;

long Number(const std::optional<std::string>& value) {
  return value ? std::stol(*value) : 0;
}

// Moves one unit from `from` to `to`; aborts when `from` is empty.
Transaction Transfer(std::string from, std::string to) {
  Transaction txn;
  txn.body = [from, to](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> a, ctx.Read(from));
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> b, ctx.Read(to));
    const long x = Number(a);
    const long y = Number(b);
    if (x < 1) return Aborted("insufficient funds in " + from);
    if (Status s = ctx.Write(from, std::to_string(x - 1)); !s.ok()) return s;
    return ctx.Write(to, std::to_string(y + 1));
  };
  return txn;
}

Transaction Increment(std::string key) {
  Transaction txn;
  txn.body = [key](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read(key));
    return ctx.Write(key, std::to_string(Number(v) + 1));
  };
  return txn;
}

// Copies `from` to `to` plus one: a chain when each reads the previous one's
// key.
Transaction CopyPlusOne(std::string from, std::string to) {
  Transaction txn;
  txn.body = [from, to](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read(from));
    return ctx.Write(to, std::to_string(Number(v) + 1));
  };
  return txn;
}

MapState Accounts(int count, long balance) {
  MapState state;
  for (int i = 0; i < count; ++i)
    state.Put("acct" + std::to_string(i), std::to_string(balance));
  return state;
}

// Trace rules: every execution (txn, incarnation) runs on one thread and shows
// START, then READs and WRITEs, then exactly one COMMIT or ABORT; it may later
// get one ABORT "validation failed" (from any thread). The last incarnation of
// each transaction is its result: never failed validation, ends in COMMIT
// exactly when the result is committed, and records one WRITE per write kept.
void ExpectWellFormedTrace(const BatchResult& result) {
  struct Execution {
    std::uint32_t thread = 0;
    std::vector<TraceKind> kinds;
    bool validation_failed = false;
    std::size_t writes = 0;
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, Execution> executions;
  std::map<std::uint32_t, std::uint32_t> last_incarnation;
  for (const TraceEvent& event : result.trace) {
    ASSERT_LT(event.txn, result.txns.size());
    Execution& execution = executions[{event.txn, event.incarnation}];
    auto [it, fresh] = last_incarnation.emplace(event.txn, event.incarnation);
    if (!fresh) it->second = std::max(it->second, event.incarnation);
    if (event.kind == TraceKind::kAbort && event.key == "validation failed") {
      EXPECT_FALSE(execution.validation_failed) << "txn " << event.txn;
      execution.validation_failed = true;
      continue;
    }
    if (event.kind == TraceKind::kStart) {
      EXPECT_TRUE(execution.kinds.empty()) << "txn " << event.txn << " started twice";
      execution.thread = event.thread;
    } else {
      ASSERT_FALSE(execution.kinds.empty()) << "txn " << event.txn << ": event before START";
      EXPECT_EQ(execution.thread, event.thread) << "an execution stays on one thread";
      const TraceKind previous = execution.kinds.back();
      EXPECT_TRUE(previous != TraceKind::kCommit && previous != TraceKind::kAbort)
          << "txn " << event.txn << ": event after the end of its execution";
    }
    if (event.kind == TraceKind::kWrite) ++execution.writes;
    execution.kinds.push_back(event.kind);
  }
  ASSERT_EQ(last_incarnation.size(), result.txns.size()) << "every transaction ran";
  for (const auto& [key, execution] : executions) {
    ASSERT_FALSE(execution.kinds.empty());
    const TraceKind end = execution.kinds.back();
    EXPECT_TRUE(end == TraceKind::kCommit || end == TraceKind::kAbort)
        << "txn " << key.first << " incarnation " << key.second << " never ended";
    if (last_incarnation[key.first] != key.second) continue;
    const TxnResult& final_result = result.txns[key.first];
    EXPECT_FALSE(execution.validation_failed) << "txn " << key.first;
    EXPECT_EQ(end == TraceKind::kCommit, final_result.outcome == Outcome::kCommitted)
        << "txn " << key.first;
    if (final_result.outcome == Outcome::kCommitted) {
      EXPECT_GE(execution.writes, final_result.writes.size());
    }
  }
}

OptimisticTuning NeverFallBack() {
  OptimisticTuning tuning;
  tuning.serial_fallback = false;
  return tuning;
}

// Judges after every execution and always finds that speculation does not
// pay: the serial finish takes over after the first execution of some worker.
OptimisticTuning FallBackAtOnce() {
  OptimisticTuning tuning;
  tuning.fallback_min_executions = 1;
  tuning.fallback_check_every = 1;
  tuning.fallback_min_speedup = 1e300;
  return tuning;
}

// Falls back after a few dozen executions, part way through the batch.
OptimisticTuning FallBackMidway() {
  OptimisticTuning tuning;
  tuning.fallback_min_executions = 40;
  tuning.fallback_check_every = 4;
  tuning.fallback_min_speedup = 1e300;
  return tuning;
}

// Runs `batch` serially, then optimistically with 1, 2, 4 and 8 threads:
// through ParallelExecutor (default tuning), in pure Block-STM (no serial
// fallback) and with the serial finish taking over early or midway,
// kRunsPerMode times each, and expects the same result every time.
void ExpectSerialEquivalent(const StateView& base, const std::vector<Transaction>& batch,
                            ExecuteOptions options = {}) {
  options.scheduler = Scheduler::kOptimistic;
  Result<BatchResult> serial = ExecuteSerial(base, batch, options);
  ASSERT_TRUE(serial.ok()) << serial.status().ToString();
  const std::vector<std::pair<const char*, OptimisticTuning>> modes = {
      {"never falls back", NeverFallBack()},
      {"falls back at once", FallBackAtOnce()},
      {"falls back midway", FallBackMidway()},
  };
  for (std::size_t threads : {1, 2, 4, 8}) {
    auto executor = ParallelExecutor::Create(threads);
    ASSERT_TRUE(executor.ok());
    WorkerPool pool(threads);
    for (int run = 0; run < kRunsPerMode * 4; ++run) {
      ExecuteOptions traced = options;
      traced.trace = run % 2 == 1;
      const int mode = run % 4;
      BatchResult parallel;
      if (mode == 3) {
        Result<BatchResult> result = (*executor)->Execute(base, batch, traced);
        ASSERT_TRUE(result.ok()) << result.status().ToString();
        parallel = std::move(*result);
      } else {
        parallel = RunOptimistic(pool, base, batch, traced, modes[mode].second);
      }
      const char* mode_name = mode == 3 ? "default tuning" : modes[mode].first;
      ASSERT_EQ(parallel.txns, serial->txns) << threads << " threads, " << mode_name;
      if (traced.trace) {
        ExpectWellFormedTrace(parallel);
      } else {
        EXPECT_TRUE(parallel.trace.empty());
      }
    }
  }
}

TEST(OptimisticExecutor, EmptyBatchGivesAnEmptyResult) {
  ExpectSerialEquivalent(MapState(), {});
}

TEST(OptimisticExecutor, NoContentionEqualsSerial) {
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back(Increment("k" + std::to_string(i)));
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, TotalContentionOnOneCounterEqualsSerial) {
  std::vector<Transaction> batch;
  for (int i = 0; i < 300; ++i)
    batch.push_back(Increment("counter"));
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, TransfersBetweenTwoAccountsEqualSerial) {
  std::vector<Transaction> batch;
  for (int i = 0; i < 300; ++i) {
    batch.push_back(i % 3 == 0 ? Transfer("acct1", "acct0") : Transfer("acct0", "acct1"));
  }
  // Few funds: many transfers abort, which depends on every earlier one.
  ExpectSerialEquivalent(Accounts(2, 3), batch);
}

TEST(OptimisticExecutor, AChainWhereEachReadsThePreviousWriteEqualsSerial) {
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i) {
    batch.push_back(CopyPlusOne("c" + std::to_string(i), "c" + std::to_string(i + 1)));
  }
  // Backwards too: transaction i reads what i + 1 writes (no dependency).
  for (int i = 200; i > 0; --i) {
    batch.push_back(CopyPlusOne("d" + std::to_string(i), "d" + std::to_string(i - 1)));
  }
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, AWriteSetThatChangesBetweenIncarnationsEqualsSerial) {
  // Each "switch" writes "left" or "right" depending on the flag, which the
  // transaction before it flips: a speculative execution that read a stale
  // flag writes the other key, and its next incarnation must drop that write.
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i) {
    Transaction flip;
    flip.body = [](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> flag, ctx.Read("flag"));
      return ctx.Write("flag", flag == "on" ? "off" : "on");
    };
    batch.push_back(flip);
    Transaction branch;
    branch.body = [i](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> flag, ctx.Read("flag"));
      const std::string key = flag == "on" ? "left" + std::to_string(i % 7) : "right";
      return ctx.Write(key, std::to_string(i));
    };
    batch.push_back(branch);
    Transaction reader;
    reader.body = [](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> left, ctx.Read("left3"));
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> right, ctx.Read("right"));
      return ctx.Write("sum", std::to_string(Number(left) + Number(right)));
    };
    batch.push_back(reader);
  }
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, GasTimeoutsThatDependOnEarlierWritesEqualSerial) {
  // A body charges gas in proportion to the value it reads; with a stale read
  // a speculative execution may time out (or not) where the serial one does
  // not (or does).
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i) {
    Transaction txn;
    txn.gas_budget = 60;
    txn.body = [](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read("load"));
      const long load = Number(v);
      for (long step = 0; step < load; ++step) {
        if (Status s = ctx.Charge(1); !s.ok()) return s;
      }
      return ctx.Write("load", std::to_string(load >= 70 ? 0 : load + 7));
    };
    batch.push_back(txn);
  }
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, ASpeculativeLoopOnAStaleReadIsBoundedByGas) {
  // Transaction 0 sets "stop"; every later one loops until it sees "stop",
  // charging gas. A speculative execution that does not see it yet would loop
  // forever without the gas budget.
  std::vector<Transaction> batch;
  Transaction stop;
  stop.body = [](TxnContext& ctx) -> Status {
    if (Status s = ctx.Charge(500); !s.ok()) return s;
    return ctx.Write("stop", "yes");
  };
  batch.push_back(stop);
  for (int i = 0; i < 50; ++i) {
    Transaction waiter;
    waiter.gas_budget = 10'000;
    waiter.body = [i](TxnContext& ctx) -> Status {
      for (;;) {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read("stop"));
        if (v == "yes") return ctx.Write("w" + std::to_string(i), "done");
        if (Status s = ctx.Charge(1); !s.ok()) return s;
      }
    };
    batch.push_back(waiter);
  }
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, DeletesAndReadsOfDeletedKeysEqualSerial) {
  MapState base = Accounts(20, 5);
  std::vector<Transaction> batch;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 20; ++i) {
      const std::string key = "acct" + std::to_string(i);
      Transaction toggle;
      // Deletes a present key, recreates an absent one.
      toggle.body = [key](TxnContext& ctx) -> Status {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read(key));
        if (v) return ctx.Delete(key);
        return ctx.Write(key, "back");
      };
      batch.push_back(toggle);
      Transaction observer;
      // Reads a key an earlier transaction may have deleted.
      observer.body = [key, i](TxnContext& ctx) -> Status {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read(key));
        if (!v) return Aborted(key + " is gone");
        return ctx.Write("seen" + std::to_string(i % 3), *v);
      };
      batch.push_back(observer);
    }
  }
  ExpectSerialEquivalent(base, batch);
}

TEST(OptimisticExecutor, AbortedTransactionsWriteNothingAndLaterOnesDoNotSeeTheirWrites) {
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i) {
    Transaction txn;
    // Writes first, then aborts on every third value it read: the writes of
    // an aborted transaction must stay invisible.
    txn.body = [](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read("n"));
      const long n = Number(v);
      if (Status s = ctx.Write("n", std::to_string(n + 1)); !s.ok()) return s;
      if (Status s = ctx.Write("scratch", "dirty"); !s.ok()) return s;
      if (n % 3 == 2) return Aborted("refused at " + std::to_string(n));
      return ctx.Delete("scratch");
    };
    batch.push_back(txn);
  }
  ExpectSerialEquivalent(MapState(), batch);
}

TEST(OptimisticExecutor, BoundsBrokenOnlyWithSomeReadsEqualSerial) {
  // How many keys a transaction touches depends on what it reads; with a
  // small max_keys_per_txn some executions break the bound.
  ExecuteOptions options;
  options.limits.max_keys_per_txn = 6;
  std::vector<Transaction> batch;
  for (int i = 0; i < 150; ++i) {
    Transaction txn;
    txn.body = [i](TxnContext& ctx) -> Status {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> v, ctx.Read("width"));
      const long width = Number(v);
      for (long k = 0; k < width; ++k) {
        if (Status s = ctx.Write("slot" + std::to_string((i + k) % 11), "x"); !s.ok()) return s;
      }
      return ctx.Write("width", std::to_string((width + 1) % 9));
    };
    batch.push_back(txn);
  }
  ExpectSerialEquivalent(MapState(), batch, options);
}

TEST(OptimisticExecutor, EnforcedDeclarationsAbortTheSameTransactions) {
  ExecuteOptions options;
  options.enforce_declared = true;
  std::vector<Transaction> batch;
  for (int i = 0; i < 100; ++i) {
    Transaction txn = Transfer("acct" + std::to_string(i % 4), "acct" + std::to_string(i % 5));
    txn.write_set = {"acct" + std::to_string(i % 4)};
    if (i % 2 == 0) txn.write_set.push_back("acct" + std::to_string(i % 5));
    batch.push_back(txn);
  }
  ExpectSerialEquivalent(Accounts(5, 10), batch, options);
}

TEST(OptimisticExecutor, RandomTransferBatchesEqualSerial) {
  SeededRng rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const int accounts = 2 + static_cast<int>(rng.Uniform(30));
    std::vector<Transaction> batch;
    const int size = 1 + static_cast<int>(rng.Uniform(300));
    for (int i = 0; i < size; ++i) {
      batch.push_back(Transfer("acct" + std::to_string(rng.Uniform(accounts)),
                               "acct" + std::to_string(rng.Uniform(accounts))));
    }
    ExpectSerialEquivalent(Accounts(accounts, static_cast<long>(rng.Uniform(4))), batch);
  }
}

}  // namespace
}  // namespace tri::txn
