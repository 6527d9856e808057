#include "wal/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/rng.h"
#include "io/forwarding_file_system.h"
#include "io/sim_file_system.h"
#include "wal/wal_test_util.h"

namespace tri::wal {
namespace {

using testing::MakeEntries;
using testing::MakeEntry;
using testing::SegmentNames;

constexpr const char* kDir = "/data/wal";

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> OpenWal(WalOptions options = {.segment_size_bytes = 4096}) {
    auto wal = Wal::Open(fs_, kDir, options);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    return wal.ok() ? std::move(wal).value() : nullptr;
  }

  void ExpectEntries(Wal& wal, std::uint64_t lo, std::uint64_t hi, std::uint64_t term,
                     std::size_t size = 32) {
    auto got = wal.Read(lo, hi);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->size(), hi - lo);
    for (std::uint64_t i = lo; i < hi; ++i)
      EXPECT_EQ((*got)[i - lo], MakeEntry(i, term, size));
  }

  SeededRng rng_{42};
  io::SimFileSystem fs_{rng_};
};

TEST_F(WalTest, AppendedEntriesReadBackAndSyncReturnsTheLastIndex) {
  auto wal = OpenWal();
  EXPECT_EQ(wal->FirstIndex(), 1u);
  EXPECT_EQ(wal->LastIndex(), 0u);
  const auto entries = MakeEntries(1, 10, 3);
  ASSERT_TRUE(wal->Append(entries).ok());
  EXPECT_EQ(wal->DurableIndex(), 0u);
  auto durable = wal->Sync();
  ASSERT_TRUE(durable.ok());
  EXPECT_EQ(*durable, 10u);
  ExpectEntries(*wal, 1, 11, 3);
  EXPECT_EQ(*wal->Term(7), 3u);
  EXPECT_FALSE(wal->Term(11).ok());
  EXPECT_EQ(wal->Read(0, 3).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(wal->Read(5, 12).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(wal->Term(11).status().code(), StatusCode::kNotFound);
}

TEST_F(WalTest, ReadStopsAtMaxBytesButReturnsAtLeastOneEntry) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 10, 1, 100)).ok());
  EXPECT_EQ(wal->Read(1, 11, 250)->size(), 2u);
  EXPECT_EQ(wal->Read(1, 11, 1)->size(), 1u);
}

TEST_F(WalTest, ReopenRecoversEntriesAndTheNewestHardState) {
  {
    auto wal = OpenWal();
    ASSERT_TRUE(wal->Append(MakeEntries(1, 5, 1), HardState{1, 2, 3}).ok());
    ASSERT_TRUE(wal->Append(MakeEntries(6, 5, 2), HardState{2, 0, 8}).ok());
    ASSERT_TRUE(wal->Sync().ok());
  }
  auto wal = OpenWal();
  EXPECT_EQ(wal->LastIndex(), 10u);
  EXPECT_EQ(wal->DurableIndex(), 10u);
  EXPECT_EQ(wal->hard_state(), (HardState{2, 0, 8}));
  ExpectEntries(*wal, 1, 6, 1);
  ExpectEntries(*wal, 6, 11, 2);
  EXPECT_FALSE(wal->recovery().torn_tail);
}

TEST_F(WalTest, RollsOverIntoSegmentsNamedBySeqAndFirstIndex) {
  {
    auto wal = OpenWal();
    for (std::uint64_t i = 1; i <= 100; ++i)
      ASSERT_TRUE(wal->Append(MakeEntries(i, 1, 1, 100)).ok());
    ASSERT_TRUE(wal->Sync().ok());
    EXPECT_GT(wal->stats().segments_created, 3u);
  }
  const auto names = SegmentNames(fs_, kDir);
  ASSERT_GT(names.size(), 3u);
  EXPECT_EQ(names[0], SegmentFileName(1, 1));
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto header = ParseSegmentFileName(names[i]);
    EXPECT_EQ(header->seq, i + 1);
    EXPECT_EQ(*fs_.FileSize(io::JoinPath(kDir, names[i])), 4096u) << "preallocated";
  }
  auto wal = OpenWal();
  EXPECT_EQ(wal->LastIndex(), 100u);
  ExpectEntries(*wal, 1, 101, 1, 100);
}

