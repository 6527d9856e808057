// The declared scheduler against the serial reference run with the same
// declarations enforced (ExecuteSerial with enforce_declared), on 1, 2, 4 and
// 8 threads. The large generated properties live in the property tests; these
// are the hand-made cases and a few seeded random batches.

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::txn {
namespace {

long Number(const std::optional<std::string>& value) {
  return value ? std::stol(*value) : 0;
}

// Moves one unit from `from` to `to`; aborts when `from` has none.
Transaction Transfer(const std::string& from, const std::string& to) {
  Transaction txn;
  txn.write_set = {from, to};
  txn.body = [from, to](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> a, ctx.Read(from));
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> b, ctx.Read(to));
    if (Number(a) < 1) return Aborted("insufficient funds in " + from);
    if (Status s = ctx.Write(from, std::to_string(Number(a) - 1)); !s.ok()) return s;
    return ctx.Write(to, std::to_string(Number(b) + 1));
  };
  return txn;
}

// Writes the sum of `reads` to `target`.
Transaction Sum(std::vector<std::string> reads, const std::string& target) {
  Transaction txn;
  txn.read_set = reads;
  txn.write_set = {target};
  txn.body = [reads, target](TxnContext& ctx) -> Status {
    long sum = 0;
    for (const std::string& key : reads) {
      TRI_ASSIGN_OR_RETURN(std::optional<std::string> value, ctx.Read(key));
      sum += Number(value);
    }
    return ctx.Write(target, std::to_string(sum));
  };
  return txn;
}

ExecuteOptions DeclaredOptions(bool trace = false) {
  ExecuteOptions options;
  options.scheduler = Scheduler::kDeclared;
  options.trace = trace;
  return options;
}

BatchResult Reference(const StateView& base, const std::vector<Transaction>& batch,
                      ExecuteOptions options) {
  options.scheduler = Scheduler::kSerial;
  options.enforce_declared = true;
  Result<BatchResult> result = ExecuteSerial(base, batch, options);
  TRI_ASSERT(result.ok());
  return std::move(result).value();
}

class DeclaredScheduler : public testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<ParallelExecutor>> created = ParallelExecutor::Create(GetParam());
    ASSERT_TRUE(created.ok());
    executor_ = std::move(created).value();
  }

  BatchResult Declared(const StateView& base, const std::vector<Transaction>& batch,
                       const ExecuteOptions& options = DeclaredOptions()) {
    Result<BatchResult> result = executor_->Execute(base, batch, options);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? std::move(result).value() : BatchResult{};
  }

  // Runs `batch` both ways and expects the same outcomes, reasons, writes and
  // gas, and the same state after applying the writes.
  BatchResult ExpectSerialEquivalent(const MapState& base, const std::vector<Transaction>& batch,
                                     const ExecuteOptions& options = DeclaredOptions()) {
    BatchResult reference = Reference(base, batch, options);
    BatchResult declared = Declared(base, batch, options);
    EXPECT_EQ(declared.txns, reference.txns);
    MapState after_reference = base;
    after_reference.Apply(reference);
    MapState after_declared = base;
    after_declared.Apply(declared);
    EXPECT_EQ(after_declared.entries(), after_reference.entries());
    return declared;
  }

  std::unique_ptr<ParallelExecutor> executor_;
};

TEST_P(DeclaredScheduler, EmptyBatchGivesAnEmptyResult) {
  BatchResult result = Declared(MapState(), {}, DeclaredOptions(/*trace=*/true));
  EXPECT_TRUE(result.txns.empty());
  EXPECT_TRUE(result.trace.empty());
}

TEST_P(DeclaredScheduler, IndependentTransfersEqualTheSerialRun) {
  MapState base;
  std::vector<Transaction> batch;
  for (int i = 0; i < 500; ++i) {
    base.Put("from" + std::to_string(i), "3");
    batch.push_back(Transfer("from" + std::to_string(i), "to" + std::to_string(i)));
  }
  BatchResult result = ExpectSerialEquivalent(base, batch);
  for (const TxnResult& txn : result.txns)
    EXPECT_EQ(txn.outcome, Outcome::kCommitted);
}

TEST_P(DeclaredScheduler, TransfersBetweenTwoAccountsAbortWhenFundsRunOut) {
  MapState base;
  base.Put("a", "5");
  std::vector<Transaction> batch;
  for (int i = 0; i < 200; ++i)
    batch.push_back(i % 3 == 2 ? Transfer("b", "a") : Transfer("a", "b"));
  BatchResult result = ExpectSerialEquivalent(base, batch);
  std::size_t aborted = 0;
  for (const TxnResult& txn : result.txns) {
    if (txn.outcome != Outcome::kAborted) continue;
    ++aborted;
    EXPECT_TRUE(txn.writes.empty());
    EXPECT_EQ(txn.reason, "insufficient funds in a");
  }
  EXPECT_GT(aborted, 0u);
}

