// MemoryStorage, RaftLog, Progress/Inflights and the ConfChange encoding.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "raft/internal/log.h"
#include "raft/internal/progress.h"
#include "raft/raw_node.h"
#include "raft/storage.h"

namespace tri::raft {
namespace {

std::vector<Entry> Ents(Index from, std::vector<Term> terms) {
  std::vector<Entry> out;
  for (Term t : terms) out.push_back(Entry{from++, t, EntryType::kNormal, "d"});
  return out;
}

TEST(MemoryStorage, AppendTruncatesConflictingSuffix) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents(1, {1, 1, 1})).ok());
  ASSERT_TRUE(s.Append(Ents(2, {2})).ok());
  EXPECT_EQ(s.LastIndex(), 2u);
  EXPECT_EQ(*s.TermAt(2), 2u);
}

TEST(MemoryStorage, AppendRefusesAGap) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents(1, {1})).ok());
  EXPECT_FALSE(s.Append(Ents(3, {1})).ok());
}

TEST(MemoryStorage, CompactKeepsTheTermOfTheCompactionPoint) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents(1, {1, 2, 3})).ok());
  ASSERT_TRUE(s.Compact(2).ok());
  EXPECT_EQ(s.FirstIndex(), 3u);
  EXPECT_EQ(*s.TermAt(2), 2u);
  EXPECT_TRUE(IsCompacted(s.TermAt(1).status()));
  EXPECT_TRUE(IsCompacted(s.Entries(2, 3, kNoSizeLimit).status()));
  EXPECT_TRUE(IsCompacted(s.Compact(2)));
}

TEST(MemoryStorage, EntriesRespectTheSizeLimitButReturnAtLeastOne) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents(1, {1, 1, 1})).ok());
  EXPECT_EQ(s.Entries(1, 4, 1)->size(), 1u);
  EXPECT_EQ(s.Entries(1, 4, 2 * EntrySizeBytes(Ents(1, {1})[0]))->size(), 2u);
}

TEST(MemoryStorage, ApplySnapshotRefusesAnOlderSnapshot) {
  MemoryStorage s;
  Snapshot snap;
  snap.metadata.index = 5;
  snap.metadata.term = 2;
  ASSERT_TRUE(s.ApplySnapshot(snap).ok());
  EXPECT_EQ(s.FirstIndex(), 6u);
  EXPECT_EQ(s.LastIndex(), 5u);
  snap.metadata.index = 4;
  EXPECT_FALSE(s.ApplySnapshot(snap).ok());
}

TEST(RaftLog, UnstableEntriesShadowStorageUntilStable) {
  MemoryStorage s;
  ASSERT_TRUE(s.Append(Ents(1, {1, 1})).ok());
  RaftLog log(&s, kNoSizeLimit);
  EXPECT_EQ(log.LastIndex(), 2u);
  log.Append(Ents(2, {2, 2}));  // replaces stored index 2
  EXPECT_EQ(log.TermOrZero(2), 2u);
  EXPECT_EQ(log.StableIndex(), 1u);
  ASSERT_TRUE(s.Append(log.unstable_entries()).ok());
  log.StableTo(3, 2);
  EXPECT_EQ(log.StableIndex(), 3u);
  EXPECT_TRUE(log.unstable_entries().empty());
}

TEST(RaftLog, StableToIgnoresAReplacedEntry) {
  MemoryStorage s;
  RaftLog log(&s, kNoSizeLimit);
  log.Append(Ents(1, {1, 1}));
  log.Append(Ents(2, {2}));  // 2 replaced after a Ready handed out (2, term 1)
  log.StableTo(2, 1);
  EXPECT_EQ(log.unstable_entries().size(), 2u);
}

TEST(RaftLog, MaybeAppendRejectsOnMismatchAndNeverMovesCommitBack) {
  MemoryStorage s;
  RaftLog log(&s, kNoSizeLimit);
  ASSERT_TRUE(log.MaybeAppend(0, 0, 2, Ents(1, {1, 1, 1})).has_value());
  EXPECT_EQ(log.committed(), 2u);
  EXPECT_FALSE(log.MaybeAppend(3, 2, 3, {}).has_value());
  // A stale append with a lower leader commit leaves the commit index alone.
  ASSERT_TRUE(log.MaybeAppend(1, 1, 1, Ents(2, {1})).has_value());
  EXPECT_EQ(log.committed(), 2u);
  EXPECT_EQ(log.LastIndex(), 3u);  // matching entries never truncate the tail
}

