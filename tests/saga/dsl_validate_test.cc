// Validation: every class of error, with its exact located message, and all
// errors of a document reported at once.
#include <gtest/gtest.h>

#include "saga/dsl/parser.h"
#include "saga/dsl/validate.h"

namespace tri::saga {
namespace {

// Parses `text` (which must be invalid) and returns the error lines.
std::string Errors(std::string_view text, std::string_view file = "saga.yaml",
                   const SagaLimits& limits = {}) {
  auto spec = ParseSaga(text, file, limits);
  EXPECT_FALSE(spec.ok()) << "parsed a document that should be invalid:\n" << text;
  if (spec.ok()) return "";
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

TEST(DslValidate, UnknownNeedIsLocatedAndNamesTheStepAndField) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - id: payment
    run: noop
  - id: charge
    needs: [paymnt]
    run: noop
)"),
            "saga.yaml:6:13: step 'charge': field 'needs': unknown step 'paymnt' (did you mean "
            "'payment'?)");
}

TEST(DslValidate, CycleErrorPrintsTheCycle) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - {id: a, needs: [c], run: noop}
  - {id: b, needs: [a], run: noop}
  - {id: c, needs: [b], run: noop}
  - {id: d, run: noop}
)"),
            "saga.yaml:3:21: step 'a': field 'needs': cycle: a -> c -> b -> a");
}

TEST(DslValidate, SelfNeedAndRepeatedNeed) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - {id: a, needs: [a], run: noop}
  - {id: b, needs: [c, c], run: noop}
  - {id: c, run: noop}
)"),
            "saga.yaml:3:21: step 'a': field 'needs': a step cannot need itself\n"
            "saga.yaml:4:24: step 'b': field 'needs': 'c' is listed twice");
}

TEST(DslValidate, DuplicateEmptyAndBadIds) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - id: a
    run: noop
  - id: a
    run: noop
  - id: ""
    run: noop
  - id: "no spaces"
    run: noop
  - id: x.y
    run: noop
  - run: noop
)"),
            "saga.yaml:5:9: step 'a': field 'id': duplicate step id 'a' (first at line 3)\n"
            "saga.yaml:7:9: field 'steps[2].id': the step id is empty\n"
            "saga.yaml:9:9: step 'no spaces': field 'id': bad step id 'no spaces' (use 1 to 128 "
            "of A-Z a-z 0-9 _ -)\n"
            "saga.yaml:11:9: step 'x.y': field 'id': bad step id 'x.y' (use 1 to 128 of A-Z a-z "
            "0-9 _ -)\n"
            "saga.yaml:13:5: field 'steps[5]': missing required field 'id'");
}

TEST(DslValidate, UnknownFieldsAtEveryLevel) {
  EXPECT_EQ(Errors(R"(name: s
colour: blue
defaults:
  retry: {max_attempt: 3, backoff: {inital: 1s}}
steps:
  - id: a
    nedds: []
    run: {exec: {argv: [x], stdin: y}}
    compensate: {sleep: {duration: 1s, extra: 1}}
)"),
            "saga.yaml:2:1: unknown field 'colour'\n"
            "saga.yaml:4:11: field 'defaults.retry': unknown field 'max_attempt' (did you mean "
            "'max_attempts'?)\n"
            "saga.yaml:4:37: field 'defaults.retry.backoff': unknown field 'inital' (did you mean "
            "'initial'?)\n"
            "saga.yaml:7:5: step 'a': unknown field 'nedds' (did you mean 'needs'?)\n"
            "saga.yaml:8:29: step 'a': field 'run.exec': unknown field 'stdin'\n"
            "saga.yaml:9:40: step 'a': field 'compensate.sleep': unknown field 'extra'");
}

TEST(DslValidate, WrongTypes) {
  EXPECT_EQ(Errors(R"(name: [x]
steps:
  - id: a
    needs: b
    run: {fail: {code: "500", retryable: yes, message: {a: 1}}}
    retry: {max_attempts: 2.5, jitter: high}
  - id: b
    run: {exec: {argv: [echo, [nested]], shell: 1}}
    compensate: 7
)"),
            "saga.yaml:1:7: field 'name': expected a string, got a list\n"
            "saga.yaml:4:12: step 'a': field 'needs': expected a list, got 'b'\n"
            "saga.yaml:5:24: step 'a': field 'run.fail.code': expected an integer, got the string "
            "'500'\n"
            "saga.yaml:5:42: step 'a': field 'run.fail.retryable': expected true or false, got "
            "'yes'\n"
            "saga.yaml:5:56: step 'a': field 'run.fail.message': expected a string, got a map\n"
            "saga.yaml:6:27: step 'a': field 'retry.max_attempts': expected an integer, got '2.5'\n"
            "saga.yaml:6:40: step 'a': field 'retry.jitter': expected a number, got 'high'\n"
            "saga.yaml:8:31: step 'b': field 'run.exec.argv[1]': expected a string, got a list\n"
            "saga.yaml:8:49: step 'b': field 'run.exec.shell': expected true or false, got '1'\n"
            "saga.yaml:9:17: step 'b': field 'compensate': expected an action (a map with one "
            "key: noop, sleep, fail, exec or http), got '7'");
}

