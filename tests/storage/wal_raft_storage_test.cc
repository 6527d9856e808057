// WalRaftStorage: raft::Storage over the WAL and the snapshot store. Each test
// states one behaviour; restarts reopen the same directory on the same file system.

#include "storage/wal_raft_storage.h"

#include <gtest/gtest.h>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "storage/storage_test_util.h"
#include "wal/format.h"

namespace tri::storage {
namespace {

using testing::Entries;
using testing::MakeEntry;
using testing::Voters;

constexpr char kDir[] = "/data";

class WalRaftStorageTest : public ::testing::Test {
 protected:
  WalRaftStorageOptions Options(std::optional<raft::ConfState> bootstrap = std::nullopt) {
    WalRaftStorageOptions options;
    options.wal.segment_size_bytes = 4096;  // small segments: rolls and segment drops happen
    options.bootstrap = std::move(bootstrap);
    return options;
  }
  std::unique_ptr<WalRaftStorage> OpenOk(const WalRaftStorageOptions& options) {
    auto storage = WalRaftStorage::Open(fs_, kDir, options);
    EXPECT_TRUE(storage.ok()) << storage.status().ToString();
    return storage.ok() ? std::move(storage).value() : nullptr;
  }
  std::vector<raft::Entry> All(const WalRaftStorage& s) {
    auto entries = s.Entries(s.FirstIndex(), s.LastIndex() + 1, raft::kNoSizeLimit);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    return entries.ok() ? *entries : std::vector<raft::Entry>{};
  }

