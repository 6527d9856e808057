#pragma once

// Runs one simulated seed in a child process, so that a core assertion
// (TRI_ASSERT stops the process) is reported as that seed's violation and a
// batch of seeds goes on. Shared by `tri-sim node` and `tri-sim saga`.

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

}  // namespace tri::sim