TEST(DslValidate, BadDurationsNameTheText) {
  EXPECT_EQ(Errors(R"(name: s
deadline: 10
defaults: {timeout: 5 sec}
steps:
  - id: a
    run: {sleep: {duration: -5ms}}
    timeout: 1.5.s
)"),
            "saga.yaml:2:11: field 'deadline': bad duration '10': missing unit (ns, us, ms, s, m "
            "or h)\n"
            "saga.yaml:3:21: field 'defaults.timeout': bad duration '5 sec': unknown unit ' sec' "
            "(use ns, us, ms, s, m or h)\n"
            "saga.yaml:6:29: step 'a': field 'run.sleep.duration': bad duration '-5ms': durations "
            "cannot be negative\n"
            "saga.yaml:7:14: step 'a': field 'timeout': bad duration '1.5.s': more than one '.' in "
            "a number");
}

TEST(DslValidate, OutOfRangeValues) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - id: a
    run: {fail: {code: 0}}
    retry: {max_attempts: 0, jitter: 1.5, backoff: {multiplier: 0.5}}
  - id: b
    run: {http: {url: "http://x/", expect: [200, 700], method: FETCH}}
    retry: {backoff: {initial: 2s, max: 1s}}
)"),
            "saga.yaml:4:24: step 'a': field 'run.fail.code': must be between 1 and 999, got 0\n"
            "saga.yaml:5:27: step 'a': field 'retry.max_attempts': must be between 1 and 1000, "
            "got 0\n"
            "saga.yaml:5:38: step 'a': field 'retry.jitter': must be between 0 and 1, got 1.5\n"
            "saga.yaml:5:65: step 'a': field 'retry.backoff.multiplier': must be between 1 and "
            "100, got 0.5\n"
            "saga.yaml:7:50: step 'b': field 'run.http.expect[1]': must be between 100 and 599, "
            "got 700\n"
            "saga.yaml:7:64: step 'b': field 'run.http.method': unknown method 'FETCH' (GET, POST, "
            "PUT, PATCH, DELETE, HEAD or OPTIONS)\n"
            "saga.yaml:8:22: step 'b': field 'retry.backoff': max (1s) is less than initial (2s)");
}

TEST(DslValidate, ActionShapeErrors) {
  EXPECT_EQ(Errors(R"(name: s
steps:
  - {id: a, run: {}}
  - {id: b, run: {noop: {}, sleep: {duration: 1s}}}
  - {id: c, run: {sleep: {}}}
  - {id: d, run: {exec: {argv: []}}}
  - {id: e, run: {http: {method: GET}}}
  - {id: f, run: {wait: 1s}}
  - {id: g, run: {noop: {x: 1}}}
  - {id: h, run: {http: {url: "ftp://x"}}}
  - {id: i, run: noop, compensate_when: attempted}
  - {id: j}
)"),
            "saga.yaml:3:18: step 'a': field 'run': an action needs exactly one kind: noop, "
            "sleep, fail, exec or http\n"
            "saga.yaml:4:18: step 'b': field 'run': an action has exactly one kind, got noop, "
            "sleep\n"
            "saga.yaml:5:26: step 'c': field 'run.sleep': missing required field 'duration'\n"
            "saga.yaml:6:32: step 'd': field 'run.exec.argv': must not be empty (argv[0] is the "
            "program)\n"
            "saga.yaml:7:25: step 'e': field 'run.http': missing required field 'url'\n"
            "saga.yaml:8:19: step 'f': field 'run': unknown field 'wait' (did you mean 'fail'?)\n"
            "saga.yaml:9:25: step 'g': field 'run.noop': noop takes no parameters, got a map\n"
            "saga.yaml:10:31: step 'h': field 'run.http.url': 'ftp://x' is not an http:// or "
            "https:// URL\n"
            "saga.yaml:11:41: step 'i': field 'compensate_when': set, but the step has no "
            "'compensate'\n"
            "saga.yaml:12:5: step 'j': missing required field 'run'");
}