  SeededRng rng_{42};
  io::SimFileSystem fs_{rng_};
};

TEST_F(WalRaftStorageTest, RestartKeepsTheLogTheHardStateAndTheBootstrapMembership) {
  std::vector<raft::Entry> log = Entries(1, {1, 1, 2});
  log.push_back(MakeEntry(4, 2, "conf", raft::EntryType::kConfChange));
  {
    auto s = OpenOk(Options(Voters({1, 2, 3})));
    ASSERT_TRUE(s->Append(log).ok());
    ASSERT_TRUE(s->SetHardState({2, 1, 3}).ok());
    ASSERT_TRUE(s->Sync().ok());
  }
  auto s = OpenOk(Options());  // no bootstrap needed on restart
  EXPECT_EQ(s->FirstIndex(), 1u);
  EXPECT_EQ(s->LastIndex(), 4u);
  EXPECT_EQ(All(*s), log);
  auto initial = s->GetInitialState();
  ASSERT_TRUE(initial.ok());
  EXPECT_EQ(initial->hard_state, (raft::HardState{2, 1, 3}));
  EXPECT_EQ(initial->conf_state, Voters({1, 2, 3}));
  auto snap = s->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.index, 0u);
  EXPECT_EQ(snap->metadata.conf_state, Voters({1, 2, 3}));
}

TEST_F(WalRaftStorageTest, ACrashKeepsWhatSyncAcknowledged) {
  {
    auto s = OpenOk(Options(Voters({1})));
    ASSERT_TRUE(s->Append(Entries(1, {1, 1, 1})).ok());
    ASSERT_TRUE(s->SetHardState({1, 1, 2}).ok());
    ASSERT_TRUE(s->Sync().ok());
    ASSERT_TRUE(s->Append(Entries(4, {1, 1})).ok());  // never synced
    fs_.Crash();
  }
  auto s = OpenOk(Options());
  ASSERT_GE(s->LastIndex(), 3u);
  EXPECT_EQ(*s->Entries(1, 4, raft::kNoSizeLimit), Entries(1, {1, 1, 1}));
  EXPECT_EQ(s->hard_state(), (raft::HardState{1, 1, 2}));
}

TEST_F(WalRaftStorageTest, AppendTruncatesAConflictingSuffixDurably) {
  {
    auto s = OpenOk(Options(Voters({1})));
    ASSERT_TRUE(s->Append(Entries(1, {1, 1, 1, 1, 1})).ok());
    ASSERT_TRUE(s->Sync().ok());
    ASSERT_TRUE(s->Append(Entries(3, {2, 2})).ok());
    EXPECT_EQ(s->LastIndex(), 4u);
    EXPECT_EQ(*s->TermAt(3), 2u);
    EXPECT_TRUE(raft::IsUnavailableIndex(s->TermAt(5).status()));
    ASSERT_TRUE(s->Sync().ok());
  }
  auto s = OpenOk(Options());
  std::vector<raft::Entry> expected = Entries(1, {1, 1});
  for (const raft::Entry& e : Entries(3, {2, 2}))
    expected.push_back(e);
  EXPECT_EQ(All(*s), expected);
}

TEST_F(WalRaftStorageTest, AppendRefusesGapsAndDecreasingTerms) {
  auto s = OpenOk(Options(Voters({1})));
  ASSERT_TRUE(s->Append(Entries(1, {2, 2})).ok());
  EXPECT_EQ(s->Append(Entries(4, {2})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Append(Entries(3, {1})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->Append({MakeEntry(3, 2, "a"), MakeEntry(5, 2, "b")}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(s->poisoned().ok());  // bad input changes nothing
  EXPECT_EQ(s->LastIndex(), 2u);
}

TEST_F(WalRaftStorageTest, CompactDropsThePrefixUpToTheNewestSnapshot) {
  auto s = OpenOk(Options(Voters({1})));
  std::vector<raft::Term> terms(40, 1);
  for (std::size_t i = 20; i < terms.size(); ++i)
    terms[i] = 2;
  const std::vector<raft::Entry> log = Entries(1, terms);
  for (const raft::Entry& e : log)
    ASSERT_TRUE(s->Append({e}).ok());
  ASSERT_TRUE(s->Sync().ok());
  EXPECT_EQ(s->Compact(25).code(), StatusCode::kFailedPrecondition);  // no snapshot yet
  ASSERT_TRUE(s->CreateSnapshot(30, Voters({1}), "state@30").ok());
  ASSERT_TRUE(s->Compact(25).ok());
  EXPECT_EQ(s->FirstIndex(), 26u);
  EXPECT_EQ(*s->TermAt(25), 2u);
  EXPECT_TRUE(raft::IsCompacted(s->TermAt(24).status()));
  EXPECT_TRUE(raft::IsCompacted(s->Entries(25, 27, raft::kNoSizeLimit).status()));
  EXPECT_TRUE(raft::IsCompacted(s->Compact(25)));
  EXPECT_EQ(s->Compact(31).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*s->Entries(26, 41, raft::kNoSizeLimit),
            std::vector<raft::Entry>(log.begin() + 25, log.end()));

  // After a restart the log starts right after the snapshot.
  s.reset();
  s = OpenOk(Options());
  EXPECT_EQ(s->FirstIndex(), 31u);
  EXPECT_EQ(s->LastIndex(), 40u);
  EXPECT_EQ(*s->TermAt(30), 2u);
  EXPECT_EQ(All(*s), std::vector<raft::Entry>(log.begin() + 30, log.end()));
  auto snap = s->GetSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata.index, 30u);
  EXPECT_EQ(snap->metadata.term, 2u);
  EXPECT_EQ(snap->data, "state@30");
}

TEST_F(WalRaftStorageTest, ApplySnapshotDiscardsTheLogAndSurvivesARestart) {
  raft::Snapshot snap;
  snap.metadata = {10, 3, raft::ConfState{{1, 2}, {4}, {3}}};
  snap.data = "leader state";
  {
    auto s = OpenOk(Options(Voters({1, 2, 3})));
    ASSERT_TRUE(s->Append(Entries(1, {1, 1, 2, 2, 2})).ok());
    ASSERT_TRUE(s->Sync().ok());
    ASSERT_TRUE(s->ApplySnapshot(snap).ok());
    EXPECT_EQ(s->FirstIndex(), 11u);
    EXPECT_EQ(s->LastIndex(), 10u);
    EXPECT_EQ(*s->TermAt(10), 3u);
    EXPECT_EQ(s->GetInitialState()->conf_state, snap.metadata.conf_state);
    raft::Snapshot older = snap;
    older.metadata.index = 9;
    EXPECT_EQ(s->ApplySnapshot(older).code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(s->Append(Entries(11, {3})).ok());
    ASSERT_TRUE(s->Sync().ok());
    fs_.Crash();
  }
  auto s = OpenOk(Options(Voters({1, 2, 3})));  // the bootstrap is ignored now
  EXPECT_EQ(s->FirstIndex(), 11u);
  EXPECT_EQ(s->LastIndex(), 11u);
  EXPECT_EQ(All(*s), Entries(11, {3}));
  EXPECT_EQ(s->GetInitialState()->conf_state, snap.metadata.conf_state);
  EXPECT_EQ(s->GetSnapshot()->data, "leader state");
}

TEST_F(WalRaftStorageTest, AJoiningNodeRecordsTheFoundingMembershipItIsHanded) {
  {
    auto s = OpenOk(Options());
    EXPECT_EQ(s->GetInitialState()->conf_state, raft::ConfState{});
    raft::Snapshot founding;
    founding.metadata.conf_state = Voters({1, 2});
    ASSERT_TRUE(s->ApplySnapshot(founding).ok());
    ASSERT_TRUE(s->Append(Entries(1, {1})).ok());
    ASSERT_TRUE(s->Sync().ok());
  }
  auto s = OpenOk(Options());
  EXPECT_EQ(s->GetInitialState()->conf_state, Voters({1, 2}));
  EXPECT_EQ(All(*s), Entries(1, {1}));
}

TEST_F(WalRaftStorageTest, ABootstrapThatContradictsTheRecordedOneIsRefused) {
  OpenOk(Options(Voters({1, 2, 3})));
  auto other = WalRaftStorage::Open(fs_, kDir, Options(Voters({1, 2})));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("different membership"), std::string::npos);
  EXPECT_TRUE(WalRaftStorage::Open(fs_, kDir, Options(Voters({1, 2, 3}))).ok());
}

TEST_F(WalRaftStorageTest, ADirectoryInUseIsRefusedWithAClearMessage) {
  auto first = OpenOk(Options(Voters({1})));
  auto second = WalRaftStorage::Open(fs_, kDir, Options(Voters({1})));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("data directory /data is locked by another process"),
            std::string::npos)
      << second.status().message();
}

TEST_F(WalRaftStorageTest, AFailedSyncPoisonsEveryLaterCall) {
  auto s = OpenOk(Options(Voters({1})));
  ASSERT_TRUE(s->Append(Entries(1, {1})).ok());
  io::SimFaults faults;
  faults.sync_error_probability = 1;
  fs_.SetFaults(faults);
  const Status failed = s->Sync();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("must stop"), std::string::npos) << failed.message();
  fs_.SetFaults({});
  EXPECT_EQ(s->Sync(), failed);  // never retried
  EXPECT_EQ(s->Append(Entries(2, {1})), failed);
  EXPECT_EQ(s->SetHardState({1, 1, 1}), failed);
  EXPECT_EQ(s->Entries(1, 2, raft::kNoSizeLimit).status(), failed);
  EXPECT_EQ(s->TermAt(1).status(), failed);
  EXPECT_EQ(s->GetInitialState().status(), failed);
  EXPECT_EQ(s->poisoned(), failed);
}

TEST_F(WalRaftStorageTest, AfterAFailedSyncAndACrashTheAcknowledgedStateIsRecovered) {
  {
    auto s = OpenOk(Options(Voters({1})));
    ASSERT_TRUE(s->Append(Entries(1, {1, 1})).ok());
    ASSERT_TRUE(s->SetHardState({1, 1, 2}).ok());
    ASSERT_TRUE(s->Sync().ok());
    ASSERT_TRUE(s->Append(Entries(3, {1})).ok());
    io::SimFaults faults;
    faults.sync_error_probability = 1;
    fs_.SetFaults(faults);
    ASSERT_FALSE(s->Sync().ok());
    fs_.SetFaults({});
    fs_.Crash();
  }
  auto s = OpenOk(Options());
  ASSERT_GE(s->LastIndex(), 2u);
  EXPECT_EQ(*s->Entries(1, 3, raft::kNoSizeLimit), Entries(1, {1, 1}));
  EXPECT_EQ(s->hard_state(), (raft::HardState{1, 1, 2}));
  EXPECT_TRUE(s->poisoned().ok());
}

TEST_F(WalRaftStorageTest, PersistWritesAReadyDurably) {
  {
    auto s = OpenOk(Options(Voters({1})));
    raft::Ready ready;
    ready.entries = Entries(1, {1, 1});
    ready.hard_state = raft::HardState{1, 1, 2};
    ASSERT_TRUE(s->Persist(ready).ok());
    EXPECT_EQ(s->stats().syncs, 1u);
    fs_.Crash();
  }
  auto s = OpenOk(Options());
  EXPECT_EQ(All(*s), Entries(1, {1, 1}));
  EXPECT_EQ(s->hard_state(), (raft::HardState{1, 1, 2}));
}

TEST_F(WalRaftStorageTest, TheTailCacheServesRecentEntriesAndTheDiskOlderOnes) {
  WalRaftStorageOptions options = Options(Voters({1}));
  const raft::Entry sample = MakeEntry(1, 1, std::string(100, 'x'));
  options.tail_cache_bytes = 10 * raft::EntrySizeBytes(sample);
  auto s = OpenOk(options);
  std::vector<raft::Entry> log;
  for (raft::Index i = 1; i <= 30; ++i)
    log.push_back(MakeEntry(i, 1, std::string(100, 'a' + i % 26)));
  ASSERT_TRUE(s->Append(log).ok());
  ASSERT_TRUE(s->Sync().ok());
  EXPECT_EQ(*s->Entries(21, 31, raft::kNoSizeLimit),
            std::vector<raft::Entry>(log.begin() + 20, log.end()));
  EXPECT_EQ(s->stats().entries_read_from_cache, 10u);
  EXPECT_EQ(s->stats().entries_read_from_disk, 0u);
  EXPECT_EQ(*s->Entries(1, 31, raft::kNoSizeLimit), log);
  EXPECT_EQ(s->stats().entries_read_from_disk, 20u);
  // The size limit counts across disk and cache, and at least one entry comes back.
  EXPECT_EQ(s->Entries(19, 31, 3 * raft::EntrySizeBytes(sample))->size(), 3u);
  EXPECT_EQ(s->Entries(5, 31, 1)->size(), 1u);
}

TEST_F(WalRaftStorageTest, VersionOneLogIsStillReadAsNormalEntries) {
  // A log written by the previous format version: no type byte in its entries.
  ASSERT_TRUE(fs_.CreateDirs("/data/wal").ok());
  std::string bytes;
  wal::AppendSegmentHeaderRecord(bytes, wal::SegmentHeader{1, 1, 0, /*version=*/1});
  wal::AppendEntryRecord(bytes, wal::Entry{1, 1, "old one"}, /*version=*/1);
  wal::AppendEntryRecord(bytes, wal::Entry{2, 1, "old two"}, /*version=*/1);
  wal::AppendHardStateRecord(bytes, wal::HardState{1, 1, 2});
  bytes.resize(4096, '\0');
  {
    auto file = fs_.Open("/data/wal/" + wal::SegmentFileName(1, 1), io::OpenMode::kCreate);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Write(0, bytes).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE(fs_.SyncDir("/data/wal").ok());
  }
  auto s = OpenOk(Options());
  EXPECT_EQ(All(*s),
            (std::vector<raft::Entry>{MakeEntry(1, 1, "old one"), MakeEntry(2, 1, "old two")}));
  EXPECT_EQ(s->hard_state(), (raft::HardState{1, 1, 2}));
  ASSERT_TRUE(s->Append({MakeEntry(3, 2, "new", raft::EntryType::kConfChange)}).ok());
  ASSERT_TRUE(s->Sync().ok());
  s.reset();
  s = OpenOk(Options());
  EXPECT_EQ(*s->Entries(3, 4, raft::kNoSizeLimit),
            std::vector<raft::Entry>{MakeEntry(3, 2, "new", raft::EntryType::kConfChange)});
}

TEST_F(WalRaftStorageTest, AVersionOneSnapshotIsRefusedBecauseItLacksTheMembership) {
  ASSERT_TRUE(fs_.CreateDirs("/data/snap").ok());
  const wal::SnapshotMeta meta{5, 1};
  auto file = fs_.Open("/data/snap/" + wal::SnapshotFileName(meta), io::OpenMode::kCreate);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Write(0, wal::EncodeSnapshot(meta, "old", /*version=*/1)).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs_.SyncDir("/data/snap").ok());
  file->reset();
  auto s = WalRaftStorage::Open(fs_, kDir, Options());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("version 1"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace tri::storage
