// bench_dag_overhead: nanoseconds per step of dependency scheduling with empty
// actions, on four shapes (chain 100k, fan-out 1 -> 100k -> 1, 20k chained
// diamonds, random DAG of 100k steps with up to 8 needs), for
//   core/<shape>  the saga orchestrator core alone: one thread, a loop that
//                 answers every start-attempt command with success at once;
//   core+setup/<shape>  the same, also timing the per-run state construction;
//   runtime/<shape>  the in-process runtime (exec::Runtime: its event-loop
//                 thread runs the saga, the benchmark thread submits and
//                 waits: 2 threads), noop actions, per-run state and the
//                 final SagaResult included;
//   tbb/<shape>   TBB flow_graph continue_nodes with empty bodies, same graph,
//                 in a task_arena of 2 threads.
// Graph and plan construction are outside the timed region.
// After the run a summary prints the medians in ns/step and core/TBB ratios.
//
// Environment: TRI_BENCH_REPS (repetitions, default 5), TRI_BENCH_SCALE
// (divides the step counts, default 1; e.g. 10 for a quick smoke run).

#include <benchmark/benchmark.h>
#include <tbb/flow_graph.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/assert.h"
#include "base/rng.h"
#include "exec/runtime.h"
#include "saga/orchestrator.h"
#include "shapes.h"

