// Templating: each variable kind, JSON paths, escapes, missing values, and
// rendering of whole actions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "saga/dsl/template.h"

namespace tri::saga {
namespace {

class DslTemplate : public ::testing::Test {
 protected:
  DslTemplate() {
    inputs_ = {{"order", "o-17"}, {"amount", "250"}};
    outputs_["reserve"] = nlohmann::json::parse(
        R"({"id": "r-9", "items": [{"id": "i-1", "qty": 2}, {"id": "i-2"}], "ok": true,
            "nested": {"n": 1.5}, "none": null})");
    outputs_["text"] = "plain output";
    context_.saga_id = "saga-42";
    context_.step_id = "charge";
    context_.attempt = 3;
    context_.idempotency_key = "saga-42/charge";
    context_.inputs = &inputs_;
    context_.step_output = [this](std::string_view id) -> const nlohmann::json* {
      auto it = outputs_.find(std::string(id));
      return it == outputs_.end() ? nullptr : &it->second;
    };
  }

  std::string Rendered(std::string_view text) {
    auto r = Render(text, context_);
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
    return r.ok() ? *r : "<error>";
  }
  std::string RenderError(std::string_view text) {
    auto r = Render(text, context_);
    EXPECT_FALSE(r.ok()) << text << " rendered as " << (r.ok() ? *r : "");
    return r.ok() ? "" : r.status().message();
  }

