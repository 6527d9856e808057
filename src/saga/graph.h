#pragma once

// The dependency graph of a saga in index form: steps are numbered by their
// position in SagaSpec::steps, adjacency is stored as compressed rows. Built
// once per saga definition and shared (immutably) by every run of it.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "saga/spec.h"

namespace tri::saga {

using StepIndex = std::uint32_t;

class SagaGraph {
 public:
  // Builds from a list of needs per step (indices). Fails with a cycle error
  // naming the cycle by index if the graph is not acyclic; asserts that every
  // index is in range.
  static Result<SagaGraph> FromNeeds(std::vector<std::vector<StepIndex>> needs);

  // Builds from a spec; unknown ids and cycles are errors naming the step ids
  // ("cycle: a -> b -> c -> a").
  static Result<SagaGraph> FromSpec(const SagaSpec& spec);

  std::uint32_t size() const { return static_cast<std::uint32_t>(level_.size()); }
  std::span<const StepIndex> needs(StepIndex s) const {
    return {needs_.data() + needs_offsets_[s], needs_.data() + needs_offsets_[s + 1]};
  }
  std::span<const StepIndex> dependents(StepIndex s) const {
    return {dependents_.data() + dependents_offsets_[s],
            dependents_.data() + dependents_offsets_[s + 1]};
  }
  // Level: 0 for steps without needs, else 1 + the max level of its needs.
  std::uint32_t level(StepIndex s) const { return level_[s]; }
  std::uint32_t depth() const { return depth_; }  // number of levels
  // A topological order (needs before dependents).
  const std::vector<StepIndex>& topo_order() const { return topo_order_; }
  // Steps with no needs.
  const std::vector<StepIndex>& roots() const { return roots_; }

  // Longest path by weight, where weight[s] is the duration of step s.
  Duration CriticalPath(std::span<const Duration> weight) const;

  // True when `ancestor` is reachable from `s` by following needs (s != ancestor).
  bool TransitivelyNeeds(StepIndex s, StepIndex ancestor) const;

 private:
  std::vector<std::uint32_t> needs_offsets_;
  std::vector<StepIndex> needs_;
  std::vector<std::uint32_t> dependents_offsets_;
  std::vector<StepIndex> dependents_;
  std::vector<std::uint32_t> level_;
  std::vector<StepIndex> topo_order_;
  std::vector<StepIndex> roots_;
  std::uint32_t depth_ = 0;
};

// Finds one cycle in a needs-graph, as a closed path of indices
// (first == last), or an empty vector when the graph is acyclic.
std::vector<StepIndex> FindCycle(const std::vector<std::vector<StepIndex>>& needs);

}  // namespace tri::saga