TEST_P(DeclaredScheduler, ChainsAndFanOutsSeeEveryEarlierWrite) {
  // A mix of fan-out (many readers of one writer), fan-in (one writer after
  // many readers) and chains through the same keys.
  MapState base;
  for (int k = 0; k < 8; ++k)
    base.Put("k" + std::to_string(k), std::to_string(k));
  std::vector<Transaction> batch;
  for (int round = 0; round < 40; ++round) {
    const std::string k = "k" + std::to_string(round % 8);
    const std::string next = "k" + std::to_string((round + 1) % 8);
    batch.push_back(Sum({k, next}, k));
    for (int r = 0; r < 5; ++r)
      batch.push_back(Sum({k}, "copy" + std::to_string(round) + "_" + std::to_string(r)));
    batch.push_back(Sum({"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}, next));
  }
  ExpectSerialEquivalent(base, batch);
}

TEST_P(DeclaredScheduler, OutOfGasTimesOutAndLaterReadersSeeTheEarlierValue) {
  MapState base;
  base.Put("x", "1");
  Transaction greedy;
  greedy.read_set = {"x"};
  greedy.write_set = {"x"};
  greedy.gas_budget = 5;
  greedy.body = [](TxnContext& ctx) -> Status {
    if (Status s = ctx.Write("x", "lost"); !s.ok()) return s;
    return ctx.Charge(100);
  };
  std::vector<Transaction> batch = {Sum({"x"}, "x"), greedy, Sum({"x"}, "y")};
  BatchResult result = ExpectSerialEquivalent(base, batch);
  ASSERT_EQ(result.txns.size(), 3u);
  EXPECT_EQ(result.txns[1].outcome, Outcome::kTimedOut);
  EXPECT_EQ(result.txns[1].reason, "gas budget 5 exceeded");
  EXPECT_EQ(result.txns[2].writes, (std::vector<KeyWrite>{{"y", "1"}}));
}

TEST_P(DeclaredScheduler, DeletesAreSeenAsAbsentByLaterReaders) {
  MapState base;
  base.Put("gone", "7");
  base.Put("kept", "2");
  Transaction erase;
  erase.write_set = {"gone"};
  erase.body = [](TxnContext& ctx) { return ctx.Delete("gone"); };
  Transaction check;
  check.read_set = {"gone", "kept"};
  check.write_set = {"seen"};
  check.body = [](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> gone, ctx.Read("gone"));
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> kept, ctx.Read("kept"));
    return ctx.Write("seen", std::string(gone ? "present" : "absent") + "/" + kept.value_or(""));
  };
  BatchResult result = ExpectSerialEquivalent(base, {erase, check});
  EXPECT_EQ(result.txns[0].writes, (std::vector<KeyWrite>{{"gone", std::nullopt}}));
  EXPECT_EQ(result.txns[1].writes, (std::vector<KeyWrite>{{"seen", "absent/2"}}));
}

TEST_P(DeclaredScheduler, UndeclaredAccessAbortsOnlyThatTransaction) {
  MapState base;
  base.Put("a", "1");
  Transaction sneaky_read;
  sneaky_read.read_set = {"a"};
  sneaky_read.write_set = {"b"};
  sneaky_read.body = [](TxnContext& ctx) -> Status {
    if (Status s = ctx.Write("b", "partial"); !s.ok()) return s;
    Result<std::optional<std::string>> c = ctx.Read("c");
    return c.ok() ? Status::Ok() : c.status();
  };
  Transaction sneaky_write;
  sneaky_write.read_set = {"a"};
  sneaky_write.body = [](TxnContext& ctx) { return ctx.Write("a", "2"); };
  std::vector<Transaction> batch = {sneaky_read, sneaky_write, Sum({"a", "b"}, "d")};
  BatchResult result = ExpectSerialEquivalent(base, batch);
  EXPECT_EQ(result.txns[0].outcome, Outcome::kAborted);
  EXPECT_EQ(result.txns[0].reason, "read of key 'c' outside the declared read and write sets");
  EXPECT_EQ(result.txns[1].outcome, Outcome::kAborted);
  EXPECT_EQ(result.txns[1].reason, "write of key 'a' outside the declared write set");
  EXPECT_EQ(result.txns[2].writes, (std::vector<KeyWrite>{{"d", "1"}}));
}

TEST_P(DeclaredScheduler, TooManyDeclaredKeysAbortsBeforeTheBodyRuns) {
  MapState base;
  ExecuteOptions options = DeclaredOptions();
  options.limits.max_keys_per_txn = 3;
  std::vector<Transaction> batch = {Sum({"a", "b", "c"}, "d"), Sum({"a"}, "b"),
                                    Sum({"b", "d"}, "e")};
  BatchResult result = ExpectSerialEquivalent(base, batch, options);
  EXPECT_EQ(result.txns[0].outcome, Outcome::kAborted);
  EXPECT_EQ(result.txns[0].reason, "declares 4 keys, more than max_keys_per_txn 3");
  EXPECT_EQ(result.txns[0].gas_used, 0u);
}

TEST_P(DeclaredScheduler, BatchBoundsAreRefusedBeforeAnythingRuns) {
  ExecuteOptions options = DeclaredOptions();
  options.limits.max_batch_size = 1;
  Result<BatchResult> result =
      executor_->Execute(MapState(), std::vector<Transaction>{Sum({}, "a"), Sum({}, "b")}, options);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "batch of 2 transactions exceeds max_batch_size 1");
}

