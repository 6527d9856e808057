#pragma once

// Templating of action string fields. A template is text with ${VAR}
// substitutions, where VAR is one of:
//   input.NAME               a saga input
//   saga.id                  the id of the running saga instance
//   step.id                  the id of the step whose action this is
//   attempt                  the attempt number, from 1
//   idempotency_key          one key per attempt (saga/step/attempt), the same
//                            when the attempt is run again after a failover
//   steps.ID.output[.PATH]   the JSON output of step ID; PATH is a dot path
//                            with array indices ("items.0.id"); no PATH = all
// A step output may give a default after ":-": ${steps.ID.output.PATH:-TEXT}
// renders TEXT (which may be empty) when step ID has no output or its output
// has no PATH. TEXT is literal and ends at the first '}'.
// "$${" is a literal "${"; any other '$' is literal. A string value renders
// as its text, any other JSON value as compact JSON.
//
// Which fields are templated: exec argv, env values and cwd; http url,
// header values and body. The rest are taken literally.

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "saga/spec.h"

namespace tri::saga {

struct TemplatePart {
  enum class Kind : std::uint8_t {
    kLiteral,
    kInput,  // name = input name
    kSagaId,
    kStepId,
    kAttempt,
    kIdempotencyKey,
    kStepOutput,  // name = step id, path = path into the output
  };
  Kind kind = Kind::kLiteral;
  std::string text;  // kLiteral: the text; otherwise the variable as written, "${...}"
  std::string name;
  std::vector<std::string> path;
  // kStepOutput only: what to render when the output or the path is missing
  // (written "${steps.ID.output.PATH:-TEXT}"); nullopt = missing is an error.
  std::optional<std::string> fallback;
};

// Splits `text` into parts. Errors: unknown variable, unterminated "${",
// malformed steps reference, a default on a variable other than a step
// output. Messages quote the offending variable.
Result<std::vector<TemplatePart>> ParseTemplate(std::string_view text);

// What a template can see at run time. The runtime owns the data; the
// context only points at it for the duration of a Render call.
struct TemplateContext {
  std::string saga_id;
  std::string step_id;
  std::uint32_t attempt = 1;
  std::string idempotency_key;
  const std::map<std::string, std::string, std::less<>>* inputs = nullptr;
  // Returns the output of a (succeeded) step, or nullptr when it has none.
  std::function<const nlohmann::json*(std::string_view step_id)> step_output;
};

// Renders `text`. Errors (missing input, missing output or path not present
// without a default) name the variable. Pure: no I/O, same inputs give the same string.
Result<std::string> Render(std::string_view text, const TemplateContext& context);

// A copy of `action` with every templated field rendered; the first error wins.
Result<Action> RenderAction(const Action& action, const TemplateContext& context);

// Calls visit(field, text) for each templated string field of `action`, with
// field named as in the DSL relative to the action: "exec.argv[0]",
// "exec.env.HOME", "exec.cwd", "http.url", "http.headers.Accept", "http.body".
void ForEachTemplatedField(
    const Action& action,
    const std::function<void(const std::string& field, const std::string& text)>& visit);

// Resolves a dot path in a JSON value (objects by key, arrays by decimal
// index); nullptr when absent.
const nlohmann::json* ResolveJsonPath(const nlohmann::json& root,
                                      const std::vector<std::string>& path);

}  // namespace tri::saga
