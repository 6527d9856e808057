// The protocol errors of raft::Storage are recognized by kind, never by status code
// alone: a disk-backed storage's real failure must not read as a protocol answer.

#include <gtest/gtest.h>

#include "raft/internal/log.h"
#include "raft/storage.h"

namespace tri::raft {
namespace {

TEST(StorageErrors, EachKindIsRecognizedAsItself) {
  for (StorageErrorKind kind : {StorageErrorKind::kCompacted, StorageErrorKind::kUnavailable,
                                StorageErrorKind::kSnapshotTemporarilyUnavailable}) {
    EXPECT_EQ(StorageErrorKindOf(StorageError(kind)), kind);
  }
  EXPECT_TRUE(IsCompacted(ErrCompacted()));
  EXPECT_TRUE(IsUnavailableIndex(ErrUnavailableIndex()));
  EXPECT_TRUE(IsSnapshotTemporarilyUnavailable(ErrSnapshotTemporarilyUnavailable()));
  EXPECT_FALSE(IsCompacted(ErrUnavailableIndex()));
  EXPECT_FALSE(IsUnavailableIndex(ErrCompacted()));
  EXPECT_FALSE(IsSnapshotTemporarilyUnavailable(ErrCompacted()));
}

TEST(StorageErrors, RealFailuresWithTheSameCodeAreNotProtocolAnswers) {
  EXPECT_EQ(StorageErrorKindOf(Status::Ok()), std::nullopt);
  const Status missing_file = NotFound("open /data/wal/0001.wal: No such file or directory");
  EXPECT_EQ(missing_file.code(), ErrUnavailableIndex().code());
  EXPECT_FALSE(IsUnavailableIndex(missing_file));
  EXPECT_EQ(StorageErrorKindOf(missing_file), std::nullopt);
  EXPECT_FALSE(IsCompacted(OutOfRange("read past the end of a file")));
  EXPECT_FALSE(IsSnapshotTemporarilyUnavailable(Unavailable("disk is busy")));
  // A protocol error wrapped with context is no longer the protocol error.
  EXPECT_FALSE(IsCompacted(ErrCompacted().WithContext("storage")));
}

TEST(StorageErrors, MemoryStorageAnswersWithTheKinds) {
  MemoryStorage s;
  ASSERT_TRUE(
      s.Append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"}}).ok());
  ASSERT_TRUE(s.Compact(1).ok());
  EXPECT_TRUE(IsCompacted(s.TermAt(0).status()));
  EXPECT_TRUE(IsCompacted(s.Entries(1, 2, kNoSizeLimit).status()));
  EXPECT_TRUE(IsUnavailableIndex(s.TermAt(3).status()));
  EXPECT_TRUE(IsUnavailableIndex(s.Entries(2, 4, kNoSizeLimit).status()));
}

// A storage whose disk lost a file: TermAt fails with a real kNotFound.
class LostFileStorage final : public Storage {
 public:
  Result<InitialState> GetInitialState() const override { return inner_.GetInitialState(); }
  Result<std::vector<Entry>> Entries(Index lo, Index hi, std::uint64_t max) const override {
    return inner_.Entries(lo, hi, max);
  }
  Result<Term> TermAt(Index i) const override {
    if (i == 0) return Term{0};
    return NotFound("open /data/wal/0001.wal: No such file or directory");
  }
  Index FirstIndex() const override { return 1; }
  Index LastIndex() const override { return 1; }
  Result<Snapshot> GetSnapshot() const override { return inner_.GetSnapshot(); }

 private:
  MemoryStorage inner_;
};

TEST(StorageErrorsDeathTest, TheCoreStopsOnARealStorageFailureInsteadOfCallingItUnavailable) {
  LostFileStorage storage;
  RaftLog log(&storage, kNoSizeLimit);
  EXPECT_DEATH((void)log.TermAt(1), "storage failed while reading the log.*No such file");
}

}  // namespace
}  // namespace tri::raft
