#include "saga/dsl/parser.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "base/assert.h"
#include "saga/dsl/duration.h"
#include "saga/dsl/validate.h"

namespace tri::saga {
namespace {

using YAML::Node;
using YAML::NodeType;

// Where an error is: inside which step (may be empty) and under which field
// path prefix ("retry.backoff.").
struct Where {
  std::string step;
  std::string prefix;

  Where Sub(std::string_view field) const { return {step, prefix + std::string(field) + "."}; }
};

struct Entry {
  Node key;
  Node value;
};

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

bool IsQuoted(const Node& n) {
  return n.Tag() == "!";
}

std::string Describe(const Node& n) {
  switch (n.Type()) {
    case NodeType::Map:
      return "a map";
    case NodeType::Sequence:
      return "a list";
    case NodeType::Null:
      return "nothing (null)";
    case NodeType::Scalar: {
      std::string text = n.Scalar();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return (IsQuoted(n) ? "the string '" : "'") + text + "'";
    }
    case NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Bracket depth of the text, ignoring quoting (an over-estimate only when a
// string holds many unbalanced brackets, which no saga needs).
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

SourceLocation LocationAt(const std::string& file, std::string_view text, std::size_t byte) {
  SourceLocation loc{file, 1, 1};
  byte = std::min(byte, text.size());
  for (std::size_t i = 0; i < byte; ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

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

class Parser {
 public:
  Parser(std::string file, const SagaLimits& limits, Diagnostics& diagnostics)
      : file_(std::move(file)), limits_(limits), diagnostics_(diagnostics) {}

  void ParseRoot(const Node& root, SagaSpec& spec, SagaSourceMap& map);

 private:
  SourceLocation Loc(const Node& n) const {
    const YAML::Mark mark = n.Mark();
    if (mark.is_null()) return SourceLocation{file_, 0, 0};
    return SourceLocation{file_, mark.line + 1, mark.column + 1};
  }
  // A value's location; a null value (written as nothing) is pointed at by its key.
  SourceLocation ValueLoc(const Entry& e) const {
    return e.value.IsNull() || e.value.Mark().is_null() ? Loc(e.key) : Loc(e.value);
  }

  void Error(const SourceLocation& loc, const Where& where, std::string_view field,
             std::string message) {
    std::string path = where.prefix + std::string(field);
    if (!path.empty() && path.back() == '.') path.pop_back();
    diagnostics_.Add(Diagnostic{loc, where.step, std::move(path), std::move(message)});
  }

  // Reads a map's entries, reporting non-map values, non-scalar keys,
  // duplicate keys and (when `known` is non-empty) unknown keys.
  bool ReadMap(const Node& node, const SourceLocation& loc, const Where& where,
               std::string_view field, std::initializer_list<std::string_view> known,
               std::vector<Entry>& out);
  const Entry* Find(const std::vector<Entry>& entries, std::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key.Scalar() == key) return &e;
    }
    return nullptr;
  }

  std::optional<std::string> ReadString(const Entry& e, const Where& where, std::string_view field);
  std::optional<std::int64_t> ReadInt(const Entry& e, const Where& where, std::string_view field,
                                      std::int64_t min, std::int64_t max);
  std::optional<double> ReadDouble(const Entry& e, const Where& where, std::string_view field,
                                   double min, double max);
  std::optional<bool> ReadBool(const Entry& e, const Where& where, std::string_view field);
  std::optional<Duration> ReadDuration(const Entry& e, const Where& where, std::string_view field);
  std::optional<std::vector<std::string>> ReadStringList(const Entry& e, const Where& where,
                                                         std::string_view field,
                                                         std::vector<SourceLocation>* locations);
  std::optional<std::map<std::string, std::string>> ReadStringMap(
      const Entry& e, const Where& where, std::string_view field,
      std::map<std::string, SourceLocation>* locations, const std::string& location_prefix);

  void ParseRetry(const Entry& e, const Where& where, std::string_view field, RetryPolicy& policy);
  void ParseDefaults(const Entry& e, SagaSpec& spec);
  void ParseInputs(const Entry& e, SagaSpec& spec);
  void ParseStep(const Node& node, std::size_t index, const SagaSpec& spec, StepSpec& step,
                 SagaSourceMap::Step& locations);
  std::optional<Action> ParseAction(const Entry& e, const Where& where, std::string_view field,
                                    SagaSourceMap::Step& locations);

  std::string file_;
  const SagaLimits& limits_;
  Diagnostics& diagnostics_;
};

bool Parser::ReadMap(const Node& node, const SourceLocation& loc, const Where& where,
                     std::string_view field, std::initializer_list<std::string_view> known,
                     std::vector<Entry>& out) {
  if (!node.IsMap()) {
    Error(loc, where, field, "expected a map, got " + Describe(node));
    return false;
  }
  const Where inner = field.empty() ? where : where.Sub(field);
  for (auto it = node.begin(); it != node.end(); ++it) {
    Entry e{it->first, it->second};
    if (!e.key.IsScalar()) {
      Error(Loc(e.key), inner, "", "keys must be strings, got " + Describe(e.key));
      continue;
    }
    const std::string& key = e.key.Scalar();
    if (const Entry* first = Find(out, key)) {
      Error(Loc(e.key), inner, "",
            "duplicate key '" + key + "' (first at line " + std::to_string(Loc(first->key).line) +
                ")");
      continue;
    }
    if (known.size() > 0 && std::find(known.begin(), known.end(), key) == known.end()) {
      std::string message = "unknown field '" + key + "'";
      std::string_view best;
      std::size_t best_distance = 3;
      for (std::string_view k : known) {
        const std::size_t d = EditDistance(key.substr(0, 64), k);
        if (d < best_distance) {
          best_distance = d;
          best = k;
        }
      }
      if (!best.empty()) message += " (did you mean '" + std::string(best) + "'?)";
      Error(Loc(e.key), inner, "", std::move(message));
      continue;
    }
    out.push_back(std::move(e));
  }
  return true;
}

std::optional<std::string> Parser::ReadString(const Entry& e, const Where& where,
                                              std::string_view field) {
  if (!e.value.IsScalar()) {
    Error(ValueLoc(e), where, field, "expected a string, got " + Describe(e.value));
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<std::int64_t> Parser::ReadInt(const Entry& e, const Where& where,
                                            std::string_view field, std::int64_t min,
                                            std::int64_t max) {
  std::int64_t value = 0;
  bool parsed = false;
  if (e.value.IsScalar() && !IsQuoted(e.value)) {
    const std::string& text = e.value.Scalar();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    parsed = ec == std::errc() && ptr == end && !text.empty();
  }
  if (!parsed) {
    Error(ValueLoc(e), where, field, "expected an integer, got " + Describe(e.value));
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(ValueLoc(e), where, field,
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> Parser::ReadDouble(const Entry& e, const Where& where, std::string_view field,
                                         double min, double max) {
  double value = 0;
  bool parsed = false;
  if (e.value.IsScalar() && !IsQuoted(e.value)) {
    const std::string& text = e.value.Scalar();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    parsed = ec == std::errc() && ptr == end && !text.empty() && std::isfinite(value);
  }
  if (!parsed) {
    Error(ValueLoc(e), where, field, "expected a number, got " + Describe(e.value));
    return std::nullopt;
  }
  if (value < min || value > max) {
    std::ostringstream message;
    message << "must be between " << min << " and " << max << ", got " << e.value.Scalar();
    Error(ValueLoc(e), where, field, message.str());
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Parser::ReadBool(const Entry& e, const Where& where, std::string_view field) {
  if (e.value.IsScalar() && !IsQuoted(e.value)) {
    if (e.value.Scalar() == "true") return true;
    if (e.value.Scalar() == "false") return false;
  }
  Error(ValueLoc(e), where, field, "expected true or false, got " + Describe(e.value));
  return std::nullopt;
}

std::optional<Duration> Parser::ReadDuration(const Entry& e, const Where& where,
                                             std::string_view field) {
  if (!e.value.IsScalar()) {
    Error(ValueLoc(e), where, field,
          "expected a duration (e.g. 250ms, 1.5s, 2m), got " + Describe(e.value));
    return std::nullopt;
  }
  auto duration = ParseDuration(e.value.Scalar());
  if (!duration.ok()) {
    Error(ValueLoc(e), where, field, duration.status().message());
    return std::nullopt;
  }
  return *duration;
}

std::optional<std::vector<std::string>> Parser::ReadStringList(
    const Entry& e, const Where& where, std::string_view field,
    std::vector<SourceLocation>* locations) {
  if (!e.value.IsSequence()) {
    Error(ValueLoc(e), where, field, "expected a list, got " + Describe(e.value));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  std::size_t index = 0;
  for (const Node& item : e.value) {
    if (!item.IsScalar()) {
      Error(item.IsNull() ? Loc(e.value) : Loc(item), where,
            std::string(field) + "[" + std::to_string(index) + "]",
            "expected a string, got " + Describe(item));
      ok = false;
    } else {
      out.push_back(item.Scalar());
      if (locations != nullptr) locations->push_back(Loc(item));
    }
    ++index;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> Parser::ReadStringMap(
    const Entry& e, const Where& where, std::string_view field,
    std::map<std::string, SourceLocation>* locations, const std::string& location_prefix) {
  std::vector<Entry> entries;
  if (!ReadMap(e.value, ValueLoc(e), where, field, {}, entries)) return std::nullopt;
  std::map<std::string, std::string> out;
  bool ok = true;
  const Where inner = where.Sub(field);
  for (const Entry& entry : entries) {
    const std::string& key = entry.key.Scalar();
    if (key.empty()) {
      Error(Loc(entry.key), inner, "", "empty key");
      ok = false;
      continue;
    }
    auto value = ReadString(entry, inner, key);
    if (!value) {
      ok = false;
      continue;
    }
    out.emplace(key, std::move(*value));
    if (locations != nullptr) (*locations)[location_prefix + key] = ValueLoc(entry);
  }
  if (!ok) return std::nullopt;
  return out;
}

void Parser::ParseRetry(const Entry& e, const Where& where, std::string_view field,
                        RetryPolicy& policy) {
  std::vector<Entry> entries;
  if (!ReadMap(e.value, ValueLoc(e), where, field, {"max_attempts", "backoff", "jitter"},
               entries)) {
    return;
  }
  const Where inner = where.Sub(field);
  if (const Entry* f = Find(entries, "max_attempts")) {
    if (auto v = ReadInt(*f, inner, "max_attempts", 1, 1000)) {
      policy.max_attempts = static_cast<std::uint32_t>(*v);
    }
  }
  if (const Entry* f = Find(entries, "jitter")) {
    if (auto v = ReadDouble(*f, inner, "jitter", 0.0, 1.0)) policy.jitter = *v;
  }
  if (const Entry* f = Find(entries, "backoff")) {
    std::vector<Entry> backoff;
    if (ReadMap(f->value, ValueLoc(*f), inner, "backoff", {"initial", "multiplier", "max"},
                backoff)) {
      const Where b = inner.Sub("backoff");
      if (const Entry* g = Find(backoff, "initial")) {
        if (auto v = ReadDuration(*g, b, "initial")) policy.backoff.initial = *v;
      }
      if (const Entry* g = Find(backoff, "multiplier")) {
        if (auto v = ReadDouble(*g, b, "multiplier", 1.0, 100.0)) policy.backoff.multiplier = *v;
      }
      if (const Entry* g = Find(backoff, "max")) {
        if (auto v = ReadDuration(*g, b, "max")) policy.backoff.max = *v;
      }
      if (policy.backoff.max < policy.backoff.initial) {
        Error(ValueLoc(*f), inner, "backoff",
              "max (" + FormatDuration(policy.backoff.max) + ") is less than initial (" +
                  FormatDuration(policy.backoff.initial) + ")");
      }
    }
  }
}

void Parser::ParseDefaults(const Entry& e, SagaSpec& spec) {
  std::vector<Entry> entries;
  const Where where;
  if (!ReadMap(e.value, ValueLoc(e), where, "defaults", {"timeout", "retry", "compensate_retry"},
               entries)) {
    return;
  }
  const Where inner = where.Sub("defaults");
  if (const Entry* f = Find(entries, "timeout")) {
    if (auto v = ReadDuration(*f, inner, "timeout")) spec.defaults.timeout = *v;
  }
  if (const Entry* f = Find(entries, "retry")) ParseRetry(*f, inner, "retry", spec.defaults.retry);
  if (const Entry* f = Find(entries, "compensate_retry")) {
    ParseRetry(*f, inner, "compensate_retry", spec.defaults.compensate_retry);
  }
}

void Parser::ParseInputs(const Entry& e, SagaSpec& spec) {
  std::vector<Entry> entries;
  const Where where;
  if (!ReadMap(e.value, ValueLoc(e), where, "inputs", {}, entries)) return;
  const Where inner = where.Sub("inputs");
  for (const Entry& entry : entries) {
    InputSpec input;
    input.name = entry.key.Scalar();
    if (!IsValidId(input.name)) {
      Error(Loc(entry.key), inner, "",
            "bad input name '" + input.name + "' (use 1 to 128 of A-Z a-z 0-9 _ -)");
      continue;
    }
    if (entry.value.IsScalar()) {
      input.default_value = entry.value.Scalar();  // shorthand: name: default
    } else if (entry.value.IsMap()) {
      std::vector<Entry> fields;
      ReadMap(entry.value, ValueLoc(entry), inner, input.name, {"default", "description"}, fields);
      const Where field_where = inner.Sub(input.name);
      if (const Entry* f = Find(fields, "default")) {
        if (auto v = ReadString(*f, field_where, "default")) input.default_value = *v;
      }
      if (const Entry* f = Find(fields, "description"))
        (void)ReadString(*f, field_where, "description");
    } else if (!entry.value.IsNull()) {
      Error(ValueLoc(entry), inner, input.name,
            "expected a default value, a map {default, description} or nothing (required), got " +
                Describe(entry.value));
      continue;
    }
    spec.inputs.push_back(std::move(input));
  }
}

std::optional<Action> Parser::ParseAction(const Entry& e, const Where& where,
                                          std::string_view field, SagaSourceMap::Step& locations) {
  static constexpr std::string_view kKindsHelp = "noop, sleep, fail, exec or http";
  if (e.value.IsScalar()) {
    if (e.value.Scalar() == "noop") return NoopAction{};
    Error(ValueLoc(e), where, field,
          "expected an action (a map with one key: " + std::string(kKindsHelp) + "), got " +
              Describe(e.value));
    return std::nullopt;
  }
  std::vector<Entry> kinds;
  if (!ReadMap(e.value, ValueLoc(e), where, field, {"noop", "sleep", "fail", "exec", "http"},
               kinds)) {
    return std::nullopt;
  }
  if (kinds.size() != 1) {
    if (kinds.empty()) {
      // Unknown keys were reported already; only complain about a truly empty map.
      if (e.value.size() == 0) {
        Error(ValueLoc(e), where, field,
              "an action needs exactly one kind: " + std::string(kKindsHelp));
      }
      return std::nullopt;
    }
    std::string names;
    for (const Entry& k : kinds)
      names += (names.empty() ? "" : ", ") + k.key.Scalar();
    Error(ValueLoc(e), where, field, "an action has exactly one kind, got " + names);
    return std::nullopt;
  }
  const Entry& kind = kinds.front();
  const std::string& name = kind.key.Scalar();
  const Where inner = where.Sub(field);
  const std::string path = std::string(field) + "." + name + ".";
  const Where params = inner.Sub(name);
  auto missing = [&](std::string_view what) {
    Error(ValueLoc(kind), inner, name, "missing required field '" + std::string(what) + "'");
  };
  std::vector<Entry> f;
  // noop accepts nothing or an empty map.
  if (name == "noop") {
    if (kind.value.IsNull() || (kind.value.IsMap() && kind.value.size() == 0)) return NoopAction{};
    Error(ValueLoc(kind), inner, name, "noop takes no parameters, got " + Describe(kind.value));
    return std::nullopt;
  }
  if (!ReadMap(
          kind.value, ValueLoc(kind), inner, name,
          name == "sleep" ? std::initializer_list<std::string_view>{"duration"}
          : name == "fail"
              ? std::initializer_list<std::string_view>{"code", "message", "after", "retryable"}
          : name == "exec" ? std::initializer_list<std::string_view>{"argv", "env", "cwd", "shell"}
                           : std::initializer_list<std::string_view>{"method", "url", "headers",
                                                                     "body", "expect"},
          f)) {
    return std::nullopt;
  }
  bool ok = true;
  if (name == "sleep") {
    SleepAction sleep;
    if (const Entry* d = Find(f, "duration")) {
      if (auto v = ReadDuration(*d, params, "duration")) {
        sleep.duration = *v;
      } else {
        ok = false;
      }
    } else {
      missing("duration");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return sleep;
  }
  if (name == "fail") {
    FailAction fail;
    if (const Entry* x = Find(f, "code")) {
      if (auto v = ReadInt(*x, params, "code", 1, 999))
        fail.code = static_cast<int>(*v);
      else
        ok = false;
    }
    if (const Entry* x = Find(f, "message")) {
      if (auto v = ReadString(*x, params, "message"))
        fail.message = *v;
      else
        ok = false;
    }
    if (const Entry* x = Find(f, "after")) {
      if (auto v = ReadDuration(*x, params, "after"))
        fail.after = *v;
      else
        ok = false;
    }
    if (const Entry* x = Find(f, "retryable")) {
      if (auto v = ReadBool(*x, params, "retryable"))
        fail.retryable = *v;
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return fail;
  }
  if (name == "exec") {
    ExecAction exec;
    if (const Entry* x = Find(f, "argv")) {
      std::vector<SourceLocation> item_locations;
      if (auto v = ReadStringList(*x, params, "argv", &item_locations)) {
        exec.argv = std::move(*v);
        if (exec.argv.empty()) {
          Error(ValueLoc(*x), params, "argv", "must not be empty (argv[0] is the program)");
          ok = false;
        } else if (exec.argv[0].empty()) {
          Error(item_locations[0], params, "argv[0]", "the program name is empty");
          ok = false;
        }
        for (std::size_t i = 0; i < item_locations.size(); ++i) {
          locations.fields[path + "argv[" + std::to_string(i) + "]"] = item_locations[i];
        }
      } else {
        ok = false;
      }
    } else {
      missing("argv");
      ok = false;
    }
    if (const Entry* x = Find(f, "env")) {
      if (auto v = ReadStringMap(*x, params, "env", &locations.fields, path + "env.")) {
        exec.env = std::move(*v);
        for (const auto& [key, value] : exec.env) {
          if (key.find('=') != std::string::npos) {
            Error(ValueLoc(*x), params, "env", "variable name '" + key + "' contains '='");
            ok = false;
          }
        }
      } else {
        ok = false;
      }
    }
    if (const Entry* x = Find(f, "cwd")) {
      if (auto v = ReadString(*x, params, "cwd")) {
        exec.cwd = *v;
        locations.fields[path + "cwd"] = ValueLoc(*x);
      } else {
        ok = false;
      }
    }
    if (const Entry* x = Find(f, "shell")) {
      if (auto v = ReadBool(*x, params, "shell"))
        exec.shell = *v;
      else
        ok = false;
    }
    if (!ok) return std::nullopt;
    return exec;
  }
  TRI_ASSERT(name == "http");
  HttpAction http;
  if (const Entry* x = Find(f, "method")) {
    if (auto v = ReadString(*x, params, "method")) {
      std::string method = *v;
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      static constexpr std::string_view kMethods[] = {"GET",    "POST", "PUT",    "PATCH",
                                                      "DELETE", "HEAD", "OPTIONS"};
      if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
        Error(ValueLoc(*x), params, "method",
              "unknown method '" + *v + "' (GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)");
        ok = false;
      }
      http.method = method;
    } else {
      ok = false;
    }
  }
  if (const Entry* x = Find(f, "url")) {
    if (auto v = ReadString(*x, params, "url")) {
      http.url = *v;
      locations.fields[path + "url"] = ValueLoc(*x);
      if (!http.url.starts_with("${") && !http.url.starts_with("http://") &&
          !http.url.starts_with("https://")) {
        Error(ValueLoc(*x), params, "url", "'" + http.url + "' is not an http:// or https:// URL");
        ok = false;
      }
    } else {
      ok = false;
    }
  } else {
    missing("url");
    ok = false;
  }
  if (const Entry* x = Find(f, "headers")) {
    if (auto v = ReadStringMap(*x, params, "headers", &locations.fields, path + "headers.")) {
      http.headers = std::move(*v);
    } else {
      ok = false;
    }
  }
  if (const Entry* x = Find(f, "body")) {
    if (auto v = ReadString(*x, params, "body")) {
      http.body = *v;
      locations.fields[path + "body"] = ValueLoc(*x);
    } else {
      ok = false;
    }
  }
  if (const Entry* x = Find(f, "expect")) {
    if (!x->value.IsSequence()) {
      Error(ValueLoc(*x), params, "expect",
            "expected a list of status codes, got " + Describe(x->value));
      ok = false;
    } else {
      std::size_t index = 0;
      for (const Node& item : x->value) {
        const std::string item_field = "expect[" + std::to_string(index++) + "]";
        if (auto v = ReadInt(Entry{x->key, item}, params, item_field, 100, 599)) {
          http.expect.push_back(static_cast<int>(*v));
        } else {
          ok = false;
        }
      }
    }
  }
  if (!ok) return std::nullopt;
  return http;
}

void Parser::ParseStep(const Node& node, std::size_t index, const SagaSpec& spec, StepSpec& step,
                       SagaSourceMap::Step& locations) {
  step.location = Loc(node);
  step.timeout = spec.defaults.timeout;
  step.retry = spec.defaults.retry;
  step.compensate_retry = spec.defaults.compensate_retry;
  const std::string step_field = "steps[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    locations.id_present = false;
    Error(Loc(node), Where{}, step_field,
          "expected a step (a map with id and run), got " + Describe(node));
    return;
  }
  // Read the id first so that every other error can name the step.
  Where where;
  if (const Node id = node["id"]; id.IsDefined() && id.IsScalar()) where.step = id.Scalar();
  std::vector<Entry> f;
  ReadMap(node, Loc(node), where, "",
          {"id", "needs", "run", "compensate", "timeout", "retry", "compensate_retry",
           "compensate_when"},
          f);
  if (const Entry* x = Find(f, "id")) {
    locations.id = ValueLoc(*x);
    if (auto v = ReadString(*x, Where{}, step_field + ".id"))
      step.id = *v;
    else
      locations.id_present = false;
  } else {
    locations.id_present = false;
    Error(Loc(node), where, step_field, "missing required field 'id'");
  }
  if (const Entry* x = Find(f, "needs")) {
    locations.needs = ValueLoc(*x);
    if (auto v = ReadStringList(*x, where, "needs", &locations.need_items)) {
      step.needs = std::move(*v);
    } else {
      locations.need_items.clear();
    }
  }
  if (const Entry* x = Find(f, "run")) {
    if (auto action = ParseAction(*x, where, "run", locations)) step.run = std::move(*action);
  } else {
    Error(Loc(node), where, "", "missing required field 'run'");
  }
  if (const Entry* x = Find(f, "compensate")) {
    if (auto action = ParseAction(*x, where, "compensate", locations)) {
      step.compensate = std::move(*action);
    }
  }
  if (const Entry* x = Find(f, "timeout")) {
    if (auto v = ReadDuration(*x, where, "timeout")) step.timeout = *v;
  }
  if (const Entry* x = Find(f, "retry")) ParseRetry(*x, where, "retry", step.retry);
  if (const Entry* x = Find(f, "compensate_retry")) {
    ParseRetry(*x, where, "compensate_retry", step.compensate_retry);
  }
  if (const Entry* x = Find(f, "compensate_when")) {
    if (auto v = ReadString(*x, where, "compensate_when")) {
      if (*v == "succeeded") {
        step.compensate_when = CompensateWhen::kSucceeded;
      } else if (*v == "attempted") {
        step.compensate_when = CompensateWhen::kAttempted;
      } else {
        Error(ValueLoc(*x), where, "compensate_when",
              "expected 'succeeded' or 'attempted', got '" + *v + "'");
      }
    }
    if (!step.compensate.has_value()) {
      Error(ValueLoc(*x), where, "compensate_when", "set, but the step has no 'compensate'");
    }
  }
}

void Parser::ParseRoot(const Node& root, SagaSpec& spec, SagaSourceMap& map) {
  spec.location = Loc(root);
  if (!root.IsMap()) {
    Error(Loc(root).line > 0 ? Loc(root) : SourceLocation{file_, 1, 1}, Where{}, "",
          "a saga document is a map with name and steps, got " + Describe(root));
    return;
  }
  std::vector<Entry> f;
  const Where where;
  ReadMap(root, Loc(root), where, "", {"name", "deadline", "defaults", "inputs", "steps"}, f);
  if (const Entry* x = Find(f, "name")) {
    if (auto v = ReadString(*x, where, "name")) {
      spec.name = *v;
      if (spec.name.empty() || spec.name.size() > 256) {
        Error(ValueLoc(*x), where, "name", "must be 1 to 256 characters");
      }
    }
  } else {
    Error(Loc(root), where, "", "missing required field 'name'");
  }
  if (const Entry* x = Find(f, "deadline")) {
    if (auto v = ReadDuration(*x, where, "deadline")) spec.deadline = *v;
  }
  if (const Entry* x = Find(f, "defaults")) ParseDefaults(*x, spec);
  if (const Entry* x = Find(f, "inputs")) {
    map.inputs = ValueLoc(*x);
    ParseInputs(*x, spec);
  }
  const Entry* steps = Find(f, "steps");
  if (steps == nullptr) {
    Error(Loc(root), where, "", "missing required field 'steps'");
    return;
  }
  map.steps = ValueLoc(*steps);
  if (!steps->value.IsSequence()) {
    Error(ValueLoc(*steps), where, "steps",
          "expected a list of steps, got " + Describe(steps->value));
    return;
  }
  if (steps->value.size() == 0) {
    Error(ValueLoc(*steps), where, "steps", "a saga needs at least one step");
    return;
  }
  if (steps->value.size() > limits_.max_steps) {
    // Checked before reading the steps, so an oversized saga costs little.
    Error(ValueLoc(*steps), where, "steps",
          "too many steps: " + std::to_string(steps->value.size()) + " (the limit is " +
              std::to_string(limits_.max_steps) + ")");
    return;
  }
  spec.steps.resize(steps->value.size());
  map.step_locations.resize(steps->value.size());
  std::size_t index = 0;
  for (const Node& node : steps->value) {
    ParseStep(node, index, spec, spec.steps[index], map.step_locations[index]);
    ++index;
  }
}

}  // namespace

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
  auto whole_file = [&](std::string message) {
    diagnostics.Add(Diagnostic{SourceLocation{file, 0, 0}, "", "", std::move(message)});
  };
  // Bounds first: nothing unbounded reaches the YAML parser.
  if (text.size() > limits.max_document_bytes) {
    whole_file("document is " + std::to_string(text.size()) + " bytes, over the limit of " +
               std::to_string(limits.max_document_bytes) + " bytes");
    return std::nullopt;
  }
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    diagnostics.Add(
        Diagnostic{LocationAt(file, text, nul), "", "", "the document contains a NUL byte"});
    return std::nullopt;
  }
  if (FlowNesting(text) > kMaxFlowNesting) {
    whole_file("nesting deeper than " + std::to_string(kMaxFlowNesting) + " levels of [ or {");
    return std::nullopt;
  }
  if (DetectFormat(file_name, text) == DocumentFormat::kJson) {
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
  auto syntax_error = [&](const YAML::Exception& e) {
    SourceLocation loc{file, 0, 0};
    if (!e.mark.is_null()) loc = SourceLocation{file, e.mark.line + 1, e.mark.column + 1};
    std::string message = e.msg;
    if (message == "bad file") message = "nesting too deep";  // yaml-cpp's depth guard
    diagnostics.Add(Diagnostic{loc, "", "", "syntax error: " + message});
  };
  Node root;
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
    syntax_error(e);
    return std::nullopt;
  } catch (const std::exception& e) {
    whole_file(std::string("cannot parse: ") + e.what());
    return std::nullopt;
  }
  if (root.IsNull()) {
    whole_file("empty document");
    return std::nullopt;
  }

  SagaSpec spec;
  SagaSourceMap source_map;
  source_map.file = file;
  try {
    Parser parser(file, limits, diagnostics);
    parser.ParseRoot(root, spec, source_map);
  } catch (const YAML::Exception& e) {
    // Node accessors should not throw on a well-formed tree; report, don't crash.
    whole_file(std::string("cannot read the document: ") + e.what());
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

Result<SagaSpec> LoadSagaFile(const std::string& path, const SagaLimits& limits) {
  if (path == "-") {
    // Standard input, read at most one byte past the limit.
    std::string text;
    char buffer[1 << 16];
    while (text.size() <= limits.max_document_bytes) {
      const std::size_t n = std::fread(buffer, 1, sizeof buffer, stdin);
      if (n == 0) break;
      text.append(buffer, n);
    }
    if (std::ferror(stdin)) return IoError("<stdin>: read failed");
    return ParseSaga(text, "<stdin>", limits);
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return NotFound(path + ": no such file");
    return IoError(path + ": " + ec.message());
  }
  if (size > limits.max_document_bytes) {
    return InvalidArgument(path + ": document is " + std::to_string(size) +
                           " bytes, over the limit of " +
                           std::to_string(limits.max_document_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return IoError(path + ": read failed");
  return ParseSaga(text, path, limits);
}

}  // namespace tri::saga
