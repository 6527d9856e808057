#include <gtest/gtest.h>

#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::txn {
namespace {

Transaction Transfer(std::string from, std::string to) {
  Transaction txn;
  txn.read_set = {};
  txn.write_set = {from, to};
  txn.body = [from, to](TxnContext& ctx) -> Status {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> a, ctx.Read(from));
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> b, ctx.Read(to));
    long x = a ? std::stol(*a) : 0;
    long y = b ? std::stol(*b) : 0;
    if (x < 1) return Aborted("insufficient funds in " + from);
    if (Status s = ctx.Write(from, std::to_string(x - 1)); !s.ok()) return s;
    return ctx.Write(to, std::to_string(y + 1));
  };
  return txn;
}

TEST(SerialExecutor, LaterTransactionsSeeEarlierWritesAndAbortsRollBack) {
  MapState state;
  state.Put("a", "1");
  std::vector<Transaction> batch = {Transfer("a", "b"), Transfer("a", "b"), Transfer("b", "c")};
  Result<BatchResult> result = ExecuteSerial(state, batch, {});
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->txns.size(), 3u);
  EXPECT_EQ(result->txns[0].outcome, Outcome::kCommitted);
  EXPECT_EQ(result->txns[1].outcome, Outcome::kAborted);
  EXPECT_EQ(result->txns[1].reason, "insufficient funds in a");
  EXPECT_TRUE(result->txns[1].writes.empty());
  EXPECT_EQ(result->txns[2].outcome, Outcome::kCommitted);
  state.Apply(*result);
  EXPECT_EQ(state.Get("a"), "0");
  EXPECT_EQ(state.Get("b"), "0");
  EXPECT_EQ(state.Get("c"), "1");
}

TEST(SerialExecutor, GasBudgetTimesOutAndRollsBack) {
  Transaction loop;
  loop.gas_budget = 10;
  loop.body = [](TxnContext& ctx) -> Status {
    for (int i = 0;; ++i) {
      if (Status s = ctx.Write("k" + std::to_string(i), "v"); !s.ok()) return s;
    }
  };
  MapState state;
  Result<BatchResult> result = ExecuteSerial(state, std::vector<Transaction>{loop}, {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->txns[0].outcome, Outcome::kTimedOut);
  EXPECT_EQ(result->txns[0].reason, "gas budget 10 exceeded");
  EXPECT_EQ(result->txns[0].gas_used, 11u);
  EXPECT_TRUE(result->txns[0].writes.empty());
}

TEST(ParallelExecutor, SerialSchedulerTracesEveryStep) {
  auto executor = ParallelExecutor::Create(2);
  ASSERT_TRUE(executor.ok());
  MapState state;
  state.Put("a", "1");
  ExecuteOptions options;
  options.scheduler = Scheduler::kSerial;
  options.trace = true;
  std::vector<Transaction> batch = {Transfer("a", "b")};
  Result<BatchResult> result = (*executor)->Execute(state, batch, options);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->trace.size(), 6u);  // START READ READ WRITE WRITE COMMIT
  EXPECT_EQ(result->trace.front().kind, TraceKind::kStart);
  EXPECT_EQ(result->trace[1].key, "a");
  EXPECT_TRUE(result->trace[1].version.from_storage());
  EXPECT_EQ(result->trace.back().kind, TraceKind::kCommit);
}

TEST(ParallelExecutor, RefusesBadThreadCounts) {
  EXPECT_EQ(ParallelExecutor::Create(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParallelExecutor::Create(kMaxThreads + 1).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tri::txn
