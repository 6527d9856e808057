// Raft's RawNode on WalRaftStorage: a one-node cluster elects itself, commits
// proposals through the disk, and restarts (cleanly or after a crash) with the same
// term, log and commit index.

#include "raft/raw_node.h"

#include <gtest/gtest.h>

#include "base/rng.h"
#include "io/sim_file_system.h"
#include "storage/wal_raft_storage.h"

namespace tri::storage {
namespace {

constexpr char kDir[] = "/node1";

class OneNodeCluster {
 public:
  explicit OneNodeCluster(io::SimFileSystem& fs) : fs_(fs) {}

  void Start(raft::Index applied) {
    WalRaftStorageOptions options;
    options.wal.segment_size_bytes = 8192;
    options.bootstrap = raft::ConfState{{1}, {}, {}};
    auto storage = WalRaftStorage::Open(fs_, kDir, options);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_ = std::move(storage).value();
    raft::Config config;
    config.id = 1;
    config.storage = storage_.get();
    config.rng = &rng_;
    config.applied = applied;
    auto node = raft::RawNode::Create(config);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
  }

  void Stop() {
    node_.reset();
    storage_.reset();
  }

  // The node loop: persist, (no peers to send to), apply, advance.
  void Drain() {
    while (node_->HasReady()) {
      raft::Ready ready = node_->GetReady();
      ASSERT_TRUE(storage_->Persist(ready).ok());
      for (const raft::Entry& e : ready.committed_entries) {
        if (e.type == raft::EntryType::kNormal && !e.data.empty()) applied_data_.push_back(e.data);
        applied_ = e.index;
      }
      node_->Advance();
    }
  }

  void ElectSelf() {
    ASSERT_TRUE(node_->Campaign().ok());
    Drain();
    ASSERT_EQ(node_->role(), raft::Role::kLeader);
  }

  raft::RawNode& node() { return *node_; }
  WalRaftStorage& storage() { return *storage_; }
  raft::Index applied() const { return applied_; }
  const std::vector<std::string>& applied_data() const { return applied_data_; }

 private:
  io::SimFileSystem& fs_;
  SeededRng rng_{5};
  std::unique_ptr<WalRaftStorage> storage_;
  std::unique_ptr<raft::RawNode> node_;
  raft::Index applied_ = 0;
  std::vector<std::string> applied_data_;
};

TEST(RawNodeOnWalRaftStorage, OneNodeElectsItselfCommitsAndRestartsWithTheSameState) {
  SeededRng fs_rng(9);
  io::SimFileSystem fs(fs_rng);
  OneNodeCluster cluster(fs);
  cluster.Start(0);
  cluster.ElectSelf();
  for (const char* data : {"a", "b", "c"}) {
    ASSERT_TRUE(cluster.node().Propose(data).ok());
    cluster.Drain();
  }
  EXPECT_EQ(cluster.applied_data(), (std::vector<std::string>{"a", "b", "c"}));
  const raft::HardState before = cluster.storage().hard_state();
  const raft::Index last_before = cluster.storage().LastIndex();
  EXPECT_EQ(before.commit, last_before);

  for (bool crash : {false, true}) {
    const raft::Index applied = cluster.applied();
    cluster.Stop();
    if (crash) fs.Crash();
    cluster.Start(applied);
    EXPECT_GE(cluster.node().term(), before.term);
    EXPECT_GE(cluster.storage().LastIndex(), last_before);
    EXPECT_GE(cluster.storage().hard_state().commit, before.commit);
    cluster.ElectSelf();
    ASSERT_TRUE(cluster.node().Propose(crash ? "after crash" : "after restart").ok());
    cluster.Drain();
  }
  EXPECT_EQ(cluster.applied_data(),
            (std::vector<std::string>{"a", "b", "c", "after restart", "after crash"}));
  auto entries =
      cluster.storage().Entries(1, cluster.storage().LastIndex() + 1, raft::kNoSizeLimit);
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> logged;
  for (const raft::Entry& e : *entries) {
    if (!e.data.empty()) logged.push_back(e.data);
  }
  EXPECT_EQ(logged, cluster.applied_data());
}

}  // namespace
}  // namespace tri::storage
