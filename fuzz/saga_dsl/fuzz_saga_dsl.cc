// Feeds arbitrary bytes to the saga DSL as YAML and as JSON. The parser must
// never crash, hang or overflow the stack; whatever it accepts must be a
// valid saga (its graph builds, re-validation agrees, the text is UTF-8, retry
// code lists are sorted, unique and not both given) and its templates must
// render without crashing, with step outputs present and absent.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "saga/dsl/document_text.h"
#include "saga/dsl/parser.h"
#include "saga/dsl/template.h"
#include "saga/dsl/validate.h"
#include "saga/graph.h"

namespace {

void Check(std::string_view text, std::string_view file_name) {
  tri::saga::SagaLimits limits;
  limits.max_steps = 64;  // small limits keep each run fast and exercise the limit paths
  limits.max_needs_per_step = 8;
  limits.max_depth = 16;
  tri::saga::Diagnostics diagnostics;
  auto spec = tri::saga::ParseSaga(text, file_name, limits, diagnostics);
  if (!spec) {
    TRI_ASSERT(!diagnostics.empty());
    (void)diagnostics.ToString();
    return;
  }
  TRI_ASSERT(diagnostics.empty());
  auto graph = tri::saga::SagaGraph::FromSpec(*spec);
  TRI_ASSERT_MSG(graph.ok(), "an accepted saga must have a valid graph");
  TRI_ASSERT(graph->depth() <= limits.max_depth);
  TRI_ASSERT_MSG(tri::saga::ValidateSaga(*spec, limits).ok(), "re-validation disagrees");
  TRI_ASSERT_MSG(!tri::saga::FirstInvalidUtf8(text).has_value(), "accepted invalid UTF-8");
  auto check_codes = [](const tri::saga::RetryPolicy& policy) {
    for (const auto* codes : {&policy.non_retryable, &policy.retry_on}) {
      TRI_ASSERT(std::adjacent_find(codes->begin(), codes->end(),
                                    [](int a, int b) { return a >= b; }) == codes->end());
    }
    TRI_ASSERT(policy.non_retryable.empty() || policy.retry_on.empty());
  };
  for (const auto& step : spec->steps) {
    check_codes(step.retry);
    check_codes(step.compensate_retry);
  }

  std::map<std::string, std::string, std::less<>> inputs;
  for (const auto& input : spec->inputs)
    inputs[input.name] = input.default_value.value_or("v");
  const nlohmann::json output = {{"id", "x"}, {"items", {1, "two", {{"k", nullptr}}}}};
  tri::saga::TemplateContext context;
  context.saga_id = "s";
  context.step_id = "t";
  context.inputs = &inputs;
  context.step_output = [&](std::string_view) { return &output; };
  for (const auto& step : spec->steps) {
    (void)tri::saga::RenderAction(step.run, context);
    if (step.compensate) (void)tri::saga::RenderAction(*step.compensate, context);
  }
  context.step_output = [](std::string_view) -> const nlohmann::json* { return nullptr; };
  for (const auto& step : spec->steps) {
    if (step.compensate) (void)tri::saga::RenderAction(*step.compensate, context);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(text, "fuzz.yaml");
  Check(text, "fuzz.json");
  // Also the template language alone.
  tri::saga::TemplateContext context;
  (void)tri::saga::Render(text, context);
  return 0;
}
