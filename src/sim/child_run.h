#pragma once

// Runs one simulated seed in a child process, so that a core assertion
// (TRI_ASSERT stops the process) is reported as that seed's violation and a
// batch of seeds goes on. Shared by `tri-sim node` and `tri-sim saga`.

#include <cstdio>
#include <functional>
#include <string>

namespace tri::sim {

struct ChildRunOutcome {
  bool ok = false;
  // The child's violated invariant (empty when ok), "core assertion" when it
  // stopped on a signal, "simulator" when no child could run.
  std::string violated;
  // For "core assertion" and "simulator": what happened (the child's last line
  // on stderr), for the caller to report; the child printed nothing then.
  std::string details;
  bool child_reported = false;  // the child printed its own line
};

// `run` executes in the child: it runs the seed, prints its line and returns
// the violated invariant ("" = ok). Without fork, `run` runs here.
ChildRunOutcome RunInChild(const std::function<std::string()>& run);

// One seed of a simulator in a child: `run()` -> Result (with ok, violated,
// details) and `line(result)` -> its summary line, printed by the child when
// the seed failed or `quiet` is off, or here when the child could not report.
template <typename Result, typename Run, typename Line>
Result RunSeedIsolated(const Run& run, const Line& line, bool quiet) {
  const ChildRunOutcome child = RunInChild([&] {
    const Result r = run();
    if (!r.ok || !quiet) std::puts(line(r).c_str());
    return r.ok ? std::string() : r.violated;
  });
  Result r;
  r.ok = child.ok;
  r.violated = child.violated;
  if (child.child_reported) return r;
  r.details = child.details;
  std::puts(line(r).c_str());
  return r;
}

}  // namespace tri::sim
