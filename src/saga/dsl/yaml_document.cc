#include "saga/dsl/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <sstream>

#include "saga/dsl/document_text.h"

namespace tri::saga::dsl {
namespace {

// Strict JSON syntax check (nlohmann's SAX parser is iterative, so deep input
// cannot exhaust the stack). Only the first syntax error is reported.
class JsonSyntaxChecker : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_position = position;
    error_message = ex.what();
    return false;
  }

  std::size_t error_position = 0;
  std::string error_message;
};

// Counts documents without building them, stopping at the second one:
// yaml-cpp 0.7's LoadAll can loop forever on garbage after a first document
// (found by fuzz_saga_dsl), so only the first document is ever built.
class DocumentCounter : public YAML::EventHandler {
 public:
  struct SecondDocument {
    YAML::Mark mark;
  };
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents > 1) throw SecondDocument{mark};
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int documents = 0;
};

}  // namespace

std::optional<YAML::Node> LoadDocumentTree(std::string_view text, const std::string& file,
                                           DocumentFormat format, Diagnostics& diagnostics) {
  auto whole_file = [&](std::string message) {
    diagnostics.Add(Diagnostic{SourceLocation{file, 0, 0}, "", "", std::move(message)});
  };
  if (format == DocumentFormat::kJson) {
    JsonSyntaxChecker checker;
    if (!nlohmann::json::sax_parse(text, &checker)) {
      std::string message = checker.error_message;
      // "[json.exception.parse_error.101] parse error at line 1, column 2: x" -> "x"
      if (auto colon = message.find(": "); colon != std::string::npos) {
        message = message.substr(colon + 2);
      }
      diagnostics.Add(Diagnostic{
          LocationAt(file, text, checker.error_position > 0 ? checker.error_position - 1 : 0), "",
          "", "JSON syntax error: " + message});
      return std::nullopt;
    }
  }
  YAML::Node root;
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    DocumentCounter counter;
    while (parser.HandleNextDocument(counter)) {
    }
    if (counter.documents == 0) {
      whole_file("empty document");
      return std::nullopt;
    }
    root = YAML::Load(std::string(text));
  } catch (const DocumentCounter::SecondDocument& second) {
    diagnostics.Add(Diagnostic{SourceLocation{file, second.mark.line + 1, second.mark.column + 1},
                               "", "", "more than one document (one saga per file)"});
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    SourceLocation loc{file, 0, 0};
    if (!e.mark.is_null()) loc = SourceLocation{file, e.mark.line + 1, e.mark.column + 1};
    std::string message = e.msg;
    if (message == "bad file") message = "nesting too deep";  // yaml-cpp's depth guard
    diagnostics.Add(Diagnostic{loc, "", "", "syntax error: " + message});
    return std::nullopt;
  } catch (const std::exception& e) {
    whole_file(std::string("cannot parse: ") + e.what());
    return std::nullopt;
  }
  if (root.IsNull()) {
    whole_file("empty document");
    return std::nullopt;
  }
  return root;
}

}  // namespace tri::saga::dsl
