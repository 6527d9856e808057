#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/rng.h"
#include "saga/graph.h"

namespace tri::saga {
namespace {

SagaSpec Diamond() {
  SagaSpec spec;
  spec.name = "diamond";
  for (const char* id : {"a", "b", "c", "d"}) spec.steps.push_back(StepSpec{.id = id});
  spec.steps[1].needs = {"a"};
  spec.steps[2].needs = {"a"};
  spec.steps[3].needs = {"b", "c"};
  return spec;
}

TEST(SagaGraph, DiamondLevelsAndAdjacency) {
  auto g = SagaGraph::FromSpec(Diamond());
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->size(), 4u);
  EXPECT_EQ(g->depth(), 3u);
  EXPECT_EQ(g->level(0), 0u);
  EXPECT_EQ(g->level(1), 1u);
  EXPECT_EQ(g->level(3), 2u);
  EXPECT_EQ(std::vector<StepIndex>(g->dependents(0).begin(), g->dependents(0).end()),
            (std::vector<StepIndex>{1, 2}));
  EXPECT_EQ(g->roots(), std::vector<StepIndex>{0});
  EXPECT_TRUE(g->TransitivelyNeeds(3, 0));
  EXPECT_FALSE(g->TransitivelyNeeds(1, 2));
}

TEST(SagaGraph, CriticalPathIsLongestWeightedPath) {
  auto g = SagaGraph::FromSpec(Diamond());
  ASSERT_TRUE(g.ok());
  std::vector<Duration> w = {Duration(1), Duration(5), Duration(2), Duration(3)};
  EXPECT_EQ(g->CriticalPath(w), Duration(9));
}

TEST(SagaGraph, CycleErrorNamesTheCycle) {
  SagaSpec spec = Diamond();
  spec.steps[0].needs = {"d"};
  auto g = SagaGraph::FromSpec(spec);
  ASSERT_FALSE(g.ok());
  // Any rotation of the cycle through a, d and one of b/c is correct; the
  // path must be closed and follow needs edges.
  const std::string& m = g.status().message();
  EXPECT_EQ(m.rfind("cycle: ", 0), 0u) << m;
  EXPECT_NE(m.find("a -> d"), std::string::npos) << m;
}

TEST(SagaGraph, UnknownNeedIsAnError) {
  SagaSpec spec = Diamond();
  spec.steps[3].needs.push_back("zz");
  auto g = SagaGraph::FromSpec(spec);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(), "step 'd' needs unknown step 'zz'");
}

// Random DAGs (edges only from higher to lower index) are always accepted, and
// the topological order puts every need before its dependent.
RC_GTEST_PROP(SagaGraph, TopoOrderRespectsNeeds, (std::uint64_t seed)) {
  SeededRng rng(seed);
  const auto n = static_cast<StepIndex>(1 + rng.Uniform(200));
  std::vector<std::vector<StepIndex>> needs(n);
  for (StepIndex s = 1; s < n; ++s) {
    const auto k = rng.Uniform(std::min<std::uint64_t>(s, 8) + 1);
    for (std::uint64_t i = 0; i < k; ++i) needs[s].push_back(static_cast<StepIndex>(rng.Uniform(s)));
  }
  RC_ASSERT(FindCycle(needs).empty());
  auto g = SagaGraph::FromNeeds(needs);
  RC_ASSERT(g.ok());
  std::vector<std::uint32_t> pos(n);
  for (std::uint32_t i = 0; i < n; ++i) pos[g->topo_order()[i]] = i;
  for (StepIndex s = 0; s < n; ++s) {
    for (StepIndex dep : g->needs(s)) {
      RC_ASSERT(pos[dep] < pos[s]);
      RC_ASSERT(g->level(dep) < g->level(s));
    }
  }
}

// Adding a back edge to a random DAG always produces a reported, closed cycle
// whose every hop is a real needs edge.
RC_GTEST_PROP(SagaGraph, FindCycleReturnsARealCycle, (std::uint64_t seed)) {
  SeededRng rng(seed);
  const auto n = static_cast<StepIndex>(2 + rng.Uniform(50));
  std::vector<std::vector<StepIndex>> needs(n);
  for (StepIndex s = 1; s < n; ++s) needs[s].push_back(s - 1);  // a chain
  const auto from = static_cast<StepIndex>(rng.Uniform(n - 1));
  needs[from].push_back(static_cast<StepIndex>(from + 1 + rng.Uniform(n - 1 - from)));
  const auto cycle = FindCycle(needs);
  RC_ASSERT(cycle.size() >= 3u);
  RC_ASSERT(cycle.front() == cycle.back());
  for (std::size_t i = 0; i + 1 < cycle.size(); ++i) {
    const auto& list = needs[cycle[i]];
    RC_ASSERT(std::find(list.begin(), list.end(), cycle[i + 1]) != list.end());
  }
  RC_ASSERT(!SagaGraph::FromNeeds(needs).ok());
}

}  // namespace
}  // namespace tri::saga