TEST_P(DeclaredScheduler, LargeBatchesBuildTheGraphOnEveryWorkerAndEqualTheSerialRun) {
  // Enough transactions for the conflict graph to be built in key partitions,
  // one per worker, each reading its keys' base values.
  MapState base;
  std::vector<Transaction> batch;
  for (int i = 0; i < 6000; ++i) {
    base.Put("src" + std::to_string(i), std::to_string(i));
    batch.push_back(Sum({"src" + std::to_string(i), "src" + std::to_string((i * 7) % 6000)},
                        "dst" + std::to_string(i % 1000)));
  }
  ExpectSerialEquivalent(base, batch);
}

// A traced run is well formed: every transaction starts once and ends once
// (COMMIT or ABORT matching its outcome), all its events come from one
// thread in the order its body made them, the whole trace is ordered by
// time, and each transaction's reads, writes and versions are the serial
// run's.
TEST_P(DeclaredScheduler, TracesAreWellFormedAndMatchTheSerialRunPerTransaction) {
  MapState base;
  base.Put("a", "4");
  std::vector<Transaction> batch;
  for (int i = 0; i < 60; ++i) {
    batch.push_back(i % 4 == 0 ? Transfer("a", "b" + std::to_string(i % 3))
                               : Sum({"a", "b" + std::to_string(i % 3)}, "c" + std::to_string(i)));
  }
  const ExecuteOptions options = DeclaredOptions(/*trace=*/true);
  BatchResult declared = ExpectSerialEquivalent(base, batch, options);

  ExecuteOptions serial_options = options;
  serial_options.enforce_declared = true;
  struct Collect final : TraceSink {
    void Record(TraceEvent event) override { events.push_back(std::move(event)); }
    std::vector<TraceEvent> events;
  } serial_trace;
  ASSERT_TRUE(ExecuteSerial(base, batch, serial_options, &serial_trace).ok());

  auto per_txn = [&](const std::vector<TraceEvent>& events) {
    std::map<std::uint32_t, std::vector<std::tuple<TraceKind, std::string, Version>>> out;
    for (const TraceEvent& e : events)
      out[e.txn].emplace_back(e.kind, e.key, e.version);
    return out;
  };
  EXPECT_EQ(per_txn(declared.trace), per_txn(serial_trace.events));

  std::map<std::uint32_t, std::uint32_t> thread_of;
  for (std::size_t i = 0; i < declared.trace.size(); ++i) {
    const TraceEvent& e = declared.trace[i];
    if (i > 0) {
      EXPECT_LE(declared.trace[i - 1].time_ns, e.time_ns);
    }
    EXPECT_LT(e.thread, GetParam());
    EXPECT_EQ(e.incarnation, 0u);
    auto [it, first] = thread_of.emplace(e.txn, e.thread);
    EXPECT_EQ(it->second, e.thread) << "transaction " << e.txn << " moved threads";
    EXPECT_EQ(first, e.kind == TraceKind::kStart) << "transaction " << e.txn;
  }
  std::map<std::uint32_t, TraceKind> last;
  for (const TraceEvent& e : declared.trace)
    last[e.txn] = e.kind;
  ASSERT_EQ(last.size(), batch.size());
  for (const auto& [txn, kind] : last) {
    EXPECT_EQ(kind, declared.txns[txn].outcome == Outcome::kCommitted ? TraceKind::kCommit
                                                                      : TraceKind::kAbort);
  }
}

TEST_P(DeclaredScheduler, TracesAreAbsentWhenOff) {
  MapState base;
  base.Put("a", "1");
  BatchResult result = ExpectSerialEquivalent(base, {Transfer("a", "b"), Sum({"b"}, "c")});
  EXPECT_TRUE(result.trace.empty());
}