  std::map<std::string, std::string, std::less<>> inputs_;
  std::map<std::string, nlohmann::json> outputs_;
  TemplateContext context_;
};

TEST_F(DslTemplate, RendersEachVariableKind) {
  EXPECT_EQ(Rendered("order=${input.order} amount=${input.amount}"), "order=o-17 amount=250");
  EXPECT_EQ(Rendered("${saga.id}"), "saga-42");
  EXPECT_EQ(Rendered("${step.id}"), "charge");
  EXPECT_EQ(Rendered("try ${attempt}"), "try 3");
  EXPECT_EQ(Rendered("key: ${idempotency_key}"), "key: saga-42/charge");
  EXPECT_EQ(Rendered("${steps.reserve.output.id}"), "r-9");
  EXPECT_EQ(Rendered("${steps.text.output}"), "plain output");
  EXPECT_EQ(Rendered("no templates here"), "no templates here");
  EXPECT_EQ(Rendered(""), "");
}

TEST_F(DslTemplate, FollowsJsonPathsWithArrayIndices) {
  EXPECT_EQ(Rendered("${steps.reserve.output.items.0.id}"), "i-1");
  EXPECT_EQ(Rendered("${steps.reserve.output.items.1.id}"), "i-2");
  // Non-string values render as compact JSON.
  EXPECT_EQ(Rendered("${steps.reserve.output.items.0.qty}"), "2");
  EXPECT_EQ(Rendered("${steps.reserve.output.ok}"), "true");
  EXPECT_EQ(Rendered("${steps.reserve.output.nested}"), R"({"n":1.5})");
  EXPECT_EQ(Rendered("${steps.reserve.output.none}"), "null");
  EXPECT_EQ(Rendered("${steps.reserve.output.items.0}"), R"({"id":"i-1","qty":2})");
}

TEST_F(DslTemplate, EscapesAndLoneDollarsAreLiteral) {
  EXPECT_EQ(Rendered("$${input.order}"), "${input.order}");
  EXPECT_EQ(Rendered("cost: $5, $${x} and ${input.amount}$"), "cost: $5, ${x} and 250$");
  EXPECT_EQ(Rendered("$$"), "$$");
  EXPECT_EQ(Rendered("$$${input.order}"), "$${input.order}");  // "$" + "$${" + "input.order}"
}

TEST_F(DslTemplate, MissingValuesAreErrorsNamingTheVariable) {
  EXPECT_EQ(RenderError("${input.nope}"), "${input.nope}: input 'nope' has no value");
  EXPECT_EQ(RenderError("${steps.ghost.output}"),
            "${steps.ghost.output}: step 'ghost' has no output");
  EXPECT_EQ(RenderError("${steps.reserve.output.items.7.id}"),
            "${steps.reserve.output.items.7.id}: the output of step 'reserve' has no "
            "'items.7.id'");
  EXPECT_EQ(RenderError("${steps.reserve.output.id.deeper}"),
            "${steps.reserve.output.id.deeper}: the output of step 'reserve' has no 'id.deeper'");
  EXPECT_EQ(RenderError("${steps.reserve.output.items.x}"),
            "${steps.reserve.output.items.x}: the output of step 'reserve' has no 'items.x'");
  TemplateContext empty;
  EXPECT_EQ(Render("${input.a}", empty).status().message(), "${input.a}: no inputs given");
  EXPECT_EQ(Render("${steps.a.output}", empty).status().message(),
            "${steps.a.output}: step 'a' has no output");
}

TEST_F(DslTemplate, SyntaxErrors) {
  EXPECT_EQ(RenderError("${input.order"), "unterminated '${' (write '$${' for a literal '${')");
  EXPECT_EQ(RenderError("${what}"),
            "unknown template variable '${what}' (known: input.NAME, saga.id, step.id, attempt, "
            "idempotency_key, steps.ID.output.PATH)");
  EXPECT_EQ(RenderError("${}"),
            "unknown template variable '${}' (known: input.NAME, saga.id, step.id, attempt, "
            "idempotency_key, steps.ID.output.PATH)");
  EXPECT_EQ(RenderError("${steps.a.result}"),
            "template variable '${steps.a.result}': expected ${steps.ID.output} or "
            "${steps.ID.output.PATH}");
  EXPECT_EQ(RenderError("${steps.a.output..x}"),
            "template variable '${steps.a.output..x}': empty path segment");
  EXPECT_EQ(RenderError("${input.}"), "template variable '${input.}': bad input name");
  EXPECT_EQ(RenderError("${a ${input.order}}"),
            "'${' inside '${a ${input.order}' (write '$${' for a literal '${')");
}

TEST_F(DslTemplate, ParseSplitsIntoParts) {
  auto parts = ParseTemplate("a${input.x}b${steps.s.output.p.0}$${c");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 5u);
  EXPECT_EQ((*parts)[0].text, "a");
  EXPECT_EQ((*parts)[1].kind, TemplatePart::Kind::kInput);
  EXPECT_EQ((*parts)[1].name, "x");
  EXPECT_EQ((*parts)[2].text, "b");
  EXPECT_EQ((*parts)[3].kind, TemplatePart::Kind::kStepOutput);
  EXPECT_EQ((*parts)[3].name, "s");
  EXPECT_EQ((*parts)[3].path, (std::vector<std::string>{"p", "0"}));
  EXPECT_EQ((*parts)[4].text, "${c");
}

TEST_F(DslTemplate, RendersEveryStringFieldOfAnAction) {
  ExecAction exec{.argv = {"charge", "--order=${input.order}", "${attempt}"},
                  .env = {{"KEY", "${idempotency_key}"}},
                  .cwd = "/tmp/${saga.id}",
                  .shell = false};
  auto rendered = RenderAction(exec, context_);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const auto& e = std::get<ExecAction>(*rendered);
  EXPECT_EQ(e.argv, (std::vector<std::string>{"charge", "--order=o-17", "3"}));
  EXPECT_EQ(e.env.at("KEY"), "saga-42/charge");
  EXPECT_EQ(e.cwd, "/tmp/saga-42");

  HttpAction http{.method = "POST",
                  .url = "http://127.0.0.1/orders/${input.order}",
                  .headers = {{"Idempotency-Key", "${idempotency_key}"}},
                  .body = R"({"reservation": "${steps.reserve.output.id}"})",
                  .expect = {201}};
  rendered = RenderAction(http, context_);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const auto& h = std::get<HttpAction>(*rendered);
  EXPECT_EQ(h.url, "http://127.0.0.1/orders/o-17");
  EXPECT_EQ(h.headers.at("Idempotency-Key"), "saga-42/charge");
  EXPECT_EQ(h.body, R"({"reservation": "r-9"})");
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.expect, std::vector<int>{201});

  // Actions without templated fields come back unchanged.
  rendered = RenderAction(SleepAction{.duration = std::chrono::milliseconds(5)}, context_);
  ASSERT_TRUE(rendered.ok());
  EXPECT_EQ(std::get<SleepAction>(*rendered).duration, std::chrono::milliseconds(5));

  // The first error wins and names the variable.
  exec.argv.push_back("${input.missing}");
  EXPECT_EQ(RenderAction(exec, context_).status().message(),
            "${input.missing}: input 'missing' has no value");
}

