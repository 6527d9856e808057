#include "saga/dsl/parser.h"

#include <algorithm>
#include <cctype>
#include <exception>

#include "saga/dsl/document_text.h"
#include "saga/dsl/node_reader.h"
#include "saga/dsl/saga_reader.h"
#include "saga/dsl/validate.h"
#include "saga/dsl/yaml_document.h"

namespace tri::saga {

DocumentFormat DetectFormat(std::string_view file_name, std::string_view text) {
  auto ends_with = [&](std::string_view suffix) {
    if (file_name.size() < suffix.size()) return false;
    return std::equal(suffix.rbegin(), suffix.rend(), file_name.rbegin(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
  };
  if (ends_with(".json")) return DocumentFormat::kJson;
  if (ends_with(".yaml") || ends_with(".yml")) return DocumentFormat::kYaml;
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (text[first] == '{' || text[first] == '[')) {
    return DocumentFormat::kJson;
  }
  return DocumentFormat::kYaml;
}

std::optional<SagaSpec> ParseSaga(std::string_view text, std::string_view file_name,
                                  const SagaLimits& limits, Diagnostics& diagnostics) {
  const std::string file(file_name.empty() ? std::string_view("<input>") : file_name);
  const std::size_t errors_before = diagnostics.total();
  // Bounds and encoding first: nothing unbounded or ill-formed reaches a parser.
  if (!CheckDocumentText(text, file, limits, diagnostics)) return std::nullopt;
  auto root = dsl::LoadDocumentTree(text, file, DetectFormat(file_name, text), diagnostics);
  if (!root) return std::nullopt;

  SagaSpec spec;
  SagaSourceMap source_map;
  source_map.file = file;
  try {
    dsl::NodeReader reader(file, limits, diagnostics);
    dsl::ReadSagaDocument(reader, *root, spec, source_map);
  } catch (const std::exception& e) {
    // Node accessors should not throw on a well-formed tree; report, don't crash.
    diagnostics.Add(Diagnostic{SourceLocation{file, 0, 0}, "", "",
                               std::string("cannot read the document: ") + e.what()});
    return std::nullopt;
  }
  ValidateSaga(spec, limits, &source_map, diagnostics);
  if (diagnostics.total() != errors_before) return std::nullopt;
  return spec;
}

Result<SagaSpec> ParseSaga(std::string_view text, std::string_view file_name,
                           const SagaLimits& limits) {
  Diagnostics diagnostics;
  auto spec = ParseSaga(text, file_name, limits, diagnostics);
  if (!spec) return diagnostics.ToStatus();
  return std::move(*spec);
}

}  // namespace tri::saga