TEST(RaftLog, FindConflictByTermSkipsAWholeTerm) {
  MemoryStorage s;
  RaftLog log(&s, kNoSizeLimit);
  log.Append(Ents(1, {1, 1, 3, 3, 3, 3}));
  EXPECT_EQ(log.FindConflictByTerm(6, 2).first, 2u);
  EXPECT_EQ(log.FindConflictByTerm(6, 3).first, 6u);
  EXPECT_EQ(log.FindConflictByTerm(6, 0).first, 0u);
}

TEST(RaftLog, IsUpToDateComparesLastTermThenLength) {
  MemoryStorage s;
  RaftLog log(&s, kNoSizeLimit);
  log.Append(Ents(1, {1, 2}));
  EXPECT_TRUE(log.IsUpToDate(1, 3));
  EXPECT_TRUE(log.IsUpToDate(2, 2));
  EXPECT_FALSE(log.IsUpToDate(1, 2));
  EXPECT_FALSE(log.IsUpToDate(5, 1));
}

TEST(Inflights, BoundsMessagesAndBytes) {
  Inflights in(3, 100);
  in.Add(1, 40);
  in.Add(2, 40);
  EXPECT_FALSE(in.Full());
  in.Add(3, 40);
  EXPECT_TRUE(in.Full());
  in.FreeLE(2);
  EXPECT_EQ(in.count(), 1u);
  EXPECT_EQ(in.bytes(), 40u);
  EXPECT_FALSE(in.Full());
}

TEST(Progress, ProbeIgnoresStaleRejections) {
  Progress pr(10, 4, 1000);
  pr.match = 3;
  EXPECT_FALSE(pr.MaybeDecrTo(5, 4));  // not the last probe (next-1 == 9)
  EXPECT_TRUE(pr.MaybeDecrTo(9, 6));
  EXPECT_EQ(pr.next, 7u);
}

TEST(Progress, ReplicateFallsBackToMatchOnRejection) {
  Progress pr(10, 4, 1000);
  pr.match = 5;
  pr.BecomeReplicate();
  pr.OptimisticUpdate(9);
  EXPECT_FALSE(pr.MaybeDecrTo(4, 0));  // at or below match: stale
  EXPECT_TRUE(pr.MaybeDecrTo(8, 0));
  EXPECT_EQ(pr.next, 6u);
}

RC_GTEST_PROP(ConfChange, EncodingRoundTrips, ()) {
  ConfChange cc;
  cc.type = static_cast<ConfChangeType>(*rc::gen::inRange(0, 3));
  cc.node_id = *rc::gen::arbitrary<NodeId>();
  cc.context = *rc::gen::arbitrary<std::string>();
  ConfChange out;
  RC_ASSERT(DecodeConfChange(EncodeConfChange(cc), &out));
  RC_ASSERT(out == cc);
}

RC_GTEST_PROP(ConfChange, DecodingArbitraryBytesNeverCrashes, ()) {
  const auto bytes = *rc::gen::arbitrary<std::string>();
  ConfChange out;
  (void)DecodeConfChange(bytes, &out);
}

}  // namespace
}  // namespace tri::raft

namespace tri::raft {
namespace {

// RAFT_HARD_CASES 10: a damaged log is detected, never silently used.
class FaultyStorage final : public Storage {
 public:
  explicit FaultyStorage(MemoryStorage* inner) : inner_(inner) {}
  Result<InitialState> GetInitialState() const override { return inner_->GetInitialState(); }
  Result<std::vector<Entry>> Entries(Index lo, Index hi, std::uint64_t max) const override {
    if (corrupt) return Corruption("bad checksum in segment 3 at offset 4096");
    return inner_->Entries(lo, hi, max);
  }
  Result<Term> TermAt(Index i) const override {
    if (corrupt) return Corruption("bad checksum in segment 3 at offset 4096");
    return inner_->TermAt(i);
  }
  Index FirstIndex() const override { return inner_->FirstIndex(); }
  Index LastIndex() const override { return inner_->LastIndex(); }
  Result<Snapshot> GetSnapshot() const override { return inner_->GetSnapshot(); }
  bool corrupt = false;

