#include <gtest/gtest.h>

#include "base/coding.h"
#include "base/rng.h"
#include "io/sim_file_system.h"
#include "wal/format.h"
#include "wal/snapshot_store.h"

namespace tri::wal {
namespace {

constexpr const char* kDir = "/node/snap";

class SnapshotTest : public ::testing::Test {
 protected:
  std::unique_ptr<SnapshotStore> OpenStore(SnapshotOptions options = {}) {
    auto store = SnapshotStore::Open(fs_, kDir, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }
  SeededRng rng_{3};
  io::SimFileSystem fs_{rng_};
};

TEST_F(SnapshotTest, SavedSnapshotLoadsBack) {
  auto store = OpenStore();
  EXPECT_EQ(store->LoadNewest().status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->Save({10, 2}, "state at ten").ok());
  auto snap = store->LoadNewest();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->meta, (SnapshotMeta{10, 2}));
  EXPECT_EQ(snap->body, "state at ten");
  EXPECT_EQ(*store->List(), (std::vector<std::string>{SnapshotFileName({10, 2})}));
}

TEST_F(SnapshotTest, HeaderLayoutIsAsDocumented) {
  const std::string bytes = EncodeSnapshot({0x1122, 0x33}, "body");
  ASSERT_EQ(bytes.size(), kSnapshotHeaderBytes + 4);
  EXPECT_EQ(bytes.substr(0, 8), "TRISNAP1");
  EXPECT_EQ(coding::DecodeFixed32(bytes.data() + 8), kSnapshotFormatVersion);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 16), 0x1122u);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 24), 0x33u);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 32), 4u);
  EXPECT_TRUE(DecodeSnapshot(bytes).ok());
}

TEST_F(SnapshotTest, KeepsOnlyTheNewestN) {
  auto store = OpenStore({.keep = 2});
  for (std::uint64_t i = 1; i <= 5; ++i)
    ASSERT_TRUE(store->Save({i * 10, 1}, "s").ok());
  EXPECT_EQ(*store->List(),
            (std::vector<std::string>{SnapshotFileName({50, 1}), SnapshotFileName({40, 1})}));
}

TEST_F(SnapshotTest, CorruptNewestIsReportedAndThePreviousUsed) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Save({10, 1}, "older").ok());
  ASSERT_TRUE(store->Save({20, 1}, "newer").ok());
  const std::string newest = io::JoinPath(kDir, SnapshotFileName({20, 1}));
  ASSERT_TRUE(fs_.CorruptByte(newest, kSnapshotHeaderBytes + 2, 0x01).ok());
  std::vector<std::string> problems;
  auto snap = store->LoadNewest(&problems);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->meta.last_index, 10u);
  EXPECT_EQ(snap->body, "older");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], newest + ": body checksum mismatch");
}

TEST_F(SnapshotTest, EachKindOfDamageIsNamed) {
  const std::string good = EncodeSnapshot({7, 3}, "payload");
  auto damaged = [&](std::size_t offset) {
    std::string b = good;
    b[offset] ^= 0x10;
    return DecodeSnapshot(b).status().message();
  };
  EXPECT_EQ(damaged(0), "bad magic (not a snapshot file)");
  EXPECT_EQ(damaged(20), "header checksum mismatch");
  EXPECT_EQ(damaged(kSnapshotHeaderBytes), "body checksum mismatch");
  EXPECT_NE(DecodeSnapshot(good.substr(0, 30)).status().message().find("shorter than"),
            std::string::npos);
  EXPECT_NE(
      DecodeSnapshot(good.substr(0, good.size() - 1)).status().message().find("body has 7 bytes"),
      std::string::npos);
}

TEST_F(SnapshotTest, SnapshotRenamedOverAnotherNameIsRefused) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Save({10, 1}, "x").ok());
  ASSERT_TRUE(fs_.Rename(io::JoinPath(kDir, SnapshotFileName({10, 1})),
                         io::JoinPath(kDir, SnapshotFileName({99, 1})))
                  .ok());
  std::vector<std::string> problems;
  EXPECT_EQ(store->LoadNewest(&problems).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("does not match the file name"), std::string::npos);
}

// Power loss after Save returned never loses the snapshot, and a crash in the
// middle of a Save (modelled by an injected fault, then a crash) leaves the
// previous snapshot loadable and no partial file under a final name.
TEST(SnapshotCrash, SavedSnapshotsSurviveCrashesAndInterruptedSavesLeaveThePrevious) {
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    SeededRng rng(seed);
    io::SimFileSystem fs(rng);
    auto store = SnapshotStore::Open(fs, kDir);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Save({10, 1}, std::string(3000, 'a')).ok());
    fs.Crash();
    store = SnapshotStore::Open(fs, kDir);
    ASSERT_TRUE(store.ok());
    auto snap = (*store)->LoadNewest();
    ASSERT_TRUE(snap.ok()) << "seed " << seed << ": " << snap.status().ToString();
    EXPECT_EQ(snap->meta.last_index, 10u) << "seed " << seed;

    fs.SetFaults({.write_error_probability = 0.3,
                  .short_write_probability = 0.3,
                  .sync_error_probability = 0.3});
    const Status interrupted = (*store)->Save({20, 1}, std::string(3000, 'b'));
    fs.SetFaults({});
    fs.Crash();
    store = SnapshotStore::Open(fs, kDir);
    ASSERT_TRUE(store.ok());
    std::vector<std::string> problems;
    snap = (*store)->LoadNewest(&problems);
    ASSERT_TRUE(snap.ok()) << "seed " << seed;
    EXPECT_TRUE(problems.empty()) << "seed " << seed << ": " << problems[0];
    if (interrupted.ok()) {
      EXPECT_EQ(snap->meta.last_index, 20u) << "seed " << seed;
    } else {
      EXPECT_TRUE(snap->meta.last_index == 10u || snap->meta.last_index == 20u) << "seed " << seed;
    }
    EXPECT_EQ(snap->body, std::string(3000, snap->meta.last_index == 10 ? 'a' : 'b'));
    const auto names = fs.List(kDir);
    ASSERT_TRUE(names.ok());
    for (const std::string& name : *names) {
      EXPECT_EQ(name.find(".tmp"), std::string::npos) << "seed " << seed << ": leftover " << name;
    }
  }
}

}  // namespace
}  // namespace tri::wal
