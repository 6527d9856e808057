#include <gtest/gtest.h>

#include "base/coding.h"
#include "base/crc32c.h"
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
  SnapshotMeta meta{0x1122, 0x33};
  meta.membership.voters = {1, 300};
  const std::string bytes = EncodeSnapshot(meta, "body");
  // Membership section: length 6, then voters (count 2: 1, 300 = 2 bytes), learners
  // (count 0), removed (count 0).
  const std::string membership("\x06\x02\x01\xac\x02\x00\x00", 7);
  ASSERT_EQ(bytes.size(), kSnapshotHeaderBytes + membership.size() + 4);
  EXPECT_EQ(bytes.substr(0, 8), "TRISNAP1");
  EXPECT_EQ(coding::DecodeFixed32(bytes.data() + 8), kSnapshotFormatVersion);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 16), 0x1122u);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 24), 0x33u);
  EXPECT_EQ(coding::DecodeFixed64(bytes.data() + 32), membership.size() + 4);
  EXPECT_EQ(bytes.substr(kSnapshotHeaderBytes, membership.size()), membership);
  EXPECT_EQ(bytes.substr(kSnapshotHeaderBytes + membership.size()), "body");
  auto decoded = DecodeSnapshot(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->meta, meta);
  EXPECT_EQ(decoded->body, "body");
}

TEST_F(SnapshotTest, MembershipRoundTripsThroughTheStore) {
  auto store = OpenStore();
  SnapshotMeta meta{12, 4};
  meta.membership = {{1, 2, 3}, {7}, {5, 6}};
  ASSERT_TRUE(store->Save(meta, "state").ok());
  auto snap = store->LoadNewest();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->meta, meta);
  EXPECT_TRUE(snap->meta.membership_recorded);
  EXPECT_EQ(snap->body, "state");
}

TEST_F(SnapshotTest, VersionOneFilesStillReadWithoutMembership) {
  SnapshotMeta meta{9, 2};
  meta.membership.voters = {1};  // not representable in v1: dropped
  const std::string v1 = EncodeSnapshot(meta, "old body", /*version=*/1);
  EXPECT_EQ(v1.size(), kSnapshotHeaderBytes + 8);
  EXPECT_EQ(coding::DecodeFixed32(v1.data() + 8), 1u);
  auto snap = DecodeSnapshot(v1);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->meta.last_index, 9u);
  EXPECT_EQ(snap->meta.last_term, 2u);
  EXPECT_FALSE(snap->meta.membership_recorded);
  EXPECT_EQ(snap->meta.membership, SnapshotMembership{});
  EXPECT_EQ(snap->body, "old body");
}

TEST_F(SnapshotTest, MalformedMembershipIsCorruption) {
  SnapshotMeta meta{3, 1};
  std::string bytes = EncodeSnapshot(meta, "");
  // The section claims 200 voters in 3 bytes; fix the body CRC so only the section is wrong.
  bytes[kSnapshotHeaderBytes + 1] = static_cast<char>(100);
  std::string header = bytes.substr(0, 40);
  coding::PutFixed32(header, crc32c::Value(std::string_view(bytes).substr(kSnapshotHeaderBytes)));
  coding::PutFixed32(header, crc32c::Value(header.data(), header.size()));
  bytes.replace(0, kSnapshotHeaderBytes, header);
  auto snap = DecodeSnapshot(bytes);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kCorruption);
  EXPECT_NE(snap.status().message().find("membership section"), std::string::npos);
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
      DecodeSnapshot(good.substr(0, good.size() - 1)).status().message().find("body has 11 bytes"),
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
