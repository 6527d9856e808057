// Paged log scans: RaftLog::Scan, and the two scans of the core that read a range of
// committed entries (membership replay at start-up, the campaign's check for
// unapplied conf changes) page by page instead of in one unbounded read.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raft/internal/log.h"
#include "raft/raw_node.h"
#include "raft/storage.h"

namespace tri::raft {
namespace {

// A Storage that records every Entries() read, so tests can see how a scan paged.
class RecordingStorage final : public Storage {
 public:
  struct Read {
    Index lo;
    Index hi;
    std::uint64_t max_size_bytes;
  };
  explicit RecordingStorage(MemoryStorage* inner) : inner_(inner) {}
  Result<InitialState> GetInitialState() const override { return inner_->GetInitialState(); }
  Result<std::vector<Entry>> Entries(Index lo, Index hi, std::uint64_t max) const override {
    reads.push_back(Read{lo, hi, max});
    return inner_->Entries(lo, hi, max);
  }
  Result<Term> TermAt(Index i) const override { return inner_->TermAt(i); }
  Index FirstIndex() const override { return inner_->FirstIndex(); }
  Index LastIndex() const override { return inner_->LastIndex(); }
  Result<Snapshot> GetSnapshot() const override { return inner_->GetSnapshot(); }

  mutable std::vector<Read> reads;

 private:
  MemoryStorage* inner_;
};

// Entries from..to (inclusive, at most index 9999) of term 1; those in conf_changes
// carry `cc`.
std::vector<Entry> Log(Index from, Index to, const std::vector<Index>& conf_changes = {},
                       const ConfChange& cc = {}) {
  std::vector<Entry> out;
  for (Index i = from; i <= to; ++i) {
    std::string data = std::to_string(i);
    data.insert(0, 4 - data.size(), '0');  // every entry has the same size
    Entry e{i, 1, EntryType::kNormal, std::move(data)};
    for (Index c : conf_changes) {
      if (c == i) {
        e.type = EntryType::kConfChange;
        e.data = EncodeConfChange(cc);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Index> Visit(const RaftLog& log, Index lo, Index hi, std::uint64_t page_bytes,
                         Index stop_at = 0, Status* status = nullptr) {
  std::vector<Index> seen;
  Status s = log.Scan(lo, hi, page_bytes, [&](const Entry& e) {
    seen.push_back(e.index);
    return e.index != stop_at;
  });
  if (status != nullptr) *status = s;
  return seen;
}

TEST(RaftLogScan, VisitsEveryEntryInOrderReadingBoundedPages) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 10)).ok());
  RecordingStorage storage(&inner);
  RaftLog log(&storage, kNoSizeLimit);
  // Two entries fit in a page (all entries of Log() have the same size).
  const std::uint64_t page = 2 * EntrySizeBytes(Log(1, 1)[0]);
  storage.reads.clear();
  EXPECT_EQ(Visit(log, 1, 11, page), (std::vector<Index>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  ASSERT_EQ(storage.reads.size(), 5u);
  for (std::size_t k = 0; k < storage.reads.size(); ++k) {
    EXPECT_EQ(storage.reads[k].lo, 1 + 2 * k);
    EXPECT_EQ(storage.reads[k].max_size_bytes, page);
  }
}

TEST(RaftLogScan, AnEntryLargerThanAPageIsStillVisited) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 3)).ok());
  RaftLog log(&inner, kNoSizeLimit);
  EXPECT_EQ(Visit(log, 1, 4, /*page_bytes=*/1), (std::vector<Index>{1, 2, 3}));
}

TEST(RaftLogScan, StopsReadingPagesWhenTheVisitorSaysSo) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 10)).ok());
  RecordingStorage storage(&inner);
  RaftLog log(&storage, kNoSizeLimit);
  storage.reads.clear();
  Status status = InvalidArgument("unset");
  EXPECT_EQ(Visit(log, 1, 11, /*page_bytes=*/1, /*stop_at=*/3, &status),
            (std::vector<Index>{1, 2, 3}));
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(storage.reads.size(), 3u);  // pages after the stop are never read
}

TEST(RaftLogScan, PagesSpanStorageAndTheUnstableTail) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 4)).ok());
  RaftLog log(&inner, kNoSizeLimit);
  log.Append(Log(5, 8));  // not yet persisted
  EXPECT_EQ(Visit(log, 2, 9, /*page_bytes=*/1), (std::vector<Index>{2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(Visit(log, 3, 7, kNoSizeLimit), (std::vector<Index>{3, 4, 5, 6}));
}

TEST(RaftLogScan, ACompactedRangeIsReportedAndNothingIsVisited) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 6)).ok());
  ASSERT_TRUE(inner.Compact(3).ok());
  RaftLog log(&inner, kNoSizeLimit);
  Status status;
  EXPECT_TRUE(Visit(log, 2, 7, /*page_bytes=*/1, 0, &status).empty());
  EXPECT_TRUE(IsCompacted(status)) << status.ToString();
}