namespace tri::bench {
namespace {

using saga::Command;
using saga::CommandKind;
using saga::StepIndex;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// --- the orchestrator core -------------------------------------------------------

// `with_setup`: also time the per-run state (Orchestrator construction and
// destruction, O(steps)); the plan is shared and built once either way.
void BM_Core(benchmark::State& state, const Shape* shape, bool with_setup) {
  auto graph = saga::SagaGraph::FromNeeds(shape->needs);
  TRI_ASSERT(graph.ok());
  auto plan = saga::SagaPlan::Uniform(std::move(*graph), saga::StepPolicy{});
  TRI_ASSERT(plan.ok());
  const std::shared_ptr<const saga::SagaPlan> shared_plan = *plan;
  const auto n = static_cast<std::uint64_t>(shape->needs.size());
  SeededRng rng(1);
  std::vector<Command> current, next;
  current.reserve(n + 1);
  next.reserve(n + 1);
  const TimePoint now{0};  // a manual clock that never moves: zero-overhead actions
  for (auto _ : state) {
    if (!with_setup) state.PauseTiming();
    auto orch = std::make_unique<saga::Orchestrator>(shared_plan, rng);
    current.clear();
    if (!with_setup) state.ResumeTiming();
    std::uint64_t started = 0;
    orch->Start(now, current);
    while (!current.empty()) {
      next.clear();
      for (const Command& c : current) {
        if (c.kind != CommandKind::kStartAttempt) continue;
        ++started;
        orch->OnAttemptSucceeded(saga::AttemptPhase::kForward, c.step, c.attempt, now, next);
      }
      current.swap(next);
    }
    TRI_ASSERT(started == n && orch->outcome() == saga::SagaOutcome::kCompleted);
    if (!with_setup) state.PauseTiming();
    orch.reset();
    if (!with_setup) state.ResumeTiming();
  }
  state.counters["steps"] = static_cast<double>(n);
  state.counters["sec_per_step"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

// --- the in-process runtime -------------------------------------------------------

std::shared_ptr<const exec::SagaDefinition> NoopDefinition(const Shape& shape) {
  saga::SagaSpec spec;
  spec.name = shape.name;
  spec.steps.resize(shape.needs.size());
  for (std::size_t s = 0; s < shape.needs.size(); ++s) {
    spec.steps[s].id = "s" + std::to_string(s);
    for (StepIndex need : shape.needs[s])
      spec.steps[s].needs.push_back("s" + std::to_string(need));
    spec.steps[s].run = saga::NoopAction{};
  }
  auto definition = exec::SagaDefinition::Make(std::move(spec));
  TRI_ASSERT(definition.ok());
  return *definition;
}

void BM_Runtime(benchmark::State& state, const Shape* shape) {
  const auto definition = NoopDefinition(*shape);
  exec::Runtime runtime(exec::RuntimeOptions{.blocking_threads = 1});
  const auto n = static_cast<std::uint64_t>(shape->needs.size());
  for (auto _ : state) {
    auto result = runtime.Run(definition, {});
    TRI_ASSERT(result.ok() && result->outcome == saga::SagaOutcome::kCompleted &&
               result->stats.steps_succeeded == n);
  }
  state.counters["steps"] = static_cast<double>(n);
  state.counters["sec_per_step"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

// --- TBB flow_graph --------------------------------------------------------------

class TbbGraph {
 public:
  using Node = tbb::flow::continue_node<tbb::flow::continue_msg>;

  TbbGraph(const Shape& shape, int threads) : arena_(threads) {
    arena_.execute([&] {
      graph_ = std::make_unique<tbb::flow::graph>();
      nodes_.reserve(shape.needs.size());
      for (std::size_t s = 0; s < shape.needs.size(); ++s) {
        nodes_.push_back(std::make_unique<Node>(
            *graph_, [](const tbb::flow::continue_msg&) { return tbb::flow::continue_msg(); }));
        if (shape.needs[s].empty()) roots_.push_back(static_cast<StepIndex>(s));
      }
      for (std::size_t s = 0; s < shape.needs.size(); ++s) {
        for (StepIndex need : shape.needs[s])
          tbb::flow::make_edge(*nodes_[need], *nodes_[s]);
      }
    });
  }
  ~TbbGraph() {
    arena_.execute([&] {
      graph_->wait_for_all();
      nodes_.clear();
      graph_.reset();
    });
  }

  void Run() {
    arena_.execute([&] {
      for (StepIndex root : roots_)
        nodes_[root]->try_put(tbb::flow::continue_msg());
      graph_->wait_for_all();
    });
  }

 private:
  tbb::task_arena arena_;
  std::unique_ptr<tbb::flow::graph> graph_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<StepIndex> roots_;
};

void BM_Tbb(benchmark::State& state, const Shape* shape) {
  TbbGraph graph(*shape, 2);
  for (auto _ : state)
    graph.Run();
  const auto n = static_cast<double>(shape->needs.size());
  state.counters["steps"] = n;
  state.counters["sec_per_step"] = benchmark::Counter(
      n, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// --- summary ---------------------------------------------------------------------

// Console output as usual, plus the median ns/step of each benchmark.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  SummaryReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  // With repetitions only aggregates arrive (ReportAggregatesOnly): keep the
  // median. Without, keep the single run.
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
      auto it = run.counters.find("sec_per_step");
      if (it == run.counters.end()) continue;
      medians_[run.run_name.function_name] = it->second.value * 1e9;  // counter: s/step
    }
  }
  const std::map<std::string, double>& medians() const { return medians_; }

 private:
  std::map<std::string, double> medians_;
};

}  // namespace
}  // namespace tri::bench

int main(int argc, char** argv) {
  using namespace tri::bench;  // NOLINT: a benchmark's main
  const auto scale = static_cast<std::uint32_t>(EnvInt("TRI_BENCH_SCALE", 1));
  const int reps = EnvInt("TRI_BENCH_REPS", 5);
  const std::vector<Shape> shapes = {
      Chain(100'000 / scale),
      FanOutIn(100'000 / scale),
      Diamonds(20'000 / scale),
      RandomDag(100'000 / scale, 8, 42),
  };
  for (const Shape& shape : shapes) {
    const std::string suffix = "/" + shape.name;
    for (auto* b : {
             benchmark::RegisterBenchmark(("core" + suffix).c_str(), BM_Core, &shape, false),
             benchmark::RegisterBenchmark(("core+setup" + suffix).c_str(), BM_Core, &shape, true),
             benchmark::RegisterBenchmark(("runtime" + suffix).c_str(), BM_Runtime, &shape),
             benchmark::RegisterBenchmark(("tbb" + suffix).c_str(), BM_Tbb, &shape),
         }) {
      b->UseRealTime()
          ->Unit(benchmark::kMicrosecond)
          ->Repetitions(reps)
          ->ReportAggregatesOnly(reps > 1);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  const auto& m = reporter.medians();
  const auto get = [&](const std::string& name) {
    auto it = m.find(name);
    return it == m.end() ? -1.0 : it->second;
  };
  std::printf(
      "\nmedian ns/step; tbb = flow_graph, 2 threads; core = orchestrator alone, 1 thread "
      "(+setup: with per-run state construction); runtime = in-process runtime, 2 threads\n");
  std::printf("%-10s %8s %9s %11s %9s %9s %9s %11s %12s %s\n", "shape", "steps", "core",
              "core+setup", "runtime", "tbb", "core/tbb", "+setup/tbb", "runtime/tbb",
              "goals (core/tbb, runtime/tbb <= 2)");
  for (const Shape& shape : shapes) {
    const double core = get("core/" + shape.name);
    const double setup = get("core+setup/" + shape.name);
    const double runtime = get("runtime/" + shape.name);
    const double tbb = get("tbb/" + shape.name);
    if (core < 0 || setup < 0 || runtime < 0 || tbb <= 0) continue;
    const double goal = shape.name == "diamonds" || shape.name == "random" ? 0.5 : 1.0;
    std::printf("%-10s %8zu %9.1f %11.1f %9.1f %9.1f %9.3f %11.3f %12.3f <= %.1f %s, %s\n",
                shape.name.c_str(), shape.needs.size(), core, setup, runtime, tbb, core / tbb,
                setup / tbb, runtime / tbb, goal, core / tbb <= goal ? "met" : "MISSED",
                runtime / tbb <= 2.0 ? "met" : "MISSED");
  }
  return 0;
}
