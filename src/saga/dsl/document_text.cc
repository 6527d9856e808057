#include "saga/dsl/document_text.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "saga/dsl/parser.h"

namespace tri::saga {
namespace {

// Length of the well-formed UTF-8 sequence at text[at], or 0 when there is
// none (Unicode 15, table 3-7).
std::size_t Utf8SequenceLength(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(text[i]); };
  const std::uint8_t first = byte(at);
  if (first < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t second_min = 0x80;
  std::uint8_t second_max = 0xBF;
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    if (first == 0xE0) second_min = 0xA0;  // no overlong forms
    if (first == 0xED) second_max = 0x9F;  // no surrogates
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    if (first == 0xF0) second_min = 0x90;  // no overlong forms
    if (first == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0, C1 or F5..FF
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < second_min || byte(at + 1) > second_max) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

std::optional<std::size_t> FirstInvalidUtf8(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t length = Utf8SequenceLength(text, at);
    if (length == 0) return at;
    at += length;
  }
  return std::nullopt;
}

SourceLocation LocationAt(const std::string& file, std::string_view text, std::size_t offset) {
  SourceLocation loc{file, 1, 1};
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

int FlowNesting(std::string_view text) {
  int depth = 0;
  int deepest = 0;
  for (char c : text) {
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool CheckDocumentText(std::string_view text, const std::string& file, const SagaLimits& limits,
                       Diagnostics& diagnostics) {
  auto whole_file = [&](std::string message) {
    diagnostics.Add(Diagnostic{SourceLocation{file, 0, 0}, "", "", std::move(message)});
  };
  if (text.size() > limits.max_document_bytes) {
    whole_file("document is " + std::to_string(text.size()) + " bytes, over the limit of " +
               std::to_string(limits.max_document_bytes) + " bytes");
    return false;
  }
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    diagnostics.Add(
        Diagnostic{LocationAt(file, text, nul), "", "", "the document contains a NUL byte"});
    return false;
  }
  if (const auto bad = FirstInvalidUtf8(text)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X",
                  static_cast<unsigned>(static_cast<std::uint8_t>(text[*bad])));
    diagnostics.Add(Diagnostic{LocationAt(file, text, *bad), "", "",
                               "invalid UTF-8 at byte offset " + std::to_string(*bad) + " (byte " +
                                   hex + "); a saga document must be UTF-8"});
    return false;
  }
  if (FlowNesting(text) > kMaxFlowNesting) {
    whole_file("nesting deeper than " + std::to_string(kMaxFlowNesting) + " levels of [ or {");
    return false;
  }
  return true;
}

}  // namespace tri::saga
