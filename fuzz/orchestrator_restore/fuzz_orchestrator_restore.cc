// Orchestrator::Restore decodes bytes that a replicated node reads back from
// disk: arbitrary input must give an error or a state that serializes back to
// the same bytes; never a crash, a hang or an assertion.
//
// The plan is fixed (a diamond with retries, timeouts and compensations) so
// the fingerprint check passes and the fuzzer reaches the per-step decoding;
// the seed corpus holds states of that plan taken mid-run.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/rng.h"
#include "saga/orchestrator.h"

namespace {

std::shared_ptr<const tri::saga::SagaPlan> DiamondPlan() {
  auto graph = tri::saga::SagaGraph::FromNeeds({{}, {0}, {0}, {0}, {1, 2, 3}});
  TRI_ASSERT(graph.ok());
  tri::saga::StepPolicy policy;
  policy.timeout = std::chrono::milliseconds(100);
  policy.retry.max_attempts = 3;
  policy.has_compensate = true;
  policy.compensate_when = tri::saga::CompensateWhen::kAttempted;
  auto plan = tri::saga::SagaPlan::Uniform(std::move(*graph), policy, std::chrono::seconds(1));
  TRI_ASSERT(plan.ok());
  return *plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto plan = DiamondPlan();
  tri::SeededRng rng(1);
  tri::saga::Orchestrator orchestrator(plan, rng);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string before = orchestrator.Serialize();
  if (!orchestrator.Restore(bytes).ok()) {
    TRI_ASSERT_MSG(orchestrator.Serialize() == before, "a failed Restore changed the state");
    return 0;
  }
  const std::string encoded = orchestrator.Serialize();
  tri::saga::Orchestrator again(plan, rng);
  TRI_ASSERT_MSG(again.Restore(encoded).ok(), "a restored state does not restore");
  TRI_ASSERT_MSG(again.Serialize() == encoded, "restore/serialize is not a fixed point");
  (void)orchestrator.stats();
  return 0;
}
