// Parsing: every field and action kind, in YAML and JSON.
#include <gtest/gtest.h>

#include "saga/dsl/parser.h"

namespace tri::saga {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SagaSpec MustParse(std::string_view text, std::string_view file = "saga.yaml") {
  auto spec = ParseSaga(text, file);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  if (!spec.ok()) return SagaSpec{};
  return std::move(spec).value();
}

TEST(DslParser, ParsesMinimalSaga) {
  SagaSpec spec = MustParse(R"(
name: tiny
steps:
  - id: a
    run: noop
)");
  EXPECT_EQ(spec.name, "tiny");
  ASSERT_EQ(spec.steps.size(), 1u);
  EXPECT_EQ(spec.steps[0].id, "a");
  EXPECT_TRUE(std::holds_alternative<NoopAction>(spec.steps[0].run));
  EXPECT_FALSE(spec.steps[0].compensate.has_value());
  EXPECT_EQ(spec.steps[0].retry.max_attempts, 1u);
  EXPECT_EQ(spec.steps[0].compensate_retry.max_attempts, 3u);
  EXPECT_EQ(spec.steps[0].compensate_when, CompensateWhen::kSucceeded);
  EXPECT_EQ(spec.steps[0].location.line, 4);
  EXPECT_EQ(spec.steps[0].location.column, 5);
  EXPECT_EQ(spec.steps[0].location.file, "saga.yaml");
}

TEST(DslParser, ParsesEverySagaAndStepField) {
  SagaSpec spec = MustParse(R"(
name: full
deadline: 30s
defaults:
  timeout: 2s
  retry:
    max_attempts: 4
    backoff: {initial: 50ms, multiplier: 3, max: 1s}
    jitter: 0.25
  compensate_retry: {max_attempts: 5}
inputs:
  order_id: {}
  amount: {default: "10", description: "in cents"}
  region: eu-west
  note:
steps:
  - id: reserve
    run: {sleep: {duration: 10ms}}
    compensate: {noop: {}}
  - id: charge
    needs: [reserve]
    run: {fail: {code: 503, message: "card declined", after: 5ms, retryable: false}}
    compensate: noop
    timeout: 500ms
    retry: {max_attempts: 2, backoff: {initial: 1ms}}
    compensate_retry: {max_attempts: 7, jitter: 0.5}
    compensate_when: attempted
)");
  EXPECT_EQ(spec.deadline, seconds(30));
  EXPECT_EQ(spec.defaults.timeout, seconds(2));
  EXPECT_EQ(spec.defaults.retry.max_attempts, 4u);
  EXPECT_EQ(spec.defaults.retry.backoff.initial, milliseconds(50));
  EXPECT_EQ(spec.defaults.retry.backoff.multiplier, 3.0);
  EXPECT_EQ(spec.defaults.retry.backoff.max, seconds(1));
  EXPECT_EQ(spec.defaults.retry.jitter, 0.25);
  EXPECT_EQ(spec.defaults.compensate_retry.max_attempts, 5u);

  ASSERT_EQ(spec.inputs.size(), 4u);
  EXPECT_EQ(spec.inputs[0].name, "order_id");
  EXPECT_FALSE(spec.inputs[0].default_value.has_value());
  EXPECT_EQ(spec.inputs[1].default_value, "10");
  EXPECT_EQ(spec.inputs[2].default_value, "eu-west");
  EXPECT_FALSE(spec.inputs[3].default_value.has_value());

  const StepSpec& reserve = spec.steps[0];
  EXPECT_EQ(std::get<SleepAction>(reserve.run).duration, milliseconds(10));
  EXPECT_TRUE(std::holds_alternative<NoopAction>(*reserve.compensate));
  // Defaults flow into steps that do not override them.
  EXPECT_EQ(reserve.timeout, seconds(2));
  EXPECT_EQ(reserve.retry.max_attempts, 4u);
  EXPECT_EQ(reserve.compensate_retry.max_attempts, 5u);

  const StepSpec& charge = spec.steps[1];
  EXPECT_EQ(charge.needs, std::vector<std::string>{"reserve"});
  const auto& fail = std::get<FailAction>(charge.run);
  EXPECT_EQ(fail.code, 503);
  EXPECT_EQ(fail.message, "card declined");
  EXPECT_EQ(fail.after, milliseconds(5));
  EXPECT_FALSE(fail.retryable);
  EXPECT_EQ(charge.timeout, milliseconds(500));
  // A step's retry overrides field by field on top of the defaults.
  EXPECT_EQ(charge.retry.max_attempts, 2u);
  EXPECT_EQ(charge.retry.backoff.initial, milliseconds(1));
  EXPECT_EQ(charge.retry.backoff.multiplier, 3.0);
  EXPECT_EQ(charge.retry.jitter, 0.25);
  EXPECT_EQ(charge.compensate_retry.max_attempts, 7u);
  EXPECT_EQ(charge.compensate_retry.jitter, 0.5);
  EXPECT_EQ(charge.compensate_when, CompensateWhen::kAttempted);
}

TEST(DslParser, ParsesExecAction) {
  SagaSpec spec = MustParse(R"(
name: e
steps:
  - id: a
    run:
      exec:
        argv: [echo, "hello world"]
        env: {GREETING: hi, EMPTY: ""}
        cwd: /tmp
        shell: true
)");
  const auto& exec = std::get<ExecAction>(spec.steps[0].run);
  EXPECT_EQ(exec.argv, (std::vector<std::string>{"echo", "hello world"}));
  EXPECT_EQ(exec.env.at("GREETING"), "hi");
  EXPECT_EQ(exec.env.at("EMPTY"), "");
  EXPECT_EQ(exec.cwd, "/tmp");
  EXPECT_TRUE(exec.shell);
}

TEST(DslParser, ParsesHttpAction) {
  SagaSpec spec = MustParse(R"(
name: h
steps:
  - id: a
    run:
      http:
        method: post
        url: http://127.0.0.1:8080/orders
        headers: {Content-Type: application/json}
        body: '{"x": 1}'
        expect: [200, 201]
  - id: b
    run: {http: {url: "https://example.com/"}}
)");
  const auto& http = std::get<HttpAction>(spec.steps[0].run);
  EXPECT_EQ(http.method, "POST");
  EXPECT_EQ(http.url, "http://127.0.0.1:8080/orders");
  EXPECT_EQ(http.headers.at("Content-Type"), "application/json");
  EXPECT_EQ(http.body, R"({"x": 1})");
  EXPECT_EQ(http.expect, (std::vector<int>{200, 201}));
  const auto& plain = std::get<HttpAction>(spec.steps[1].run);
  EXPECT_EQ(plain.method, "GET");
  EXPECT_TRUE(plain.expect.empty());
}

TEST(DslParser, ActionDefaultsMatchTheModel) {
  SagaSpec spec = MustParse(R"(
name: d
steps:
  - {id: a, run: {fail: {}}}
  - {id: b, run: {exec: {argv: [true]}}}
  - {id: c, run: {noop: null}}
)");
  const auto& fail = std::get<FailAction>(spec.steps[0].run);
  EXPECT_EQ(fail.code, 500);
  EXPECT_TRUE(fail.retryable);
  EXPECT_EQ(fail.after, Duration{0});
  const auto& exec = std::get<ExecAction>(spec.steps[1].run);
  EXPECT_FALSE(exec.shell);
  EXPECT_TRUE(exec.env.empty());
  EXPECT_TRUE(std::holds_alternative<NoopAction>(spec.steps[2].run));
}

constexpr std::string_view kDiamondJson = R"({
  "name": "diamond",
  "deadline": "10s",
  "defaults": {"timeout": "1s", "retry": {"max_attempts": 2, "jitter": 0.1}},
  "inputs": {"who": {"default": "world"}},
  "steps": [
    {"id": "a", "run": {"noop": {}}},
    {"id": "b", "needs": ["a"], "run": {"sleep": {"duration": "5ms"}}},
    {"id": "c", "needs": ["a"], "run": {"exec": {"argv": ["echo", "${input.who}"], "shell": false}}},
    {"id": "d", "needs": ["b", "c"], "run": {"http": {"url": "http://localhost/x", "expect": [204]}},
     "compensate": {"noop": {}}, "compensate_when": "attempted"}
  ]
})";

