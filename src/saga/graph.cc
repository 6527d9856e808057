#include "saga/graph.h"

#include <algorithm>
#include <unordered_map>

#include "base/assert.h"

namespace tri::saga {
namespace {

std::string FormatCycle(const std::vector<StepIndex>& cycle,
                        const std::vector<std::string>* names) {
  std::string out = "cycle: ";
  for (std::size_t i = 0; i < cycle.size(); ++i) {
    if (i > 0) out += " -> ";
    out += names ? (*names)[cycle[i]] : std::to_string(cycle[i]);
  }
  return out;
}

Result<SagaGraph> Build(std::vector<std::vector<StepIndex>> needs,
                        const std::vector<std::string>* names);

}  // namespace

std::vector<StepIndex> FindCycle(const std::vector<std::vector<StepIndex>>& needs) {
  const auto n = static_cast<StepIndex>(needs.size());
  enum : std::uint8_t { kWhite, kGrey, kBlack };
  std::vector<std::uint8_t> color(n, kWhite);
  std::vector<StepIndex> parent(n, 0);
  // Iterative DFS along needs edges: (node, next edge to explore).
  std::vector<std::pair<StepIndex, std::size_t>> stack;
  for (StepIndex start = 0; start < n; ++start) {
    if (color[start] != kWhite) continue;
    stack.push_back({start, 0});
    color[start] = kGrey;
    while (!stack.empty()) {
      auto& [node, edge] = stack.back();
      if (edge == needs[node].size()) {
        color[node] = kBlack;
        stack.pop_back();
        continue;
      }
      const StepIndex next = needs[node][edge++];
      if (color[next] == kGrey) {
        // Back edge node -> next closes a cycle next -> ... -> node -> next.
        std::vector<StepIndex> cycle;
        for (StepIndex at = node; at != next; at = parent[at]) cycle.push_back(at);
        cycle.push_back(next);
        std::reverse(cycle.begin(), cycle.end());
        cycle.push_back(next);
        return cycle;
      }
      if (color[next] == kWhite) {
        color[next] = kGrey;
        parent[next] = node;
        stack.push_back({next, 0});
      }
    }
  }
  return {};
}

namespace {

Result<SagaGraph> Build(std::vector<std::vector<StepIndex>> needs,
                        const std::vector<std::string>* names) {
  const auto n = static_cast<StepIndex>(needs.size());
  for (auto& list : needs) {
    for (StepIndex dep : list) TRI_ASSERT_MSG(dep < n, "need index out of range");
    // Duplicate needs would double-count in the orchestrator's pending counters.
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  if (auto cycle = FindCycle(needs); !cycle.empty()) {
    return InvalidArgument(FormatCycle(cycle, names));
  }
  return SagaGraph::FromNeeds(std::move(needs));
}

}  // namespace

Result<SagaGraph> SagaGraph::FromNeeds(std::vector<std::vector<StepIndex>> needs) {
  const auto n = static_cast<StepIndex>(needs.size());
  SagaGraph g;
  g.needs_offsets_.assign(n + 1, 0);
  g.dependents_offsets_.assign(n + 1, 0);
  std::size_t edges = 0;
  for (StepIndex s = 0; s < n; ++s) {
    auto& list = needs[s];
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    for (StepIndex dep : list) {
      TRI_ASSERT_MSG(dep < n, "need index out of range");
      g.dependents_offsets_[dep + 1]++;
    }
    edges += list.size();
    g.needs_offsets_[s + 1] = static_cast<std::uint32_t>(edges);
  }
  g.needs_.reserve(edges);
  for (const auto& list : needs) g.needs_.insert(g.needs_.end(), list.begin(), list.end());
  for (StepIndex s = 0; s < n; ++s) g.dependents_offsets_[s + 1] += g.dependents_offsets_[s];
  g.dependents_.resize(edges);
  std::vector<std::uint32_t> fill(g.dependents_offsets_.begin(), g.dependents_offsets_.end() - 1);
  for (StepIndex s = 0; s < n; ++s) {
    for (StepIndex dep : needs[s]) g.dependents_[fill[dep]++] = s;
  }

  // Kahn's algorithm gives the topological order and the levels in one pass.
  std::vector<std::uint32_t> pending(n);
  g.level_.assign(n, 0);
  g.topo_order_.reserve(n);
  for (StepIndex s = 0; s < n; ++s) {
    pending[s] = g.needs_offsets_[s + 1] - g.needs_offsets_[s];
    if (pending[s] == 0) {
      g.roots_.push_back(s);
      g.topo_order_.push_back(s);
    }
  }
  for (std::size_t head = 0; head < g.topo_order_.size(); ++head) {
    const StepIndex s = g.topo_order_[head];
    g.depth_ = std::max(g.depth_, g.level_[s] + 1);
    for (StepIndex d : g.dependents(s)) {
      g.level_[d] = std::max(g.level_[d], g.level_[s] + 1);
      if (--pending[d] == 0) g.topo_order_.push_back(d);
    }
  }
  if (g.topo_order_.size() != n) {
    return InvalidArgument(FormatCycle(FindCycle(needs), nullptr));
  }
  return g;
}

Result<SagaGraph> SagaGraph::FromSpec(const SagaSpec& spec) {
  std::unordered_map<std::string_view, StepIndex> index;
  index.reserve(spec.steps.size());
  std::vector<std::string> names;
  names.reserve(spec.steps.size());
  for (StepIndex s = 0; s < spec.steps.size(); ++s) {
    if (!index.emplace(spec.steps[s].id, s).second) {
      return InvalidArgument("duplicate step id '" + spec.steps[s].id + "'");
    }
    names.push_back(spec.steps[s].id);
  }
  std::vector<std::vector<StepIndex>> needs(spec.steps.size());
  for (StepIndex s = 0; s < spec.steps.size(); ++s) {
    for (const auto& id : spec.steps[s].needs) {
      auto it = index.find(id);
      if (it == index.end()) {
        return InvalidArgument("step '" + spec.steps[s].id + "' needs unknown step '" + id + "'");
      }
      needs[s].push_back(it->second);
    }
  }
  return Build(std::move(needs), &names);
}

Duration SagaGraph::CriticalPath(std::span<const Duration> weight) const {
  TRI_ASSERT(weight.size() == size());
  std::vector<Duration> finish(size(), Duration{0});
  Duration longest{0};
  for (StepIndex s : topo_order_) {
    Duration start{0};
    for (StepIndex dep : needs(s)) start = std::max(start, finish[dep]);
    finish[s] = start + weight[s];
    longest = std::max(longest, finish[s]);
  }
  return longest;
}

bool SagaGraph::TransitivelyNeeds(StepIndex s, StepIndex ancestor) const {
  TRI_ASSERT(s < size() && ancestor < size());
  if (s == ancestor) return false;
  std::vector<bool> seen(size(), false);
  std::vector<StepIndex> todo(needs(s).begin(), needs(s).end());
  while (!todo.empty()) {
    const StepIndex at = todo.back();
    todo.pop_back();
    if (at == ancestor) return true;
    if (seen[at]) continue;
    seen[at] = true;
    todo.insert(todo.end(), needs(at).begin(), needs(at).end());
  }
  return false;
}

}  // namespace tri::saga