TEST_P(DeclaredScheduler, OneLongChainRunsOnTheCallingThread) {
  MapState base;
  base.Put("a", "1000");
  std::vector<Transaction> batch;
  for (int i = 0; i < 300; ++i)
    batch.push_back(i % 2 == 0 ? Transfer("a", "b") : Transfer("b", "a"));
  BatchResult result = ExpectSerialEquivalent(base, batch, DeclaredOptions(/*trace=*/true));
  ASSERT_FALSE(result.trace.empty());
  for (const TraceEvent& e : result.trace)
    EXPECT_EQ(e.thread, 0u);
}

// Two chains side by side (parallelism 2, so it runs on the workers) leave the
// other workers idle long enough to sleep; then one write releases a fan-out
// of readers at once, which must wake them, and the end of the batch must
// wake every sleeper (a lost wake-up hangs this test).
TEST_P(DeclaredScheduler, IdleWorkersWakeForFanOutsAndAtTheEnd) {
  MapState base;
  base.Put("x", "1");
  base.Put("y", "1");
  // Chain links that take a while, so that idle workers run out of spins.
  auto slow = [](Transaction txn) {
    txn.body = [inner = std::move(txn.body)](TxnContext& ctx) {
      volatile std::uint64_t mix = 0;
      for (int i = 0; i < 20'000; ++i)
        mix = mix * 31 + static_cast<std::uint64_t>(i);
      return inner(ctx);
    };
    return txn;
  };
  std::vector<Transaction> batch;
  for (int i = 0; i < 400; ++i) {
    batch.push_back(slow(Sum({"x"}, "x")));
    batch.push_back(slow(Sum({"y"}, "y")));
  }
  for (int i = 0; i < 300; ++i)
    batch.push_back(Sum({"x", "y"}, "fan" + std::to_string(i)));
  for (int i = 0; i < 300; ++i)
    batch.push_back(Sum({"x", "y"}, "x"));
  ExpectSerialEquivalent(base, batch);
}

// Random bodies over a small key space: each reads some of its declared keys,
// derives values from what it read, writes or deletes, sometimes aborts,
// sometimes runs out of gas and sometimes touches an undeclared key.
std::vector<Transaction> RandomBatch(std::mt19937& rng, int n, int keys) {
  std::vector<Transaction> batch;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> reads, writes;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k)
      reads.push_back("k" + std::to_string(rng() % keys));
    for (int k = static_cast<int>(rng() % 3); k > 0; --k)
      writes.push_back("k" + std::to_string(rng() % keys));
    const std::string undeclared = rng() % 10 == 0 ? "k" + std::to_string(rng() % keys) : "";
    const unsigned salt = rng() % 1000;
    Transaction txn;
    txn.read_set = reads;
    txn.write_set = writes;
    txn.gas_budget = rng() % 8 == 0 ? 1 + rng() % 6 : 0;
    txn.body = [reads, writes, undeclared, salt](TxnContext& ctx) -> Status {
      long acc = salt;
      for (const std::string& key : reads) {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> value, ctx.Read(key));
        acc = acc * 31 + (value ? static_cast<long>(value->size()) + (*value)[0] : 7);
      }
      if (!undeclared.empty()) {
        TRI_ASSIGN_OR_RETURN(std::optional<std::string> value, ctx.Read(undeclared));
        acc += value ? 1 : 2;
      }
      if (acc % 11 == 3) return Aborted("unlucky " + std::to_string(acc % 1000));
      for (std::size_t w = 0; w < writes.size(); ++w) {
        Status s = (acc + static_cast<long>(w)) % 5 == 0
                       ? ctx.Delete(writes[w])
                       : ctx.Write(writes[w], std::to_string((acc + static_cast<long>(w)) % 997));
        if (!s.ok()) return s;
      }
      return Status::Ok();
    };
    batch.push_back(std::move(txn));
  }
  return batch;
}

TEST_P(DeclaredScheduler, RandomBatchesEqualTheSerialRun) {
  std::mt19937 rng(1127 + static_cast<unsigned>(GetParam()));
  for (int round = 0; round < 60; ++round) {
    const int keys = 2 + static_cast<int>(rng() % 40);
    MapState base;
    for (int k = 0; k < keys; k += 2)
      base.Put("k" + std::to_string(k), std::to_string(k));
    std::vector<Transaction> batch = RandomBatch(rng, static_cast<int>(rng() % 300), keys);
    ExpectSerialEquivalent(base, batch, DeclaredOptions(/*trace=*/round % 4 == 0));
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, DeclaredScheduler, testing::Values(1, 2, 4, 8),
                         [](const testing::TestParamInfo<std::size_t>& info) {
                           return std::to_string(info.param) + "_threads";
                         });

}  // namespace
}  // namespace tri::txn
