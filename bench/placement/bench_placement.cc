// bench_placement: the cost of one lookup (Google Benchmark), at 10, 100 and
// 1,000 nodes of capacities 1..4 over 5 zones, 160 points per unit of capacity
// (the defaults). Each iteration hashes one of 65,536 distinct keys ("saga/"
// and 8 digits, 13 bytes) taken in a fixed shuffled order, so the ring is read
// at random places as real traffic does.
//
//   BM_Hash              HashBytes of the key alone
//   BM_RingOwner         hash + Ring::Owner (ring alone)
//   BM_ShardTable        hash + ShardTable::Owner (2^18 shards placed with
//                        bounded loads: the lookup of record)
//   BM_BoundedLoad       hash + ChooseBoundedLoad with the loads of 100 keys
//                        per node placed by BoundedLoadPlacer (caps binding on
//                        the overloaded nodes)
//   BM_StrategyConsistentHash  Choose(kConsistentHash) with the ring cached:
//                        /fingerprinted checks the candidates by hashing
//                        their names (O(N) hashes per call); /versioned
//                        trusts ChooserState::candidates_version (one O(N)
//                        pass summing the loads)
//   BM_BuildRing         Ring::Build (what a membership change costs)
//   BM_BuildShardTable   ShardTable::Build on a built ring
//   BM_Rendezvous3       hash + 3 zone-aware rendezvous replicas (O(N))

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "routing/bounded_load.h"
#include "routing/hash.h"
#include "routing/rendezvous.h"
#include "routing/ring.h"
#include "routing/shard_table.h"
#include "routing/strategy.h"

namespace tri::routing {
namespace {

constexpr std::size_t kKeys = 65'536;

std::vector<Node> Nodes(std::size_t count) {
  SeededRng rng(count);
  std::vector<Node> nodes;
  for (std::size_t i = 0; i < count; ++i) {
    Node n;
    n.name = "node-" + std::to_string(i);
    n.zone = "zone-" + std::to_string(rng.Uniform(5));
    n.capacity = static_cast<std::uint32_t>(1 + rng.Uniform(4));
    nodes.push_back(n);
  }
  return nodes;
}

const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    char buf[32];
    for (std::size_t i = 0; i < kKeys; ++i) {
      std::snprintf(buf, sizeof buf, "saga/%08zu", i);
      out.emplace_back(buf);
    }
    SeededRng rng(7);
    for (std::size_t i = kKeys - 1; i > 0; --i)
      std::swap(out[i], out[rng.Uniform(i + 1)]);
    return out;
  }();
  return keys;
}

void BM_Hash(benchmark::State& state) {
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(HashBytes(keys[i++ & (kKeys - 1)]));
  }
}

void BM_RingOwner(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  auto ring = Ring::Build(nodes);
  TRI_ASSERT(ring.ok());
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ring->Owner(HashBytes(keys[i++ & (kKeys - 1)])));
  }
  state.counters["points"] = static_cast<double>(ring->points().size());
}

void BM_ShardTable(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  auto ring = Ring::Build(nodes);
  TRI_ASSERT(ring.ok());
  auto table = ShardTable::Build(*ring);
  TRI_ASSERT(table.ok());
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Owner(HashBytes(keys[i++ & (kKeys - 1)])));
  }
  state.counters["shards"] = static_cast<double>(table->shard_count());
}

void BM_BoundedLoad(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  auto ring = Ring::Build(nodes);
  TRI_ASSERT(ring.ok());
  const BoundedLoadOptions options;
  const std::uint64_t balls = 100 * nodes.size();
  BoundedLoadPlacer placer(*ring, options, balls);
  for (std::uint64_t b = 0; b < balls; ++b)
    placer.Place(HashCombine(b, 99));
  const std::vector<std::uint64_t> loads(placer.loads().begin(), placer.loads().end());
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ChooseBoundedLoad(
        *ring, loads, balls, HashBytes(keys[i++ & (kKeys - 1)]), options.epsilon_permille));
  }
}

void BM_StrategyConsistentHash(benchmark::State& state, bool versioned) {
  auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  for (std::size_t n = 0; n < nodes.size(); ++n) {
    nodes[n].load = static_cast<std::uint32_t>(n % 7);
  }
  ChooserState chooser;
  chooser.candidates_version = versioned ? 1 : 0;
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    auto chosen =
        Choose(Strategy::kConsistentHash, nodes, {.key = keys[i++ & (kKeys - 1)]}, chooser);
    benchmark::DoNotOptimize(chosen);
  }
}

void BM_Rendezvous3(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  auto rendezvous = Rendezvous::Build(nodes);
  TRI_ASSERT(rendezvous.ok());
  std::vector<double> scratch(nodes.size());
  std::uint32_t out[3];
  const auto& keys = Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    rendezvous->Choose(HashBytes(keys[i++ & (kKeys - 1)]), out, scratch);
    benchmark::DoNotOptimize(out);
  }
}

void BM_BuildRing(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto ring = Ring::Build(nodes);
    benchmark::DoNotOptimize(ring);
  }
}

void BM_BuildShardTable(benchmark::State& state) {
  const auto nodes = Nodes(static_cast<std::size_t>(state.range(0)));
  auto ring = Ring::Build(nodes);
  TRI_ASSERT(ring.ok());
  for (auto _ : state) {
    auto table = ShardTable::Build(*ring);
    benchmark::DoNotOptimize(table);
  }
}

BENCHMARK(BM_Hash);
BENCHMARK(BM_RingOwner)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_ShardTable)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_BoundedLoad)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK_CAPTURE(BM_StrategyConsistentHash, fingerprinted, false)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK_CAPTURE(BM_StrategyConsistentHash, versioned, true)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_Rendezvous3)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_BuildRing)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildShardTable)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tri::routing

BENCHMARK_MAIN();
