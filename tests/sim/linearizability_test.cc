#include "sim/linearizability.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

namespace tri::sim {
namespace {

// Builders for hand-written histories; times are small integers.
class HistoryBuilder {
 public:
  HistoryBuilder& Put(std::uint32_t client, KvKey key, KvValue v, std::int64_t call,
                      std::int64_t ret) {
    return Add(client, OpKind::kPut, key, v, kAbsent, OpOutcome::kOk, kAbsent, call, ret);
  }
  HistoryBuilder& PutTimedOut(std::uint32_t client, KvKey key, KvValue v, std::int64_t call) {
    return Add(client, OpKind::kPut, key, v, kAbsent, OpOutcome::kUnknown, kAbsent, call,
               kNeverReturned);
  }
  HistoryBuilder& Get(std::uint32_t client, KvKey key, KvValue seen, std::int64_t call,
                      std::int64_t ret) {
    return Add(client, OpKind::kGet, key, kAbsent, kAbsent, OpOutcome::kOk, seen, call, ret);
  }
  HistoryBuilder& Cas(std::uint32_t client, KvKey key, KvValue expected, KvValue v, bool swapped,
                      std::int64_t call, std::int64_t ret) {
    return Add(client, OpKind::kCas, key, v, expected,
               swapped ? OpOutcome::kOk : OpOutcome::kCasFailed, kAbsent, call, ret);
  }
  HistoryBuilder& CasTimedOut(std::uint32_t client, KvKey key, KvValue expected, KvValue v,
                              std::int64_t call) {
    return Add(client, OpKind::kCas, key, v, expected, OpOutcome::kUnknown, kAbsent, call,
               kNeverReturned);
  }
  const KvHistory& history() const { return history_; }

 private:
  HistoryBuilder& Add(std::uint32_t client, OpKind kind, KvKey key, KvValue v, KvValue expected,
                      OpOutcome outcome, KvValue seen, std::int64_t call, std::int64_t ret) {
    KvOperation op;
    op.id = history_.size();
    op.client_id = client;
    op.kind = kind;
    op.key = key;
    op.value = v;
    op.expected = expected;
    op.outcome = outcome;
    op.read_value = seen;
    op.call_time = call;
    op.return_time = ret;
    history_.push_back(op);
    return *this;
  }
  KvHistory history_;
};

LinearizabilityVerdict Verdict(const HistoryBuilder& b) {
  return CheckKvLinearizability(b.history()).verdict;
}

constexpr auto kYes = LinearizabilityVerdict::kLinearizable;
constexpr auto kNo = LinearizabilityVerdict::kNotLinearizable;

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(Verdict(HistoryBuilder()), kYes);
}

TEST(Linearizability, SequentialPutThenGetOfThatValueIsLinearizable) {
  HistoryBuilder b;
  b.Put(1, 0, 5, 0, 1).Get(2, 0, 5, 2, 3);
  EXPECT_EQ(Verdict(b), kYes);
}

TEST(Linearizability, ReadOfAbsentKeyBeforeAnyPutIsLinearizable) {
  HistoryBuilder b;
  b.Get(1, 0, kAbsent, 0, 1).Put(1, 0, 3, 2, 3);
  EXPECT_EQ(Verdict(b), kYes);
}

TEST(Linearizability, StaleReadAfterCompletedPutIsRejected) {
  HistoryBuilder b;
  b.Put(1, 0, 5, 0, 1).Put(1, 0, 6, 2, 3).Get(2, 0, 5, 4, 5);
  const auto result = CheckKvLinearizability(b.history());
  EXPECT_EQ(result.verdict, kNo);
  EXPECT_EQ(result.failing_key, 0u);
  EXPECT_NE(result.explanation.find("get(k0)"), std::string::npos) << result.explanation;
}

TEST(Linearizability, ReadConcurrentWithPutMaySeeEitherValue) {
  HistoryBuilder old_value;
  old_value.Put(1, 0, 5, 0, 1).Put(1, 0, 6, 2, 10).Get(2, 0, 5, 3, 4);
  EXPECT_EQ(Verdict(old_value), kYes);
  HistoryBuilder new_value;
  new_value.Put(1, 0, 5, 0, 1).Put(1, 0, 6, 2, 10).Get(2, 0, 6, 3, 4);
  EXPECT_EQ(Verdict(new_value), kYes);
}

TEST(Linearizability, ReadOfNeverWrittenValueIsRejected) {
  HistoryBuilder b;
  b.Put(1, 0, 5, 0, 10).Get(2, 0, 7, 1, 2);
  EXPECT_EQ(Verdict(b), kNo);
}

TEST(Linearizability, ReadsThatDisagreeOnTheOrderOfFinishedPutsAreRejected) {
  // Both puts finish before either read starts: the value is fixed afterwards.
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 5).Put(2, 0, 2, 1, 6).Get(3, 0, 1, 7, 8).Get(3, 0, 2, 9, 10);
  EXPECT_EQ(Verdict(b), kNo);
}