TEST_F(WalTest, ABatchLargerThanASegmentSpansSegments) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 200, 1, 64)).ok());
  EXPECT_GT(SegmentNames(fs_, kDir).size(), 2u);
  wal.reset();
  wal = OpenWal();
  ExpectEntries(*wal, 1, 201, 1, 64);
}

TEST_F(WalTest, RejectsOutOfOrderIndexesDecreasingTermsAndOversizedEntries) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 3, 5)).ok());
  EXPECT_EQ(wal->Append(MakeEntries(5, 1, 5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Append(MakeEntries(3, 1, 5)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Append(MakeEntries(4, 1, 4)).code(), StatusCode::kInvalidArgument);
  const Entry big{4, 5, std::string(wal->MaxEntryDataBytes() + 1, 'x')};
  EXPECT_EQ(wal->Append(std::span<const Entry>(&big, 1)).code(), StatusCode::kInvalidArgument);
  const Entry fits{4, 5, std::string(wal->MaxEntryDataBytes(), 'x')};
  EXPECT_TRUE(wal->AppendAndSync(std::span<const Entry>(&fits, 1)).ok());
  EXPECT_EQ(wal->LastIndex(), 4u);
}

TEST_F(WalTest, TruncateSuffixAcrossSegmentsKeepsThePrefixAndTheHardState) {
  {
    auto wal = OpenWal();
    ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 60, 1, 100), HardState{1, 1, 5}).ok());
    ASSERT_TRUE(wal->TruncateSuffix(20).ok());
    EXPECT_EQ(wal->LastIndex(), 19u);
    EXPECT_EQ(wal->DurableIndex(), 19u);
    EXPECT_EQ(wal->Read(19, 21).status().code(), StatusCode::kNotFound);
    ASSERT_TRUE(wal->AppendAndSync(MakeEntries(20, 5, 2, 100)).ok());
    EXPECT_EQ(wal->TruncateSuffix(0).code(), StatusCode::kOutOfRange);
    EXPECT_EQ(wal->TruncateSuffix(26).code(), StatusCode::kOutOfRange);
    EXPECT_TRUE(wal->TruncateSuffix(25).ok()) << "no-op at LastIndex()+1";
  }
  auto wal = OpenWal();
  EXPECT_EQ(wal->LastIndex(), 24u);
  EXPECT_EQ(wal->hard_state(), (HardState{1, 1, 5}));
  ExpectEntries(*wal, 1, 20, 1, 100);
  ExpectEntries(*wal, 20, 25, 2, 100);
}

TEST_F(WalTest, TruncateEverythingThenAppendAgain) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 5, 1)).ok());
  ASSERT_TRUE(wal->TruncateSuffix(1).ok());
  EXPECT_EQ(wal->LastIndex(), 0u);
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 2, 7)).ok());
  wal.reset();
  wal = OpenWal();
  ExpectEntries(*wal, 1, 3, 7);
}

TEST_F(WalTest, DropPrefixRemovesOnlyWholeSegments) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 100, 1, 100)).ok());
  const std::size_t before = SegmentNames(fs_, kDir).size();
  ASSERT_TRUE(wal->DropPrefix(50).ok());
  EXPECT_LT(SegmentNames(fs_, kDir).size(), before);
  EXPECT_GT(wal->FirstIndex(), 1u);
  EXPECT_LE(wal->FirstIndex(), 51u);
  const std::uint64_t first = wal->FirstIndex();
  EXPECT_EQ(wal->Read(first - 1, first).status().code(), StatusCode::kOutOfRange);
  ExpectEntries(*wal, first, 101, 1, 100);
  wal.reset();
  wal = OpenWal();
  EXPECT_EQ(wal->FirstIndex(), first);
  ExpectEntries(*wal, first, 101, 1, 100);
}

