// The workflow-engine timeouts (schedule_to_start, start_to_close alias
// timeout, schedule_to_close) and retry by code (non_retryable, retry_on):
// parsing, resolution from defaults, and their located errors.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "saga/dsl/duration.h"
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

std::string Errors(std::string_view text, std::string_view file = "saga.yaml") {
  auto spec = ParseSaga(text, file);
  EXPECT_FALSE(spec.ok()) << "parsed a document that should be invalid:\n" << text;
  return spec.ok() ? "" : spec.status().message();
}

TEST(DslTimeouts, StepTimeoutsResolveFromDefaults) {
  const SagaSpec spec = MustParse(R"(
name: t
defaults:
  timeout: 2s
  schedule_to_start: 500ms
  schedule_to_close: 30s
steps:
  - {id: inherits, run: noop}
  - id: overrides
    run: noop
    start_to_close: 3s
    schedule_to_start: 1s
    schedule_to_close: 1m
  - {id: short-name, run: noop, timeout: 250ms}
)");
  EXPECT_EQ(spec.defaults.timeout, seconds(2));
  EXPECT_EQ(spec.defaults.schedule_to_start, milliseconds(500));
  EXPECT_EQ(spec.defaults.schedule_to_close, seconds(30));
  const StepSpec& inherits = spec.steps[0];
  EXPECT_EQ(inherits.timeout, seconds(2));
  EXPECT_EQ(inherits.schedule_to_start, milliseconds(500));
  EXPECT_EQ(inherits.schedule_to_close, seconds(30));
  const StepSpec& overrides = spec.steps[1];
  EXPECT_EQ(overrides.timeout, seconds(3));  // start_to_close is the timeout
  EXPECT_EQ(overrides.schedule_to_start, seconds(1));
  EXPECT_EQ(overrides.schedule_to_close, seconds(60));
  const StepSpec& short_name = spec.steps[2];
  EXPECT_EQ(short_name.timeout, milliseconds(250));
  EXPECT_EQ(short_name.schedule_to_start, milliseconds(500));
}

TEST(DslTimeouts, StartToCloseInDefaultsIsTheDefaultTimeout) {
  const SagaSpec spec = MustParse(R"({"name": "t", "defaults": {"start_to_close": "4s"},
    "steps": [{"id": "a", "run": "noop"}]})",
                                  "t.json");
  EXPECT_EQ(spec.defaults.timeout, seconds(4));
  EXPECT_EQ(spec.steps[0].timeout, seconds(4));
  EXPECT_EQ(spec.steps[0].schedule_to_start, Duration{0});
  EXPECT_EQ(spec.steps[0].schedule_to_close, Duration{0});
}

TEST(DslTimeouts, TimeoutAndStartToCloseTogetherIsAnErrorNamingBoth) {
  EXPECT_EQ(Errors(R"(name: t
defaults: {timeout: 1s, start_to_close: 2s}
steps:
  - {id: a, run: noop, timeout: 1s, start_to_close: 1s, schedule_to_close: soon}
)"),
            "saga.yaml:2:41: field 'defaults.start_to_close': 'timeout' and 'start_to_close' are "
            "the same setting (timeout is the short name); give one of them\n"
            "saga.yaml:4:53: step 'a': field 'start_to_close': 'timeout' and 'start_to_close' are "
            "the same setting (timeout is the short name); give one of them\n"
            "saga.yaml:4:76: step 'a': field 'schedule_to_close': bad duration 'soon': expected a "
            "number followed by a unit (ns, us, ms, s, m, h)");
}

TEST(DslRetryCodes, ListsAreSortedAndUniqueInDefaultsStepsAndCompensation) {
  const SagaSpec spec = MustParse(R"(
name: r
defaults:
  retry: {max_attempts: 3, non_retryable: [404, 400, 404]}
  compensate_retry: {retry_on: [503, 0, 408]}
steps:
  - {id: inherits, run: noop, compensate: noop}
  - id: own
    run: noop
    retry: {retry_on: [502, 503]}
    compensate: noop
    compensate_retry: {non_retryable: [1]}
)");
  EXPECT_EQ(spec.defaults.retry.non_retryable, (std::vector<int>{400, 404}));
  EXPECT_TRUE(spec.defaults.retry.retry_on.empty());
  EXPECT_EQ(spec.defaults.compensate_retry.retry_on, (std::vector<int>{0, 408, 503}));
  const StepSpec& inherits = spec.steps[0];
  EXPECT_EQ(inherits.retry.non_retryable, (std::vector<int>{400, 404}));
  EXPECT_EQ(inherits.compensate_retry.retry_on, (std::vector<int>{0, 408, 503}));
  // Either list replaces both inherited lists (they are one setting); the
  // rest of the policy is still inherited field by field.
  const StepSpec& own = spec.steps[1];
  EXPECT_EQ(own.retry.retry_on, (std::vector<int>{502, 503}));
  EXPECT_TRUE(own.retry.non_retryable.empty());
  EXPECT_EQ(own.retry.max_attempts, 3u);
  EXPECT_EQ(own.compensate_retry.non_retryable, (std::vector<int>{1}));
  EXPECT_TRUE(own.compensate_retry.retry_on.empty());
}