TEST(Linearizability, ConcurrentReadersMayObserveConcurrentPutsInOneOrderOnly) {
  // Reader 3 sees 1 then 2 while reader 4 sees 2 then 1, all during the puts.
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 100).Put(2, 0, 2, 0, 100);
  b.Get(3, 0, 1, 10, 11).Get(3, 0, 2, 12, 13);
  b.Get(4, 0, 2, 10, 11).Get(4, 0, 1, 14, 15);
  EXPECT_EQ(Verdict(b), kNo);
  HistoryBuilder agree;
  agree.Put(1, 0, 1, 0, 100).Put(2, 0, 2, 0, 100);
  agree.Get(3, 0, 1, 10, 11).Get(3, 0, 2, 12, 13);
  agree.Get(4, 0, 1, 10, 11).Get(4, 0, 2, 14, 15);
  EXPECT_EQ(Verdict(agree), kYes);
}

TEST(Linearizability, TimedOutPutMayTakeEffectLate) {
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 1).PutTimedOut(2, 0, 2, 2).Get(3, 0, 1, 50, 51).Get(3, 0, 2, 60, 61);
  EXPECT_EQ(Verdict(b), kYes);
}

TEST(Linearizability, TimedOutPutMayNeverTakeEffect) {
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 1).PutTimedOut(2, 0, 2, 2).Get(3, 0, 1, 50, 51);
  EXPECT_EQ(Verdict(b), kYes);
}

TEST(Linearizability, TimedOutPutCannotTakeEffectBeforeItsCall) {
  HistoryBuilder b;
  b.Get(3, 0, 2, 0, 1).PutTimedOut(2, 0, 2, 5);
  EXPECT_EQ(Verdict(b), kNo);
}

TEST(Linearizability, TimedOutPutTakesEffectAtMostOnce) {
  // 2 is observed, then overwritten by a completed put of 1, then 2 again.
  HistoryBuilder b;
  b.PutTimedOut(2, 0, 2, 0).Get(3, 0, 2, 10, 11).Put(1, 0, 1, 12, 13).Get(3, 0, 2, 14, 15);
  EXPECT_EQ(Verdict(b), kNo);
}

TEST(Linearizability, TwoSuccessfulCompareAndSwapsFromTheSameValueAreRejected) {
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 1).Cas(2, 0, 1, 2, true, 2, 10).Cas(3, 0, 1, 3, true, 3, 11);
  EXPECT_EQ(Verdict(b), kNo);
  HistoryBuilder one_wins;
  one_wins.Put(1, 0, 1, 0, 1).Cas(2, 0, 1, 2, true, 2, 10).Cas(3, 0, 1, 3, false, 3, 11);
  EXPECT_EQ(Verdict(one_wins), kYes);
}

TEST(Linearizability, FailedCompareAndSwapOnMatchingValueIsRejected) {
  HistoryBuilder b;
  b.Put(1, 0, 4, 0, 1).Cas(2, 0, 4, 9, false, 2, 3);
  EXPECT_EQ(Verdict(b), kNo);
}

TEST(Linearizability, TimedOutCompareAndSwapExplainsALaterRead) {
  HistoryBuilder b;
  b.Put(1, 0, 4, 0, 1).CasTimedOut(2, 0, 4, 9, 2).Get(3, 0, 9, 20, 21);
  EXPECT_EQ(Verdict(b), kYes);
  HistoryBuilder wrong_expectation;
  wrong_expectation.Put(1, 0, 4, 0, 1).CasTimedOut(2, 0, 5, 9, 2).Get(3, 0, 9, 20, 21);
  EXPECT_EQ(Verdict(wrong_expectation), kNo);
}

TEST(Linearizability, KeysAreCheckedIndependentlyAndTheFailingKeyIsNamed) {
  HistoryBuilder b;
  b.Put(1, 0, 1, 0, 1).Get(2, 0, 1, 2, 3);  // fine on k0
  b.Put(1, 7, 1, 4, 5).Get(2, 7, 3, 6, 7);  // k7 reads a value never written
  const auto result = CheckKvLinearizability(b.history());
  EXPECT_EQ(result.verdict, kNo);
  EXPECT_EQ(result.failing_key, 7u);
  // Values of other keys do not leak: a read of k0 does not see k7's writes.
  HistoryBuilder cross;
  cross.Put(1, 1, 5, 0, 1).Get(2, 0, 5, 2, 3);
  EXPECT_EQ(Verdict(cross), kNo);
}