TEST_F(DslTemplate, ListsTemplatedFieldsByDslPath) {
  ExecAction exec{.argv = {"a", "b"}, .env = {{"E", "v"}}, .cwd = "d"};
  std::vector<std::string> fields;
  ForEachTemplatedField(exec,
                        [&](const std::string& f, const std::string&) { fields.push_back(f); });
  EXPECT_EQ(fields,
            (std::vector<std::string>{"exec.argv[0]", "exec.argv[1]", "exec.env.E", "exec.cwd"}));
  fields.clear();
  ForEachTemplatedField(HttpAction{.url = "u", .headers = {{"H", "v"}}, .body = "b"},
                        [&](const std::string& f, const std::string&) { fields.push_back(f); });
  EXPECT_EQ(fields, (std::vector<std::string>{"http.url", "http.headers.H", "http.body"}));
}

TEST_F(DslTemplate, StepOutputDefaultsRenderWhenTheOutputOrPathIsMissing) {
  // Present: the default is not used.
  EXPECT_EQ(Rendered("${steps.reserve.output.id:-none}"), "r-9");
  EXPECT_EQ(Rendered("${steps.reserve.output.none:-x}"), "null");  // null is a value
  // Missing step output or missing path: the default, which may be empty.
  EXPECT_EQ(Rendered("[${steps.ghost.output.id:-}]"), "[]");
  EXPECT_EQ(Rendered("${steps.ghost.output:-no output}"), "no output");
  EXPECT_EQ(Rendered("${steps.reserve.output.items.7.id:-fallback}"), "fallback");
  // The default is literal text up to the first '}'.
  EXPECT_EQ(Rendered("${steps.ghost.output.id:-a:-b $x}!"), "a:-b $x!");
  TemplateContext empty;
  auto rendered = Render("id=${steps.a.output.id:-unknown}", empty);
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  EXPECT_EQ(*rendered, "id=unknown");
}

TEST_F(DslTemplate, DefaultsParseOnlyOnStepOutputs) {
  auto parts = ParseTemplate("${steps.s.output.p:-d}${steps.s.output}");
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "s");
  EXPECT_EQ((*parts)[0].path, std::vector<std::string>{"p"});
  EXPECT_EQ((*parts)[0].fallback, "d");
  EXPECT_EQ((*parts)[0].text, "${steps.s.output.p:-d}");
  EXPECT_EQ((*parts)[1].fallback, std::nullopt);
  EXPECT_EQ(RenderError("${input.order:-x}"),
            "template variable '${input.order:-x}': only a step output "
            "(${steps.ID.output...:-TEXT}) has a default");
  EXPECT_EQ(RenderError("${saga.id:-}"),
            "template variable '${saga.id:-}': only a step output (${steps.ID.output...:-TEXT}) "
            "has a default");
  EXPECT_EQ(RenderError("${steps.a.result:-x}"),
            "template variable '${steps.a.result:-x}': expected ${steps.ID.output} or "
            "${steps.ID.output.PATH}");
}

}  // namespace
}  // namespace tri::saga
