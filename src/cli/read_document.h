#pragma once

// Reading a saga document for a command: a file, or standard input for "-",
// bounded by the document size limit. The DSL front end (saga/dsl/parser.h)
// only parses text; every file and stdin access of the saga commands is here.

#include <cstdint>
#include <string>

#include "base/result.h"
#include "saga/spec.h"

namespace tri::cli {

struct Document {
  std::string text;
  std::string source_name;  // the path as given, or "<stdin>" for "-"
};

// Reads `path` ("-" = standard input) whole. Errors name the source:
// kNotFound for a missing file; kInvalidArgument for a document larger than
// `max_bytes` (a regular file that large is not read at all); kIoError for a
// directory or any other failure to open or read.
Result<Document> ReadDocument(const std::string& path, std::uint64_t max_bytes);

// ReadDocument with `limits.max_document_bytes`, then saga::ParseSaga: the
// error lists every problem of the document, located in `source_name`.
Result<saga::SagaSpec> LoadSagaDocument(const std::string& path,
                                        const saga::SagaLimits& limits = {});

}  // namespace tri::cli
