#pragma once

// Checks of a saga document's raw bytes, made before any parser sees them:
// size, NUL bytes, UTF-8 and flow nesting. YAML and JSON documents go through
// the same checks and get the same messages.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "saga/dsl/diagnostic.h"
#include "saga/spec.h"

namespace tri::saga {

// Offset of the first byte that does not start a well-formed UTF-8 sequence
// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or
// nullopt when all of `text` is UTF-8.
std::optional<std::size_t> FirstInvalidUtf8(std::string_view text);

// The 1-based line and column (in bytes) of byte `offset` of `text`.
SourceLocation LocationAt(const std::string& file, std::string_view text, std::size_t offset);

// Deepest '[' / '{' nesting of `text`, ignoring quoting (an over-estimate only
// when a string holds many unbalanced brackets, which no saga needs).
int FlowNesting(std::string_view text);

// Records the first problem with the bytes of `text` (named `file`) and
// returns false; true when the parsers may see it.
bool CheckDocumentText(std::string_view text, const std::string& file, const SagaLimits& limits,
                       Diagnostics& diagnostics);

}  // namespace tri::saga
