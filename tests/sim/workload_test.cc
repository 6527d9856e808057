#include "sim/workload.h"

#include <gtest/gtest.h>

#include <deque>

#include "sim/kv_state_machine.h"
#include "sim/linearizability.h"

namespace tri::sim {
namespace {

TEST(KvCommandEncoding, RoundTripsAndRejectsGarbage) {
  KvCommand c{7, 42, OpKind::kCas, 3, 99, 5};
  KvCommand back;
  ASSERT_TRUE(DecodeKvCommand(EncodeKvCommand(c), &back));
  EXPECT_EQ(back, c);
  EXPECT_FALSE(DecodeKvCommand("", &back));
  EXPECT_FALSE(DecodeKvCommand(std::string(EncodeKvCommand(c).size(), 'x'), &back));
}

TEST(KvStateMachine, AppliesARetriedCommandOnceAndIgnoresOlderOnes) {
  KvStateMachine sm;
  ASSERT_TRUE(sm.Apply({1, 1, OpKind::kPut, 0, 10, 0}).has_value());
  ASSERT_TRUE(sm.Apply({2, 1, OpKind::kPut, 0, 20, 0}).has_value());
  // Client 1 retries seq 1: remembered result, no second write of 10.
  ASSERT_TRUE(sm.Apply({1, 1, OpKind::kPut, 0, 10, 0}).has_value());
  EXPECT_EQ(sm.Get(0), 20);
  ASSERT_TRUE(sm.Apply({1, 3, OpKind::kCas, 0, 30, 20}).has_value());
  EXPECT_EQ(sm.Get(0), 30);
  EXPECT_FALSE(sm.Apply({1, 2, OpKind::kPut, 0, 11, 0}).has_value());  // older than seq 3
  EXPECT_EQ(sm.Get(0), 30);
  const auto failed = sm.Apply({2, 2, OpKind::kCas, 0, 40, 20});
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->outcome, OpOutcome::kCasFailed);
  EXPECT_EQ(sm.applied_commands(), 4u);
}

TEST(KvStateMachine, SerializedStateRestoresValuesAndSessions) {
  KvStateMachine sm;
  ASSERT_TRUE(sm.Apply({1, 1, OpKind::kPut, 0, 10, 0}).has_value());
  ASSERT_TRUE(sm.Apply({2, 1, OpKind::kCas, 1, 20, 5}).has_value());
  KvStateMachine copy;
  ASSERT_TRUE(copy.Restore(sm.Serialize()));
  EXPECT_EQ(copy.Digest(), sm.Digest());
  EXPECT_EQ(copy.Get(0), 10);
  // The session survives: a retry of client 2's seq 1 returns the remembered failure.
  const auto retry = copy.Apply({2, 1, OpKind::kCas, 1, 20, 5});
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->outcome, OpOutcome::kCasFailed);
  std::string truncated = sm.Serialize();
  truncated.pop_back();
  EXPECT_FALSE(copy.Restore(truncated));
  EXPECT_EQ(copy.Get(0), 10);  // unchanged by the failed restore
  ASSERT_TRUE(copy.Restore(""));
  EXPECT_EQ(copy.Get(0), kAbsent);
}

// A cluster stand-in: one state machine, answers after a delay, sometimes
// loses the answer; optionally serves reads from a stale copy (a bug).
class FakeCluster final : public KvCluster {
 public:
  FakeCluster(Rng* rng, bool stale_reads) : rng_(rng), stale_reads_(stale_reads) {}

  bool Submit(SimNodeId node, const KvCommand& command) override {
    if (rng_->Bernoulli(0.1)) return false;  // refused at once
    pending_.push_back({command, now_us_ + rng_->Range(1'000, 50'000)});
    return true;
  }

  void Run(SimTimeUs now_us, Workload& workload) {
    now_us_ = now_us;
    while (!pending_.empty() && pending_.front().due_us <= now_us) {
      const KvCommand cmd = pending_.front().command;
      pending_.pop_front();
      std::optional<KvResult> result;
      if (cmd.kind == OpKind::kGet && stale_reads_) {
        result = KvResult{OpOutcome::kOk, stale_.Get(cmd.key)};
      } else {
        if (cmd.kind != OpKind::kGet) stale_copy_due_--;
        result = sm_.Apply(cmd);
        if (stale_copy_due_ <= 0) {
          stale_ = sm_;
          stale_copy_due_ = 5;
        }
      }
      if (result && !rng_->Bernoulli(0.4))
        workload.OnResponse(cmd.client_id, cmd.seq, *result, now_us);
    }
  }

 private:
  struct Pending {
    KvCommand command;
    SimTimeUs due_us;
  };
  Rng* rng_;
  bool stale_reads_;
  SimTimeUs now_us_ = 0;
  KvStateMachine sm_;
  KvStateMachine stale_;
  int stale_copy_due_ = 5;
  std::deque<Pending> pending_;
};

LinearizabilityResult RunWorkload(std::uint64_t seed, bool stale_reads, WorkloadStats* stats) {
  SeededRng rng(seed);
  WorkloadConfig config;
  config.total_ops = 300;
  config.clients = 4;
  config.attempt_timeout_us = 40'000;
  Workload workload(config, {1, 2, 3}, &rng);
  FakeCluster cluster(&rng, stale_reads);
  SimTimeUs now = 0;
  while (!workload.Done() && now < 100'000'000) {
    cluster.Run(now, workload);
    workload.Tick(now, cluster);
    now += 1'000;
  }
  workload.Finish();
  *stats = workload.stats();
  return CheckKvLinearizability(workload.history());
}

TEST(Workload, HistoryOfAnAtomicStoreWithLostAnswersIsLinearizable) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    WorkloadStats stats;
    const auto result = RunWorkload(seed, /*stale_reads=*/false, &stats);
    EXPECT_EQ(result.verdict, LinearizabilityVerdict::kLinearizable)
        << "seed " << seed << ": " << result.explanation;
    EXPECT_EQ(stats.issued, 300u);
    EXPECT_GT(stats.completed, 200u);
    EXPECT_GT(stats.timed_out, 0u);  // lost answers become unknown outcomes
    EXPECT_EQ(stats.issued, stats.completed + stats.timed_out + stats.refused);
  }
}

TEST(Workload, StaleReadsAreCaughtByTheChecker) {
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    WorkloadStats stats;
    caught += RunWorkload(seed, /*stale_reads=*/true, &stats).verdict ==
              LinearizabilityVerdict::kNotLinearizable;
  }
  EXPECT_GE(caught, 4);
}

}  // namespace
}  // namespace tri::sim