TEST(DslValidate, DocumentLevelErrors) {
  EXPECT_EQ(Errors(""), "saga.yaml: empty document");
  EXPECT_EQ(Errors("- a\n- b\n"),
            "saga.yaml:1:1: a saga document is a map with name and steps, got a list");
  EXPECT_EQ(Errors("name: s\n"), "saga.yaml:1:1: missing required field 'steps'");
  EXPECT_EQ(Errors("name: s\nsteps: []\n"),
            "saga.yaml:2:8: field 'steps': a saga needs at least one step");
  EXPECT_EQ(Errors("steps: {}\n"),
            "saga.yaml:1:1: missing required field 'name'\n"
            "saga.yaml:1:8: field 'steps': expected a list of steps, got a map");
  EXPECT_EQ(Errors("name: a\n---\nname: b\n"),
            "saga.yaml:2:1: more than one document (one saga per file)");
  EXPECT_EQ(Errors("name: [unclosed\n"),
            "saga.yaml:2:1: syntax error: end of sequence flow not found");
}

TEST(DslValidate, DuplicateKeysAreErrorsInYamlAndJson) {
  EXPECT_EQ(Errors("name: a\nname: b\nsteps: [{id: a, run: noop}]\n"),
            "saga.yaml:2:1: duplicate key 'name' (first at line 1)");
  EXPECT_EQ(Errors(R"({"name": "a", "steps": [{"id": "a", "run": "noop", "id": "b"}]})", "s.json"),
            "s.json:1:52: step 'a': duplicate key 'id' (first at line 1)");
}

TEST(DslValidate, JsonSyntaxIsStrict) {
  // YAML would accept these; a .json file must be JSON.
  EXPECT_EQ(Errors(R"({name: "a", "steps": []})", "s.json"),
            "s.json:1:3: JSON syntax error: syntax error while parsing object key - invalid "
            "literal; last read: '{na'; expected string literal");
  EXPECT_EQ(Errors("{\"name\": \"a\",\n \"steps\": [],}", "s.json"),
            "s.json:2:14: JSON syntax error: syntax error while parsing object key - unexpected "
            "'}'; expected string literal");
}

TEST(DslValidate, InputsAndTemplates) {
  EXPECT_EQ(Errors(R"(name: s
inputs: {order: {}, "bad name": x}
steps:
  - id: a
    run: {exec: {argv: [echo, "${input.order}", "${input.missing}"]}}
  - id: b
    run: {http: {url: "http://x/${steps.c.output.id}", body: "${nope}"}}
  - id: c
    needs: [a]
    run: {exec: {argv: ["${steps.a.output}", "${steps.c.output}", "${steps.zz.output}"]}}
    compensate: {exec: {argv: [undo, "${steps.c.output.id}", "${unterminated"]}}
)"),
            "saga.yaml:2:21: field 'inputs': bad input name 'bad name' (use 1 to 128 of A-Z a-z "
            "0-9 _ -)\n"
            "saga.yaml:5:49: step 'a': field 'run.exec.argv[2]': '${input.missing}': unknown "
            "input 'missing' (declare it in 'inputs')\n"
            "saga.yaml:7:23: step 'b': field 'run.http.url': '${steps.c.output.id}': step 'b' "
            "does not need 'c' (directly or transitively), so its output may not exist yet\n"
            "saga.yaml:7:62: step 'b': field 'run.http.body': unknown template variable "
            "'${nope}' (known: input.NAME, saga.id, step.id, attempt, idempotency_key, "
            "steps.ID.output.PATH)\n"
            "saga.yaml:10:46: step 'c': field 'run.exec.argv[1]': '${steps.c.output}': a step's "
            "run cannot use its own output\n"
            "saga.yaml:10:67: step 'c': field 'run.exec.argv[2]': '${steps.zz.output}': unknown "
            "step 'zz'\n"
            "saga.yaml:11:62: step 'c': field 'compensate.exec.argv[2]': unterminated '${' (write "
            "'$${' for a literal '${')");
}

TEST(DslValidate, TransitiveNeedsAllowOutputReferences) {
  auto spec = ParseSaga(R"(name: s
steps:
  - {id: a, run: noop}
  - {id: b, needs: [a], run: noop}
  - id: c
    needs: [b]
    run: {exec: {argv: [echo, "${steps.a.output.items.0.id}", "$${literal}"]}}
    compensate: {exec: {argv: [undo, "${steps.c.output}"]}}
)",
                        "s.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
}