TEST_F(WalTest, DropPrefixAtOrBeyondTheEndResetsToAnEmptyLog) {
  {
    auto wal = OpenWal();
    ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 30, 1, 100), HardState{4, 2, 30}).ok());
    ASSERT_TRUE(wal->DropPrefix(500).ok());
    EXPECT_EQ(wal->FirstIndex(), 501u);
    EXPECT_EQ(wal->LastIndex(), 500u);
    EXPECT_EQ(SegmentNames(fs_, kDir).size(), 1u);
    ASSERT_TRUE(wal->AppendAndSync(MakeEntries(501, 3, 4)).ok());
  }
  auto wal = OpenWal();
  EXPECT_EQ(wal->FirstIndex(), 501u);
  EXPECT_EQ(wal->hard_state(), (HardState{4, 2, 30}));
  ExpectEntries(*wal, 501, 504, 4);
}

TEST_F(WalTest, FreshLogStartsAtTheConfiguredFirstIndex) {
  auto wal = OpenWal({.segment_size_bytes = 4096, .first_index = 77});
  EXPECT_EQ(wal->FirstIndex(), 77u);
  EXPECT_EQ(wal->LastIndex(), 76u);
  EXPECT_TRUE(wal->AppendAndSync(MakeEntries(77, 1, 1)).ok());
}

TEST_F(WalTest, SecondOpenOfTheDirectoryIsRefusedWithTheHoldersPid) {
  auto wal = OpenWal();
  auto second = Wal::Open(fs_, kDir, {.segment_size_bytes = 4096});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), std::string("data directory ") + kDir +
                                           " is in use by pid " + std::to_string(::getpid()));
  wal.reset();
  EXPECT_TRUE(Wal::Open(fs_, kDir, {.segment_size_bytes = 4096}).ok());
}

TEST_F(WalTest, AWriteErrorPoisonsTheLogUntilReopened) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->AppendAndSync(MakeEntries(1, 3, 1)).ok());
  fs_.SetFaults({.write_error_probability = 1.0});
  EXPECT_TRUE(wal->Append(MakeEntries(4, 1, 1)).ok()) << "buffered until the next sync";
  EXPECT_EQ(wal->Sync().status().code(), StatusCode::kIoError);
  fs_.SetFaults({});
  const Status later = wal->Append(MakeEntries(4, 1, 1));
  EXPECT_EQ(later.code(), StatusCode::kIoError);
  EXPECT_NE(later.message().find("must be reopened"), std::string::npos);
  EXPECT_FALSE(wal->Sync().ok());
  wal.reset();
  wal = OpenWal();
  EXPECT_EQ(wal->LastIndex(), 3u);
}

TEST_F(WalTest, ASyncErrorIsReportedAndNeverRetried) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->Append(MakeEntries(1, 3, 1)).ok());
  fs_.SetFaults({.sync_error_probability = 1.0});
  EXPECT_EQ(wal->Sync().status().code(), StatusCode::kIoError);
  fs_.SetFaults({});
  EXPECT_EQ(wal->Sync().status().code(), StatusCode::kIoError);
  EXPECT_EQ(wal->DurableIndex(), 0u);
}

