#include "sim/steal_workload.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace tri::sim {

namespace {

// SplitMix64's finalizer: the static placement hashes a task id to a node.
std::uint64_t HashId(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Work(StealWorkload kind, Rng& rng) {
  switch (kind) {
    case StealWorkload::kPareto: {
      const double u = 1.0 - rng.NextDouble();  // (0, 1]
      return static_cast<std::uint64_t>(std::ceil(2.0 * std::pow(u, -1.0 / 1.5)));
    }
    case StealWorkload::kHuge: {
      const std::uint64_t work = static_cast<std::uint64_t>(rng.Range(5, 25));
      return rng.Uniform(1000) == 0 ? work * 20 : work;
    }
    case StealWorkload::kUniform:
    case StealWorkload::kHotspot:
      return static_cast<std::uint64_t>(rng.Range(5, 25));
  }
  TRI_UNREACHABLE();
}

}  // namespace

const char* StealWorkloadName(StealWorkload workload) {
  switch (workload) {
    case StealWorkload::kUniform:
      return "uniform";
    case StealWorkload::kPareto:
      return "pareto";
    case StealWorkload::kHuge:
      return "huge";
    case StealWorkload::kHotspot:
      return "hotspot";
  }
  return "unknown";
}

Result<StealWorkload> ParseStealWorkload(const std::string& text) {
  for (StealWorkload w : {StealWorkload::kUniform, StealWorkload::kPareto, StealWorkload::kHuge,
                          StealWorkload::kHotspot}) {
    if (text == StealWorkloadName(w)) return w;
  }
  return InvalidArgument("unknown workload '" + text + "' (uniform, pareto, huge, hotspot)");
}

double StealWorkloadSpec::LowerBoundMs() const {
  return std::max({static_cast<double>(total_work) / total_speed,
                   static_cast<double>(longest_work) / fastest_speed, pinned_bound_ms});
}

std::int64_t RunTimeMs(std::uint64_t work, double speed) {
  TRI_ASSERT(speed > 0);
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil(static_cast<double>(work) / speed)));
}

StealWorkloadSpec MakeStealWorkload(StealWorkload kind, const StealWorkloadOptions& options,
                                    Rng& rng) {
  TRI_ASSERT(options.nodes > 0 && options.zones > 0);
  StealWorkloadSpec spec;
  spec.nodes.reserve(options.nodes);
  for (std::uint32_t i = 0; i < options.nodes; ++i) {
    SimNode node;
    node.name = "n" + std::to_string(i);
    node.zone = "z" + std::to_string(i % options.zones);
    node.speed = options.speed_min + (options.speed_max - options.speed_min) * rng.NextDouble();
    spec.total_speed += node.speed;
    spec.fastest_speed = std::max(spec.fastest_speed, node.speed);
    spec.nodes.push_back(std::move(node));
  }
  const std::uint64_t homes = kind == StealWorkload::kHotspot
                                  ? std::max<std::uint32_t>(1, options.nodes / 100)
                                  : options.nodes;
  spec.tasks.reserve(options.tasks);
  for (std::uint64_t id = 1; id <= options.tasks; ++id) {
    SimTask task;
    task.id = id;
    task.work = Work(kind, rng);
    task.home = static_cast<std::uint32_t>(HashId(id) % homes);
    task.pinned = rng.Bernoulli(options.pinned_fraction);
    spec.total_work += task.work;
    spec.longest_work = std::max(spec.longest_work, task.work);
    spec.tasks.push_back(task);
  }
  std::vector<std::uint64_t> pinned_work(spec.nodes.size(), 0);
  for (const SimTask& task : spec.tasks) {
    if (task.pinned) pinned_work[task.home] += task.work;
  }
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    spec.pinned_bound_ms =
        std::max(spec.pinned_bound_ms, static_cast<double>(pinned_work[i]) / spec.nodes[i].speed);
  }
  return spec;
}

}  // namespace tri::sim