TEST(DslValidate, AttemptedCompensationNeedsADefaultForItsOwnOutput) {
  // With compensate_when: attempted the step may be compensated after a
  // timeout or cancel, when it has no output.
  EXPECT_EQ(Errors(R"(name: s
steps:
  - id: charge
    run: {exec: {argv: [./charge]}}
    compensate: {exec: {argv: [./refund, "${steps.charge.output.payment_id}"]}}
    compensate_when: attempted
)"),
            "saga.yaml:5:42: step 'charge': field 'compensate.exec.argv[1]': "
            "'${steps.charge.output.payment_id}': step 'charge' is compensated even when it did "
            "not succeed (compensate_when: attempted), and then has no output; give a default, "
            "e.g. '${steps.charge.output.payment_id:-}'");
  // With a default, or when only succeeded steps are compensated, it is valid;
  // so are outputs of the steps it needs (they succeeded before it started).
  for (const char* variant : {
           "compensate: {exec: {argv: [./refund, \"${steps.charge.output.payment_id:-}\"]}}\n"
           "    compensate_when: attempted",
           "compensate: {exec: {argv: [./refund, \"${steps.charge.output.id:-none}\"]}}\n"
           "    compensate_when: attempted",
           "compensate: {exec: {argv: [./refund, \"${steps.charge.output.payment_id}\"]}}\n"
           "    compensate_when: succeeded",
           "compensate: {exec: {argv: [./refund, \"${steps.reserve.output.id}\"]}}\n"
           "    compensate_when: attempted",
       }) {
    const std::string text =
        std::string(
            "name: s\nsteps:\n  - {id: reserve, run: noop}\n  - id: charge\n    needs: "
            "[reserve]\n    run: {exec: {argv: [./charge]}}\n    ") +
        variant + "\n";
    auto spec = ParseSaga(text, "s.yaml");
    EXPECT_TRUE(spec.ok()) << text << "\n" << spec.status().message();
  }
}

TEST(DslValidate, LimitsAreEnforcedWithClearErrors) {
  SagaLimits limits;
  limits.max_steps = 3;
  limits.max_needs_per_step = 2;
  limits.max_depth = 2;
  limits.max_document_bytes = 1000;
  EXPECT_EQ(Errors("name: s\nsteps: [{id: a, run: noop}, {id: b, run: noop}, {id: c, run: noop}, "
                   "{id: d, run: noop}]\n",
                   "s.yaml", limits),
            "s.yaml:2:8: field 'steps': too many steps: 4 (the limit is 3)");
  EXPECT_EQ(Errors("name: s\nsteps: [{id: a, run: noop}, {id: b, run: noop}, {id: c, needs: [a, "
                   "b, a], run: noop}]\n",
                   "s.yaml", limits),
            "s.yaml:2:64: step 'c': field 'needs': too many needs: 3 (the limit is 2)");
  EXPECT_EQ(Errors("name: s\nsteps: [{id: a, run: noop}, {id: b, needs: [a], run: noop}, {id: c, "
                   "needs: [b], run: noop}]\n",
                   "s.yaml", limits),
            "s.yaml:2:76: step 'c': field 'needs': the saga is 3 levels deep here (the limit is "
            "2)");
  EXPECT_EQ(Errors(std::string(1001, ' '), "s.yaml", limits),
            "s.yaml: document is 1001 bytes, over the limit of 1000 bytes");
}

TEST(DslValidate, PathologicalNestingIsRejectedBeforeParsing) {
  const std::string deep = std::string(100000, '[');
  EXPECT_EQ(Errors(deep), "saga.yaml: nesting deeper than 128 levels of [ or {");
  std::string block;
  for (int i = 0; i < 20000; ++i)
    block += "- ";
  EXPECT_NE(Errors(block).find("syntax error"), std::string::npos);
  EXPECT_EQ(Errors(std::string("name: a\0b", 9)),
            "saga.yaml:1:8: the document contains a NUL byte");
}

TEST(DslValidate, ManyErrorsAreCappedInTheMessage) {
  std::string text = "name: s\nsteps:\n";
  for (int i = 0; i < 500; ++i)
    text += "  - {id: s" + std::to_string(i) + ", needs: [x]}\n";
  Diagnostics diagnostics;
  EXPECT_FALSE(ParseSaga(text, "s.yaml", SagaLimits{}, diagnostics).has_value());
  EXPECT_EQ(diagnostics.total(), 1000u);  // missing run + unknown need, per step
  const std::string message = diagnostics.ToString();
  EXPECT_NE(message.find("... and 800 more errors"), std::string::npos);
}

TEST(DslValidate, HandBuiltSpecsValidateWithoutLocations) {
  SagaSpec spec;
  spec.name = "hand";
  spec.steps.push_back(StepSpec{.id = "a", .needs = {"b"}});
  spec.steps.push_back(StepSpec{.id = "b", .needs = {"a"}});
  EXPECT_EQ(ValidateSaga(spec).message(), "<input>: step 'a': field 'needs': cycle: a -> b -> a");
  spec.steps[1].needs.clear();
  EXPECT_TRUE(ValidateSaga(spec).ok());
}

}  // namespace
}  // namespace tri::saga