TEST(RaftLogScan, AnEmptyRangeReadsNothing) {
  MemoryStorage inner;
  ASSERT_TRUE(inner.Append(Log(1, 3)).ok());
  RecordingStorage storage(&inner);
  RaftLog log(&storage, kNoSizeLimit);
  storage.reads.clear();
  EXPECT_TRUE(Visit(log, 2, 2, 1).empty());
  EXPECT_TRUE(storage.reads.empty());
}

Config OnePagePerEntry(NodeId id, Storage* storage) {
  Config c;
  c.id = id;
  c.storage = storage;
  c.randomized_election_timeout = false;
  c.pre_vote = false;
  // Every entry of these tests is larger than this: each page holds one entry.
  c.max_committed_size_per_ready_bytes = 1;
  return c;
}

TEST(PagedMembershipScan, RestartReplaysTheConfChangesOfEveryPage) {
  MemoryStorage inner(ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(inner.Append(Log(1, 5, {3}, ConfChange{ConfChangeType::kAddLearner, 4, ""})).ok());
  ASSERT_TRUE(inner.Append(Log(6, 20, {18}, ConfChange{ConfChangeType::kAddVoter, 5, ""})).ok());
  inner.SetHardState(HardState{1, 1, 20});
  RecordingStorage storage(&inner);
  auto node = RawNode::Create(OnePagePerEntry(1, &storage));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const ConfState conf = (*node)->status().conf_state;
  EXPECT_EQ(conf.voters, (std::set<NodeId>{1, 2, 3, 5}));
  EXPECT_EQ(conf.learners, (std::set<NodeId>{4}));
  // Replayed one bounded page at a time, never in one unbounded read.
  ASSERT_GE(storage.reads.size(), 20u);
  for (const RecordingStorage::Read& r : storage.reads)
    EXPECT_EQ(r.max_size_bytes, 1u);
}

TEST(PagedMembershipScan, AMalformedConfChangeOnALaterPageIsRefusedAtStart) {
  MemoryStorage inner(ConfState{{1, 2, 3}, {}, {}});
  std::vector<Entry> log = Log(1, 12);
  log[10].type = EntryType::kConfChange;
  log[10].data = "\x07garbage";
  ASSERT_TRUE(inner.Append(log).ok());
  inner.SetHardState(HardState{1, 1, 12});
  auto node = RawNode::Create(OnePagePerEntry(1, &inner));
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kCorruption);
  EXPECT_NE(node.status().message().find("index 11"), std::string::npos);
}

// A follower that learned of a long committed batch, not yet handed out in a Ready,
// must not campaign while a conf change in it (here on a late page) may remove it.
// Returns Campaign()'s answer; `pages_read` counts the storage reads it made.
Status CampaignAfterCommittedBatch(const std::vector<Index>& conf_changes,
                                   std::size_t* pages_read) {
  MemoryStorage inner(ConfState{{1, 2, 3}, {}, {}});
  RecordingStorage storage(&inner);
  auto created = RawNode::Create(OnePagePerEntry(1, &storage));
  EXPECT_TRUE(created.ok()) << created.status().ToString();
  RawNode& node = **created;
  Message app;
  app.type = MessageType::kApp;
  app.from = 2;
  app.to = 1;
  app.term = 1;
  app.entries = Log(1, 30, conf_changes, ConfChange{ConfChangeType::kRemoveNode, 1, ""});
  EXPECT_TRUE(node.Step(app).ok());
  // Persist the entries (nothing is committed yet, so nothing is applied).
  Ready rd = node.GetReady();
  EXPECT_TRUE(rd.committed_entries.empty());
  EXPECT_TRUE(inner.Append(rd.entries).ok());
  if (rd.hard_state) inner.SetHardState(*rd.hard_state);
  node.Advance();
  // Now the leader's heartbeat commits all of them.
  Message heartbeat;
  heartbeat.type = MessageType::kHeartbeat;
  heartbeat.from = 2;
  heartbeat.to = 1;
  heartbeat.term = 1;
  heartbeat.commit = 30;
  EXPECT_TRUE(node.Step(heartbeat).ok());
  EXPECT_EQ(node.status().hard_state.commit, 30u);
  storage.reads.clear();
  Status campaign = node.Campaign();
  for (const RecordingStorage::Read& r : storage.reads)
    EXPECT_EQ(r.max_size_bytes, 1u);
  *pages_read = storage.reads.size();
  return campaign;
}

TEST(PagedMembershipScan, CampaignFindsAnUnappliedConfChangeOnALaterPage) {
  std::size_t pages = 0;
  const Status refused = CampaignAfterCommittedBatch({29}, &pages);
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_EQ(pages, 29u);  // one entry per page, up to the conf change
}

TEST(PagedMembershipScan, CampaignProceedsWhenNoPageHoldsAConfChange) {
  std::size_t pages = 0;
  const Status campaign = CampaignAfterCommittedBatch({}, &pages);
  EXPECT_TRUE(campaign.ok()) << campaign.ToString();
  EXPECT_GE(pages, 30u);  // every committed entry was looked at
}

}  // namespace
}  // namespace tri::raft
