// The documentation's examples are real: every ```yaml block of
// docs/sagas.md and every file in examples/ (but invalid.yaml) validates, and
// a compensation that may run after its step failed to produce output still
// renders. Files are read from the source tree (TRI_SOURCE_DIR).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "saga/dsl/parser.h"
#include "saga/dsl/template.h"

namespace tri::saga {
namespace {

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(TRI_SOURCE_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Block {
  int line = 0;  // of the opening fence
  std::string text;
};

// The bodies of the ```yaml fenced blocks of a Markdown text.
std::vector<Block> YamlBlocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream in(markdown);
  std::string line;
  int number = 0;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    ++number;
    if (open == nullptr) {
      if (line == "```yaml") {
        blocks.push_back(Block{number, ""});
        open = &blocks.back();
      }
    } else if (line == "```") {
      open = nullptr;
    } else {
      open->text += line + "\n";
    }
  }
  EXPECT_EQ(open, nullptr) << "unterminated ```yaml block";
  return blocks;
}

// For a step compensated even when it did not succeed: its compensation must
// render when the step has no output (the steps it needs always have one, so
// a compensation that uses them is out of this check's reach).
void CheckAttemptedCompensationsRender(const SagaSpec& spec, const std::string& where) {
  std::map<std::string, std::string, std::less<>> inputs;
  for (const InputSpec& input : spec.inputs)
    inputs[input.name] = input.default_value.value_or("value");
  for (const StepSpec& step : spec.steps) {
    if (!step.compensate || step.compensate_when != CompensateWhen::kAttempted) continue;
    bool uses_other_outputs = false;
    ForEachTemplatedField(*step.compensate, [&](const std::string&, const std::string& text) {
      auto parts = ParseTemplate(text);
      ASSERT_TRUE(parts.ok()) << parts.status().message();
      for (const TemplatePart& part : *parts) {
        if (part.kind == TemplatePart::Kind::kStepOutput && part.name != step.id &&
            !part.fallback) {
          uses_other_outputs = true;
        }
      }
    });
    if (uses_other_outputs) continue;
    TemplateContext context;
    context.saga_id = "saga-1";
    context.step_id = step.id;
    context.idempotency_key = "saga-1/" + step.id + "/compensate";
    context.inputs = &inputs;
    context.step_output = [](std::string_view) -> const nlohmann::json* { return nullptr; };
    auto rendered = RenderAction(*step.compensate, context);
    EXPECT_TRUE(rendered.ok()) << where << ": step '" << step.id
                               << "': compensation without output: " << rendered.status().message();
  }
}

TEST(DslDocs, EveryYamlBlockOfTheSagaReferenceValidates) {
  const std::vector<Block> blocks = YamlBlocks(ReadSourceFile("docs/sagas.md"));
  ASSERT_FALSE(blocks.empty()) << "docs/sagas.md has no ```yaml block";
  for (const Block& block : blocks) {
    const std::string where = "docs/sagas.md:" + std::to_string(block.line);
    auto spec = ParseSaga(block.text, where + ".yaml");
    EXPECT_TRUE(spec.ok()) << where << ":\n" << spec.status().message();
    if (spec.ok()) CheckAttemptedCompensationsRender(*spec, where);
  }
}

TEST(DslDocs, TheReferenceExampleUsesTheFeaturesItDocuments) {
  const std::vector<Block> blocks = YamlBlocks(ReadSourceFile("docs/sagas.md"));
  ASSERT_FALSE(blocks.empty());
  auto spec = ParseSaga(blocks.front().text, "reference.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  const auto charge = std::find_if(spec->steps.begin(), spec->steps.end(),
                                   [](const StepSpec& s) { return s.id == "charge"; });
  ASSERT_NE(charge, spec->steps.end());
  EXPECT_EQ(charge->compensate_when, CompensateWhen::kAttempted);
  EXPECT_EQ(charge->retry.retry_on, std::vector<int>{75});
  EXPECT_TRUE(charge->retry.non_retryable.empty());
  EXPECT_EQ(charge->schedule_to_close, std::chrono::seconds(20));
  EXPECT_EQ(charge->schedule_to_start, std::chrono::seconds(10));
  EXPECT_EQ(spec->steps.front().retry.non_retryable, (std::vector<int>{400, 404, 409}));
  // The charge's refund renders with an empty payment id when the charge
  // timed out (no output), and with the id when it succeeded.
  std::map<std::string, std::string, std::less<>> inputs = {{"order_id", "o-1"}};
  const nlohmann::json output = {{"payment_id", "p-7"}};
  TemplateContext context;
  context.inputs = &inputs;
  context.step_output = [](std::string_view) -> const nlohmann::json* { return nullptr; };
  auto without = RenderAction(*charge->compensate, context);
  ASSERT_TRUE(without.ok()) << without.status().message();
  EXPECT_EQ(std::get<ExecAction>(*without).argv,
            (std::vector<std::string>{"./refund", "--order=o-1", "--payment="}));
  context.step_output = [&](std::string_view) { return &output; };
  auto with = RenderAction(*charge->compensate, context);
  ASSERT_TRUE(with.ok()) << with.status().message();
  EXPECT_EQ(std::get<ExecAction>(*with).argv,
            (std::vector<std::string>{"./refund", "--order=o-1", "--payment=p-7"}));
}

TEST(DslDocs, EveryExampleFileValidatesButTheInvalidOne) {
  int checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TRI_SOURCE_DIR) + "/examples")) {
    const std::string name = entry.path().filename().string();
    const std::string extension = entry.path().extension().string();
    if (extension != ".yaml" && extension != ".yml" && extension != ".json") continue;
    auto spec = ParseSaga(ReadSourceFile("examples/" + name), "examples/" + name);
    if (name == "invalid.yaml") {
      EXPECT_FALSE(spec.ok()) << "examples/invalid.yaml is meant to be invalid";
    } else {
      EXPECT_TRUE(spec.ok()) << spec.status().message();
      if (spec.ok()) CheckAttemptedCompensationsRender(*spec, "examples/" + name);
    }
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace tri::saga