TEST(Linearizability, ExhaustedBudgetIsInconclusiveNotAPass) {
  HistoryBuilder b;
  for (int i = 0; i < 12; ++i)
    b.Put(static_cast<std::uint32_t>(i), 0, i + 1, 0, 100);
  b.Get(99, 0, 777, 101, 102);  // not linearizable, but proving it takes many steps
  LinearizabilityOptions tiny;
  tiny.max_search_steps_per_key = 10;
  EXPECT_EQ(CheckKvLinearizability(b.history(), tiny).verdict,
            LinearizabilityVerdict::kInconclusive);
  EXPECT_EQ(CheckKvLinearizability(b.history()).verdict, kNo);
}

// A history produced by a truly atomic register: each operation takes effect
// at one random point inside its interval. Some responses are then "lost".
KvHistory GenerateAtomicHistory(int op_count, int key_count, bool lose_some) {
  struct Planned {
    KvOperation op;
    std::int64_t effect_time;
  };
  std::vector<Planned> planned;
  std::int64_t clock = 0;
  std::map<std::uint32_t, std::int64_t> client_free_at;
  for (int i = 0; i < op_count; ++i) {
    KvOperation op;
    op.id = static_cast<std::uint64_t>(i);
    op.client_id = *rc::gen::inRange<std::uint32_t>(0, 4);
    op.key = *rc::gen::inRange<KvKey>(0, static_cast<KvKey>(key_count));
    op.kind = *rc::gen::element(OpKind::kPut, OpKind::kGet, OpKind::kCas);
    op.value = *rc::gen::inRange<KvValue>(1, 4);
    op.expected = *rc::gen::inRange<KvValue>(0, 4);
    clock += *rc::gen::inRange<std::int64_t>(0, 3);
    // Clients are sequential: a client calls again only after its last return.
    op.call_time = std::max(clock, client_free_at[op.client_id]) * 4;
    const std::int64_t effect = op.call_time + 1 + *rc::gen::inRange<std::int64_t>(0, 40) * 4;
    op.return_time = effect + 1 + *rc::gen::inRange<std::int64_t>(0, 20) * 4;
    client_free_at[op.client_id] = op.return_time / 4 + 1;
    planned.push_back({op, effect});
  }
  std::vector<Planned*> by_effect;
  for (auto& p : planned)
    by_effect.push_back(&p);
  std::sort(by_effect.begin(), by_effect.end(),
            [](const Planned* a, const Planned* b) { return a->effect_time < b->effect_time; });
  std::map<KvKey, KvValue> register_values;
  for (Planned* p : by_effect) {
    KvOperation& op = p->op;
    KvValue& v = register_values[op.key];
    switch (op.kind) {
      case OpKind::kPut:
        v = op.value;
        op.outcome = OpOutcome::kOk;
        break;
      case OpKind::kGet:
        op.read_value = v;
        op.outcome = OpOutcome::kOk;
        break;
      case OpKind::kCas:
        op.outcome = v == op.expected ? OpOutcome::kOk : OpOutcome::kCasFailed;
        if (v == op.expected) v = op.value;
        break;
    }
  }
  KvHistory history;
  for (auto& p : planned) {
    if (lose_some && *rc::gen::inRange(0, 5) == 0) {
      p.op.outcome = OpOutcome::kUnknown;
      p.op.return_time = kNeverReturned;
    }
    history.push_back(p.op);
  }
  return history;
}

RC_GTEST_PROP(LinearizabilityProperty, HistoriesOfAnAtomicRegisterAreAccepted, ()) {
  const int op_count = *rc::gen::inRange(1, 60);
  const KvHistory history = GenerateAtomicHistory(op_count, 3, *rc::gen::arbitrary<bool>());
  const auto result = CheckKvLinearizability(history);
  RC_ASSERT(result.verdict == LinearizabilityVerdict::kLinearizable);
}

RC_GTEST_PROP(LinearizabilityProperty, AReadOfANeverWrittenValueIsAlwaysRejected, ()) {
  const int op_count = *rc::gen::inRange(1, 60);
  KvHistory history = GenerateAtomicHistory(op_count, 3, *rc::gen::arbitrary<bool>());
  std::vector<std::size_t> completed_reads;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].kind == OpKind::kGet && history[i].outcome == OpOutcome::kOk) {
      completed_reads.push_back(i);
    }
  }
  RC_PRE(!completed_reads.empty());
  const std::size_t victim = *rc::gen::elementOf(completed_reads);
  history[victim].read_value = 1000;  // values written are 1..4
  RC_ASSERT(CheckKvLinearizability(history).verdict == LinearizabilityVerdict::kNotLinearizable);
}

}  // namespace
}  // namespace tri::sim