TEST_F(WalTest, FullDiskWhenRollingIsAnError) {
  auto wal = OpenWal();
  fs_.SetFaults({.capacity_bytes = 3 * 4096});
  Status st;
  for (std::uint64_t i = 1; i <= 200 && st.ok(); ++i)
    st = wal->Append(MakeEntries(i, 1, 1, 100));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

// A FileSystem whose File::Sync blocks while the gate is closed, so a test can
// hold a group-commit leader inside fdatasync.
class GatedFileSystem final : public io::ForwardingFileSystem {
 public:
  using io::ForwardingFileSystem::ForwardingFileSystem;

  void CloseGate() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void OpenGate() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }

 protected:
  std::unique_ptr<io::File> WrapFile(const std::string& path,
                                     std::unique_ptr<io::File> file) override {
    return std::make_unique<GatedFile>(this, std::move(file));
  }

 private:
  class GatedFile final : public io::ForwardingFile {
   public:
    GatedFile(GatedFileSystem* fs, std::unique_ptr<io::File> base)
        : io::ForwardingFile(std::move(base)), fs_(fs) {}
    Status Sync() override {
      std::unique_lock<std::mutex> lock(fs_->mu_);
      ++fs_->waiting_;
      fs_->cv_.wait(lock, [&] { return fs_->open_; });
      --fs_->waiting_;
      lock.unlock();
      return ForwardingFile::Sync();
    }

   private:
    GatedFileSystem* fs_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
  int waiting_ = 0;
};

void SpinUntil(const std::function<bool()>& done) {
  while (!done())
    std::this_thread::yield();
}

TEST_F(WalTest, GroupCommitCoversWaitingAppendersWithOneSyncAndReleasesThemOnlyAfterIt) {
  GatedFileSystem gated(fs_);
  auto opened = Wal::Open(gated, kDir, {.segment_size_bytes = 1 << 16});
  ASSERT_TRUE(opened.ok());
  Wal& wal = **opened;
  const std::uint64_t syncs_before = wal.stats().fdatasyncs;

  gated.CloseGate();
  std::atomic<int> released{0};
  std::vector<std::uint64_t> results(4, 0);
  std::vector<std::thread> threads;
  // The leader: appends first and blocks inside fdatasync.
  threads.emplace_back([&] {
    auto index = wal.AppendNext(1, "leader");
    results[0] = *wal.Sync();
    EXPECT_GE(results[0], *index);
    ++released;
  });
  SpinUntil([&] { return gated.waiting() == 1; });
  for (int t = 1; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto index = wal.AppendNext(1, "follower");
      ASSERT_TRUE(index.ok());
      auto durable = wal.Sync();
      ASSERT_TRUE(durable.ok());
      results[t] = *durable;
      EXPECT_GE(*durable, *index);
      ++released;
    });
  }
  SpinUntil([&] { return wal.stats().append_calls == 4; });
  EXPECT_EQ(released.load(), 0) << "nobody may learn durability before a sync covers it";
  EXPECT_EQ(wal.DurableIndex(), 0u);
  gated.OpenGate();
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(released.load(), 4);
  // The first sync covered only the leader's entry; the followers wrote after it
  // began, and exactly one more fdatasync covered all three of them.
  EXPECT_EQ(wal.stats().fdatasyncs - syncs_before, 2u);
  EXPECT_EQ(wal.DurableIndex(), 4u);
  for (int t = 1; t < 4; ++t)
    EXPECT_EQ(results[t], 4u);
}

TEST_F(WalTest, ConcurrentAppendersAllBecomeDurableInOrder) {
  auto wal = OpenWal({.segment_size_bytes = 1 << 14});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto index = wal->AppendNext(1, "t" + std::to_string(t) + "-" + std::to_string(i));
        ASSERT_TRUE(index.ok());
        auto durable = wal->Sync();
        ASSERT_TRUE(durable.ok());
        ASSERT_GE(*durable, *index);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wal->LastIndex(), std::uint64_t{kThreads * kPerThread});
  EXPECT_LE(wal->stats().fdatasyncs, std::uint64_t{kThreads * kPerThread});
  wal.reset();
  wal = OpenWal({.segment_size_bytes = 1 << 14});
  auto all = wal->Read(1, kThreads * kPerThread + 1);
  ASSERT_TRUE(all.ok());
  std::vector<int> next(kThreads, 0);
  for (const Entry& e : *all) {
    const int t = std::stoi(e.data.substr(1));
    const int i = std::stoi(e.data.substr(e.data.find('-') + 1));
    EXPECT_EQ(i, next[t]++) << "each appender's entries stay in its order";
  }
}

}  // namespace
}  // namespace tri::wal