 private:
  MemoryStorage* inner_;
};

Config ConfigFor(Storage* s) {
  Config c;
  c.id = 1;
  c.storage = s;
  c.randomized_election_timeout = false;
  return c;
}

TEST(StorageDamage, HardStateCommitBeyondTheLogIsRefusedAtStart) {
  // Lost unsynced writes: the hard state says 5 is committed, the log ends at 3.
  MemoryStorage s(ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(s.Append(Ents(1, {1, 1, 1})).ok());
  s.SetHardState(HardState{1, 1, 5});
  auto node = RawNode::Create(ConfigFor(&s));
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kCorruption);
  EXPECT_NE(node.status().message().find("commit 5"), std::string::npos);
}

TEST(StorageDamage, MalformedCommittedConfChangeIsRefusedAtStart) {
  MemoryStorage s(ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(s.Append({Entry{1, 1, EntryType::kConfChange, "\x07garbage"}}).ok());
  s.SetHardState(HardState{1, 1, 1});
  auto node = RawNode::Create(ConfigFor(&s));
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kCorruption);
  EXPECT_NE(node.status().message().find("index 1"), std::string::npos);
}

TEST(StorageDamageDeathTest, CorruptionWhileRunningStopsTheProcess) {
  MemoryStorage inner(ConfState{{1}, {}, {}});
  FaultyStorage s(&inner);
  auto node = RawNode::Create(ConfigFor(&s));
  ASSERT_TRUE(node.ok());
  ASSERT_TRUE((*node)->Campaign().ok());
  s.corrupt = true;
  EXPECT_DEATH(
      {
        for (int i = 0; i < 3; ++i) {
          (void)(*node)->Propose("x");
          if ((*node)->HasReady()) {
            Ready rd = (*node)->GetReady();
            (void)inner.Append(rd.entries);
            (*node)->Advance();
          }
        }
        Ready rd = (*node)->GetReady();  // reads committed entries from storage
      },
      "storage failed");
}

}  // namespace
}  // namespace tri::raft

namespace tri::raft {
namespace {

// RaftLog (storage + unstable tail) against a plain vector of terms, under random
// appends that truncate, persistence acknowledgements, commits and compactions.
RC_GTEST_PROP(RaftLogModel, AgreesWithAVectorOfTerms, ()) {
  MemoryStorage storage;
  RaftLog log(&storage, kNoSizeLimit);
  std::vector<Term> model = {0};  // model[i] = term of index i; index 0 is the dummy
  Term term = 1;
  const int steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    const int op = *rc::gen::inRange(0, 4);
    const Index last = model.size() - 1;
    if (op == 0) {
      // Append 1-4 entries after a random point above the commit index.
      const Index from = *rc::gen::inRange<Index>(log.committed() + 1, last + 2);
      if (from < log.FirstIndex()) continue;
      term += *rc::gen::inRange<Term>(0, 2);
      const int n = *rc::gen::inRange(1, 5);
      std::vector<Entry> ents;
      for (int k = 0; k < n; ++k) ents.push_back(Entry{from + k, term, EntryType::kNormal, "x"});
      log.Append(ents);
      model.resize(from);
      for (int k = 0; k < n; ++k) model.push_back(term);
    } else if (op == 1) {
      // The application persisted everything unstable (a Ready + Advance).
      const std::vector<Entry> unstable = log.unstable_entries();
      RC_ASSERT(storage.Append(unstable).ok());
      if (!unstable.empty()) log.StableTo(unstable.back().index, unstable.back().term);
      RC_ASSERT(log.StableIndex() == last);
    } else if (op == 2) {
      log.CommitTo(*rc::gen::inRange<Index>(log.committed(), log.StableIndex() + 1));
    } else {
      // Compact storage below the commit index.
      const Index at = log.committed();
      if (at >= storage.FirstIndex() && at <= storage.LastIndex()) {
        RC_ASSERT(storage.Compact(at).ok());
      }
    }
    RC_ASSERT(log.LastIndex() == model.size() - 1);
    RC_ASSERT(log.committed() <= log.LastIndex());
    for (Index i = log.FirstIndex() - 1; i < model.size(); ++i) {
      auto t = log.TermAt(i);
      RC_ASSERT(t.ok());
      RC_ASSERT(*t == model[i]);
    }
    if (log.FirstIndex() <= log.LastIndex()) {
      auto ents = log.Entries(log.FirstIndex(), log.LastIndex() + 1, kNoSizeLimit);
      RC_ASSERT(ents.ok());
      RC_ASSERT(ents->size() == log.LastIndex() - log.FirstIndex() + 1);
      for (const Entry& e : *ents) RC_ASSERT(e.term == model[e.index]);
    }
  }
}

}  // namespace
}  // namespace tri::raft
