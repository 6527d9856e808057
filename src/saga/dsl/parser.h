#pragma once

// The saga DSL front end: YAML or JSON text -> validated SagaSpec. Both
// formats share one schema and one set of error messages (see docs/sagas.md).
// Parsing never throws and never trusts its input: size, NUL bytes, UTF-8 and
// nesting are checked before a parser sees the text. Reading files and
// standard input is the caller's (the CLI's src/cli/read_document.h).

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "saga/dsl/diagnostic.h"
#include "saga/spec.h"

namespace tri::saga {

enum class DocumentFormat { kYaml, kJson };

// By extension (.json / .yaml / .yml), else by content (a document whose
// first non-blank character is '{' or '[' is JSON).
DocumentFormat DetectFormat(std::string_view file_name, std::string_view text);

// Deepest flow nesting ('[' / '{') accepted before parsing.
inline constexpr int kMaxFlowNesting = 128;

// Parses and validates `text`; every error found goes to `diagnostics`.
// Returns the spec only when there were none. `file_name` is used in
// messages and for format detection.
std::optional<SagaSpec> ParseSaga(std::string_view text, std::string_view file_name,
                                  const SagaLimits& limits, Diagnostics& diagnostics);

// As above; the error (kInvalidArgument) lists every problem, one per line.
Result<SagaSpec> ParseSaga(std::string_view text, std::string_view file_name,
                           const SagaLimits& limits = {});

}  // namespace tri::saga