TEST(DslRetryCodes, BadCodesAndBothListsAreLocatedErrors) {
  EXPECT_EQ(Errors(R"(name: r
defaults:
  retry: {non_retryable: 404}
steps:
  - id: a
    run: noop
    retry: {retry_on: [500, 1000, "503"], max_attempts: 2}
  - id: b
    run: noop
    compensate: noop
    compensate_retry: {non_retryable: [1], retry_on: [2]}
)"),
            "saga.yaml:3:26: field 'defaults.retry.non_retryable': expected a list of codes, got "
            "'404'\n"
            "saga.yaml:7:29: step 'a': field 'retry.retry_on[1]': must be between 0 and 999, got "
            "1000\n"
            "saga.yaml:7:35: step 'a': field 'retry.retry_on[2]': expected an integer, got the "
            "string '503'\n"
            "saga.yaml:11:54: step 'b': field 'compensate_retry.retry_on': give either "
            "'non_retryable' (codes never retried) or 'retry_on' (the only codes retried), not "
            "both");
}

TEST(DslHttpMethod, TheRunnersMethodsAreAcceptedAndOthersRefusedWithTheList) {
  EXPECT_EQ(Errors(R"(name: h
steps:
  - {id: a, run: {http: {method: TRACE, url: "http://127.0.0.1/"}}}
)"),
            "saga.yaml:3:34: step 'a': field 'run.http.method': unknown method 'TRACE' (GET, POST, "
            "PUT, PATCH, DELETE, HEAD or OPTIONS)");
  for (const char* method : {"GET", "head", "Post", "PUT", "patch", "DELETE", "options"}) {
    const std::string text = std::string("name: h\nsteps:\n  - {id: a, run: {http: {method: ") +
                             method + ", url: \"http://127.0.0.1/\"}}}\n";
    EXPECT_TRUE(ParseSaga(text, "h.yaml").ok()) << method;
  }
}

std::string CodesText(const std::vector<int>& codes) {
  std::string out = "[";
  for (std::size_t i = 0; i < codes.size(); ++i)
    out += (i > 0 ? ", " : "") + std::to_string(codes[i]);
  return out + "]";
}

std::vector<int> SortedUnique(std::vector<int> codes) {
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

// Property: any timeouts and either code list, written as JSON (also read as
// YAML), parse back to the same values, with the lists sorted and unique.
RC_GTEST_PROP(DslRetryCodes, GeneratedTimeoutsAndCodesParseBack, ()) {
  auto duration = [] { return Duration{*rc::gen::inRange<std::int64_t>(0, 86'400'000'000'000)}; };
  const Duration start_to_close = duration();
  const Duration schedule_to_start = duration();
  const Duration schedule_to_close = duration();
  const auto codes = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 1000));
  const bool use_retry_on = *rc::gen::arbitrary<bool>();
  const bool long_name = *rc::gen::arbitrary<bool>();
  const std::string text =
      std::string("{\"name\": \"p\", \"steps\": [{\"id\": \"a\", \"run\": \"noop\", \"") +
      (long_name ? "start_to_close" : "timeout") + "\": \"" + FormatDuration(start_to_close) +
      "\", \"schedule_to_start\": \"" + FormatDuration(schedule_to_start) +
      "\", \"schedule_to_close\": \"" + FormatDuration(schedule_to_close) + "\", \"retry\": {\"" +
      (use_retry_on ? "retry_on" : "non_retryable") + "\": " + CodesText(codes) + "}}]}";
  for (const char* file : {"p.json", "p.yaml"}) {
    auto spec = ParseSaga(text, file);
    RC_ASSERT(spec.ok());
    const StepSpec& step = spec->steps[0];
    RC_ASSERT(step.timeout == start_to_close);
    RC_ASSERT(step.schedule_to_start == schedule_to_start);
    RC_ASSERT(step.schedule_to_close == schedule_to_close);
    const std::vector<int>& given = use_retry_on ? step.retry.retry_on : step.retry.non_retryable;
    const std::vector<int>& other = use_retry_on ? step.retry.non_retryable : step.retry.retry_on;
    RC_ASSERT(given == SortedUnique(codes));
    RC_ASSERT(other.empty());
  }
}

}  // namespace
}  // namespace tri::saga
