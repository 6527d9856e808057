#include "txn/conflict_graph.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace tri::txn {
namespace {

Transaction Declares(std::vector<std::string> reads, std::vector<std::string> writes) {
  Transaction txn;
  txn.body = [](TxnContext&) { return Status::Ok(); };
  txn.read_set = std::move(reads);
  txn.write_set = std::move(writes);
  return txn;
}

std::vector<std::uint32_t> Successors(const ConflictGraph& graph, std::uint32_t txn) {
  std::span<const std::uint32_t> row = graph.successors(txn);
  return {row.begin(), row.end()};
}

using Edges = std::vector<std::uint32_t>;

// The graph refers to its batch's key strings: the fixture keeps every batch
// alive for the test's duration.
class ConflictGraphTest : public testing::Test {
 protected:
  ConflictGraph Build(std::vector<Transaction> batch, std::size_t max_keys = 10'000) {
    batches_.push_back(std::move(batch));
    return ConflictGraph::Build(batches_.back(), max_keys);
  }

 private:
  std::deque<std::vector<Transaction>> batches_;
};

TEST_F(ConflictGraphTest, EmptyBatchHasNoVerticesEdgesOrKeys) {
  ConflictGraph graph = Build({});
  EXPECT_EQ(graph.size(), 0u);
  EXPECT_EQ(graph.edge_count(), 0u);
  EXPECT_EQ(graph.key_count(), 0u);
  EXPECT_EQ(graph.critical_path(), 0u);
}

TEST_F(ConflictGraphTest, ReaderDependsOnTheLastEarlierWriter) {
  ConflictGraph graph = Build({Declares({}, {"a"}), Declares({"a"}, {})});
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(graph.predecessor_count(0), 0u);
  EXPECT_EQ(graph.predecessor_count(1), 1u);
}

TEST_F(ConflictGraphTest, ReaderDoesNotDependOnWritersBeforeTheLastOne) {
  ConflictGraph graph = Build({Declares({}, {"a"}), Declares({}, {"a"}), Declares({"a"}, {})});
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(Successors(graph, 1), Edges{2});
  EXPECT_EQ(graph.predecessor_count(2), 1u);
}

TEST_F(ConflictGraphTest, WriterDependsOnTheLastEarlierWriter) {
  ConflictGraph graph = Build({Declares({}, {"a"}), Declares({}, {"b"}), Declares({}, {"a"})});
  EXPECT_EQ(Successors(graph, 0), Edges{2});
  EXPECT_EQ(Successors(graph, 1), Edges{});
  EXPECT_EQ(graph.edge_count(), 1u);
}

TEST_F(ConflictGraphTest, WriterDependsOnEveryReaderSinceTheLastWriter) {
  ConflictGraph graph = Build({Declares({"a"}, {}), Declares({}, {"a"}), Declares({"a"}, {}),
                               Declares({"a"}, {}), Declares({}, {"a"})});
  // 0 -> 1 (read-write); 1 -> 2, 1 -> 3 (write-read); 1 -> 4 (write-write);
  // 2 -> 4, 3 -> 4 (read-write). Reader 0 is before writer 1: no edge to 4.
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(Successors(graph, 1), (Edges{2, 3, 4}));
  EXPECT_EQ(Successors(graph, 2), Edges{4});
  EXPECT_EQ(Successors(graph, 3), Edges{4});
  EXPECT_EQ(graph.predecessor_count(4), 3u);
}

TEST_F(ConflictGraphTest, ReadersOfTheSameKeyAreIndependent) {
  ConflictGraph graph = Build({Declares({"a"}, {}), Declares({"a"}, {}), Declares({"a"}, {})});
  EXPECT_EQ(graph.edge_count(), 0u);
  EXPECT_EQ(graph.critical_path(), 1u);
}

TEST_F(ConflictGraphTest, EdgesImpliedByManyKeysAppearOnce) {
  ConflictGraph graph = Build({Declares({}, {"a", "b", "c"}), Declares({"a", "b"}, {"c"})});
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(graph.predecessor_count(1), 1u);
  EXPECT_EQ(graph.edge_count(), 1u);
}

TEST_F(ConflictGraphTest, KeyInBothSetsCountsAsWritten) {
  // 1 reads and writes a: it depends on reader 0 (read-write) and 2 depends
  // on it as a reader would on a writer; 3 writes a and depends on 1 and 2.
  ConflictGraph graph = Build(
      {Declares({"a"}, {}), Declares({"a"}, {"a"}), Declares({"a"}, {}), Declares({}, {"a"})});
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(Successors(graph, 1), (Edges{2, 3}));
  EXPECT_EQ(Successors(graph, 2), Edges{3});
}

TEST_F(ConflictGraphTest, KeyDeclaredTwiceByOneTransactionGivesNoSelfEdge) {
  ConflictGraph graph = Build({Declares({"a", "a"}, {"a", "a"}), Declares({"a", "a"}, {})});
  EXPECT_EQ(graph.key_count(), 1u);
  EXPECT_EQ(Successors(graph, 0), Edges{1});
  EXPECT_EQ(graph.predecessor_count(0), 0u);
  EXPECT_EQ(graph.edge_count(), 1u);
}

TEST_F(ConflictGraphTest, SuccessorsAreListedInBatchOrder) {
  ConflictGraph graph = Build({Declares({}, {"a", "b"}), Declares({"b"}, {}), Declares({"a"}, {}),
                               Declares({}, {"b"}), Declares({"a"}, {})});
  EXPECT_EQ(Successors(graph, 0), (Edges{1, 2, 3, 4}));
}

TEST_F(ConflictGraphTest, CriticalPathCountsTheTransactionsOnTheLongestChain) {
  // Independent: 1. A chain through one key: its length. A diamond
  // 0 -> {1, 2} -> 3: 3.
  EXPECT_EQ(Build({Declares({}, {"a"}), Declares({}, {"b"}), Declares({}, {"c"})}).critical_path(),
            1u);
  std::vector<Transaction> chain;
  for (int i = 0; i < 7; ++i)
    chain.push_back(Declares({"k"}, {"k"}));
  EXPECT_EQ(Build(chain).critical_path(), 7u);
  ConflictGraph diamond = Build({Declares({}, {"a", "b"}), Declares({"a"}, {"c"}),
                                 Declares({"b"}, {"d"}), Declares({"c", "d"}, {})});
  EXPECT_EQ(diamond.critical_path(), 3u);
  EXPECT_EQ(Successors(diamond, 1), Edges{3});
  EXPECT_EQ(Successors(diamond, 2), Edges{3});
}

TEST_F(ConflictGraphTest, KeysGetSlotsInOrderOfFirstAppearance) {
  ConflictGraph graph = Build({Declares({"r"}, {"w"}), Declares({"w", "x"}, {"r"})});
  ASSERT_EQ(graph.key_count(), 3u);
  // Within a transaction the write set is scanned first.
  EXPECT_EQ(graph.key(0), "w");
  EXPECT_EQ(graph.key(1), "r");
  EXPECT_EQ(graph.key(2), "x");
  EXPECT_EQ(graph.FindSlot("x"), 2u);
  EXPECT_EQ(graph.FindSlot("absent"), std::nullopt);
}

TEST_F(ConflictGraphTest, DeclaredSlotsFollowWriteSetThenReadSetPositions) {
  ConflictGraph graph = Build({Declares({"a", "b", "a"}, {"c", "a"}), Declares({}, {"b"})});
  const std::uint32_t a = *graph.FindSlot("a");
  const std::uint32_t b = *graph.FindSlot("b");
  const std::uint32_t c = *graph.FindSlot("c");
  std::span<const std::uint32_t> first = graph.declared_slots(0);
  EXPECT_EQ(Edges(first.begin(), first.end()), (Edges{c, a, a, b, a}));
  std::span<const std::uint32_t> second = graph.declared_slots(1);
  EXPECT_EQ(Edges(second.begin(), second.end()), Edges{b});
}

TEST_F(ConflictGraphTest, TransactionDeclaringTooManyKeysGetsNoEdgesOrSlots) {
  ConflictGraph graph =
      Build({Declares({}, {"a"}), Declares({"b"}, {"a", "c"}), Declares({"a"}, {})},
            /*max_keys=*/2);
  EXPECT_EQ(Successors(graph, 0), Edges{2});
  EXPECT_EQ(graph.predecessor_count(1), 0u);
  EXPECT_EQ(Successors(graph, 1), Edges{});
  EXPECT_EQ(graph.key_count(), 1u);
  EXPECT_EQ(graph.FindSlot("b"), std::nullopt);
  EXPECT_TRUE(graph.declared_slots(1).empty());
}

// Checks a graph against the definition, pair by pair: an edge only joins
// transactions that conflict (share a key one of them writes); every
// conflicting pair is ordered by a path; rows are sorted with no duplicates;
// counts and the critical path agree with the edges.
void CheckAgainstDefinition(const std::vector<Transaction>& batch, const ConflictGraph& graph) {
  const auto n = static_cast<std::uint32_t>(batch.size());
  std::vector<std::set<std::string>> reads(n), writes(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    writes[i].insert(batch[i].write_set.begin(), batch[i].write_set.end());
    for (const std::string& key : batch[i].read_set) {
      if (!writes[i].contains(key)) reads[i].insert(key);
    }
  }
  auto conflict = [&](std::uint32_t j, std::uint32_t i) {
    for (const std::string& key : writes[j]) {
      if (writes[i].contains(key) || reads[i].contains(key)) return true;
    }
    for (const std::string& key : reads[j]) {
      if (writes[i].contains(key)) return true;
    }
    return false;
  };
  // reach[j][i]: a path j ->* i, filled backwards over the topological order.
  std::vector<std::vector<bool>> reach(n, std::vector<bool>(n, false));
  std::vector<std::uint32_t> predecessors(n, 0);
  std::vector<std::uint32_t> depth(n, 1);
  for (std::uint32_t j = 0; j < n; ++j) {
    Edges row = Successors(graph, j);
    EXPECT_TRUE(std::is_sorted(row.begin(), row.end()));
    EXPECT_EQ(std::adjacent_find(row.begin(), row.end()), row.end()) << "duplicate edge from " << j;
    for (std::uint32_t i : row) {
      ASSERT_LT(j, i);
      EXPECT_TRUE(conflict(j, i)) << "edge " << j << " -> " << i << " joins no conflict";
      ++predecessors[i];
    }
  }
  std::uint32_t longest = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t j = 0; j < i; ++j) {
      for (std::uint32_t s : graph.successors(j)) {
        if (s == i) depth[i] = std::max(depth[i], depth[j] + 1);
      }
    }
    longest = std::max(longest, depth[i]);
  }
  for (std::uint32_t j = n; j-- > 0;) {
    for (std::uint32_t s : graph.successors(j)) {
      reach[j][s] = true;
      for (std::uint32_t i = 0; i < n; ++i) {
        if (reach[s][i]) reach[j][i] = true;
      }
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(graph.predecessor_count(i), predecessors[i]);
    for (std::uint32_t j = 0; j < i; ++j) {
      if (conflict(j, i)) {
        EXPECT_TRUE(reach[j][i]) << j << " and " << i << " conflict, unordered";
      }
    }
  }
  EXPECT_EQ(graph.critical_path(), longest);
}