TEST(DslParser, JsonAndYamlGiveTheSameSpec) {
  SagaSpec from_json = MustParse(kDiamondJson, "diamond.json");
  SagaSpec from_yaml = MustParse(R"(
name: diamond
deadline: 10s
defaults: {timeout: 1s, retry: {max_attempts: 2, jitter: 0.1}}
inputs: {who: {default: world}}
steps:
  - {id: a, run: {noop: {}}}
  - {id: b, needs: [a], run: {sleep: {duration: 5ms}}}
  - {id: c, needs: [a], run: {exec: {argv: [echo, "${input.who}"], shell: false}}}
  - id: d
    needs: [b, c]
    run: {http: {url: "http://localhost/x", expect: [204]}}
    compensate: {noop: {}}
    compensate_when: attempted
)");
  EXPECT_EQ(from_json.name, from_yaml.name);
  EXPECT_EQ(from_json.deadline, from_yaml.deadline);
  EXPECT_EQ(from_json.defaults.retry.jitter, from_yaml.defaults.retry.jitter);
  ASSERT_EQ(from_json.steps.size(), from_yaml.steps.size());
  for (std::size_t i = 0; i < from_json.steps.size(); ++i) {
    EXPECT_EQ(from_json.steps[i].id, from_yaml.steps[i].id);
    EXPECT_EQ(from_json.steps[i].needs, from_yaml.steps[i].needs);
    EXPECT_EQ(from_json.steps[i].run.index(), from_yaml.steps[i].run.index());
    EXPECT_EQ(from_json.steps[i].timeout, from_yaml.steps[i].timeout);
    EXPECT_EQ(from_json.steps[i].compensate_when, from_yaml.steps[i].compensate_when);
  }
  EXPECT_EQ(std::get<ExecAction>(from_json.steps[2].run).argv[1], "${input.who}");
  EXPECT_EQ(from_json.steps[3].location.line, 10);
}

TEST(DslParser, DetectsFormatByExtensionThenContent) {
  EXPECT_EQ(DetectFormat("a.json", "name: x"), DocumentFormat::kJson);
  EXPECT_EQ(DetectFormat("a.JSON", ""), DocumentFormat::kJson);
  EXPECT_EQ(DetectFormat("a.yaml", "{}"), DocumentFormat::kYaml);
  EXPECT_EQ(DetectFormat("a.yml", "{}"), DocumentFormat::kYaml);
  EXPECT_EQ(DetectFormat("-", "  \n {\"a\": 1}"), DocumentFormat::kJson);
  EXPECT_EQ(DetectFormat("-", "name: x"), DocumentFormat::kYaml);
}

}  // namespace
}  // namespace tri::saga