TEST_F(ConflictGraphTest, RandomBatchesMatchTheDefinition) {
  std::mt19937 rng(20261127);
  for (int round = 0; round < 200; ++round) {
    const int keys = 1 + static_cast<int>(rng() % 12);
    const int n = static_cast<int>(rng() % 40);
    std::vector<Transaction> batch;
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> r, w;
      for (int k = static_cast<int>(rng() % 4); k > 0; --k)
        r.push_back("k" + std::to_string(rng() % keys));
      for (int k = static_cast<int>(rng() % 3); k > 0; --k)
        w.push_back("k" + std::to_string(rng() % keys));
      batch.push_back(Declares(std::move(r), std::move(w)));
    }
    ConflictGraph graph = Build(batch);
    ASSERT_EQ(graph.size(), static_cast<std::uint32_t>(n));
    CheckAgainstDefinition(batch, graph);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
}

// The phased builder, with several partitions built in any order, gives the
// one-partition graph: the same edges and critical path,
// and slots (numbered differently) that name the same keys.
TEST_F(ConflictGraphTest, PartitionedBuildEqualsTheOnePartitionBuild) {
  std::mt19937 rng(7);
  for (int round = 0; round < 100; ++round) {
    const int keys = 1 + static_cast<int>(rng() % 30);
    const int n = static_cast<int>(rng() % 60);
    std::vector<Transaction> batch;
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> r, w;
      for (int k = static_cast<int>(rng() % 4); k > 0; --k)
        r.push_back("k" + std::to_string(rng() % keys));
      for (int k = static_cast<int>(rng() % 3); k > 0; --k)
        w.push_back("k" + std::to_string(rng() % keys));
      batch.push_back(Declares(std::move(r), std::move(w)));
    }
    const std::size_t max_keys = 1 + rng() % 6;
    ConflictGraph one = Build(batch, max_keys);
    const std::uint32_t partitions = 1 + rng() % 7;
    ConflictGraphBuilder builder(batch, max_keys, partitions);
    for (std::uint32_t p = partitions; p-- > 0;)
      builder.BuildPartition(p);
    ConflictGraph many = builder.Finish();

    ASSERT_EQ(many.size(), one.size());
    EXPECT_EQ(many.edge_count(), one.edge_count());
    EXPECT_EQ(many.critical_path(), one.critical_path());
    ASSERT_EQ(many.key_count(), one.key_count());
    for (std::uint32_t i = 0; i < one.size(); ++i) {
      EXPECT_EQ(Successors(many, i), Successors(one, i));
      EXPECT_EQ(many.predecessor_count(i), one.predecessor_count(i));
      std::span<const std::uint32_t> a = one.declared_slots(i);
      std::span<const std::uint32_t> b = many.declared_slots(i);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t k = 0; k < a.size(); ++k)
        EXPECT_EQ(many.key(b[k]), one.key(a[k]));
    }
    for (std::uint32_t slot = 0; slot < many.key_count(); ++slot)
      EXPECT_EQ(many.FindSlot(many.key(slot)), slot);
    EXPECT_EQ(many.FindSlot("absent"), std::nullopt);
    if (HasFailure()) {
      ADD_FAILURE() << "round " << round;
      return;
    }
  }
}

// Distinct keys, each declared once: a partition's table is sized for an even
// share, so the fuller partition of two grows its table while it is built.
TEST_F(ConflictGraphTest, PartitionTablesGrowPastAnEvenShare) {
  for (const char* prefix : {"a", "b", "c", "d"}) {
    std::vector<Transaction> batch;
    for (int i = 0; i < 256; ++i)
      batch.push_back(Declares({}, {prefix + std::to_string(i)}));
    ConflictGraphBuilder builder(batch, 10'000, /*partitions=*/2);
    builder.BuildPartition(1);
    builder.BuildPartition(0);
    ConflictGraph graph = builder.Finish();
    ASSERT_EQ(graph.key_count(), 256u);
    for (std::uint32_t i = 0; i < 256; ++i) {
      const std::string key = prefix + std::to_string(i);
      ASSERT_EQ(graph.declared_slots(i).size(), 1u);
      EXPECT_EQ(graph.key(graph.declared_slots(i)[0]), key);
      EXPECT_EQ(graph.FindSlot(key), graph.declared_slots(i)[0]);
    }
    EXPECT_EQ(graph.edge_count(), 0u);
  }
}

}  // namespace
}  // namespace tri::txn
