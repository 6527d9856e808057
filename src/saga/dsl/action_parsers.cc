#include "saga/dsl/action_parsers.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "base/assert.h"
#include "saga/dsl/http_methods.h"

namespace tri::saga::dsl {
namespace {

// --- one parse function per kind ----------------------------------------------
// Each reads the kind's fields from `map` (which holds only known fields);
// the caller discards the result when map.ok() is false.

Action ParseSleep(MapReader& map) {
  SleepAction sleep;
  map.ReadRequired<AsDuration>("duration", sleep.duration);
  return sleep;
}

Action ParseFail(MapReader& map) {
  FailAction fail;
  map.Read("code", fail.code, AsInt{.min = 1, .max = 999});
  map.Read<AsString>("message", fail.message);
  map.Read<AsDuration>("after", fail.after);
  map.Read<AsBool>("retryable", fail.retryable);
  return fail;
}

Action ParseExec(MapReader& map) {
  ExecAction exec;
  if (map.ReadRequired<AsStringList>("argv", exec.argv)) {
    if (exec.argv.empty()) {
      map.Invalid("argv", "must not be empty (argv[0] is the program)");
    } else if (exec.argv[0].empty()) {
      map.InvalidAt(map.ItemLocs("argv")[0], "argv[0]", "the program name is empty");
    }
  }
  if (map.Read<AsStringMap>("env", exec.env)) {
    for (const auto& [name, value] : exec.env) {
      if (name.find('=') != std::string::npos) {
        map.Invalid("env", "variable name '" + name + "' contains '='");
      }
    }
  }
  map.Read<AsString>("cwd", exec.cwd);
  map.Read<AsBool>("shell", exec.shell);
  return exec;
}

Action ParseHttp(MapReader& map) {
  HttpAction http;
  std::string method = http.method;
  if (map.Has("method") && map.Read<AsString>("method", method)) {
    std::string upper = method;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (!IsSupportedHttpMethod(upper)) {
      map.Invalid("method", "unknown method '" + method + "' (" + HttpMethodList() + ")");
    }
    http.method = upper;
  }
  if (map.ReadRequired<AsString>("url", http.url)) {
    if (!http.url.starts_with("${") && !http.url.starts_with("http://") &&
        !http.url.starts_with("https://")) {
      map.Invalid("url", "'" + http.url + "' is not an http:// or https:// URL");
    }
  }
  map.Read<AsStringMap>("headers", http.headers);
  map.Read<AsString>("body", http.body);
  map.Read("expect", http.expect,
           AsIntList{.min = 100, .max = 599, .what = "a list of status codes"});
  return http;
}

// --- the table ------------------------------------------------------------------

struct ActionKind {
  std::string_view name;
  // Fields the kind accepts; empty = none (the kind may be written with no
  // value, as an empty map, or as the bare word).
  FieldNames fields;
  Action (*parse)(MapReader& map);  // null when the kind has no fields
};

constexpr std::string_view kSleepFields[] = {"duration"};
constexpr std::string_view kFailFields[] = {"code", "message", "after", "retryable"};
constexpr std::string_view kExecFields[] = {"argv", "env", "cwd", "shell"};
constexpr std::string_view kHttpFields[] = {"method", "url", "headers", "body", "expect"};

const ActionKind kActionKinds[] = {
    {"noop", {}, nullptr},
    {"sleep", kSleepFields, &ParseSleep},
    {"fail", kFailFields, &ParseFail},
    {"exec", kExecFields, &ParseExec},
    {"http", kHttpFields, &ParseHttp},
};

// Parameterless kinds produce their action without reading anything.
Action ParameterlessAction(std::string_view name) {
  if (name == "noop") return NoopAction{};
  TRI_ASSERT_MSG(false, "a parameterless action kind without a value");
  return NoopAction{};
}

const std::vector<std::string_view>& KindNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const ActionKind& kind : kActionKinds)
      out.push_back(kind.name);
    return out;
  }();
  return names;
}

// "noop, sleep, fail, exec or http"
std::string KindsHelp() {
  std::string out;
  const auto& names = KindNames();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

const ActionKind* FindKind(std::string_view name) {
  for (const ActionKind& kind : kActionKinds) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

}  // namespace

std::optional<Action> ReadAction(NodeReader& reader, const Entry& entry, const Where& where,
                                 std::string_view field, FieldLocations* locations) {
  if (entry.value.IsScalar()) {
    const ActionKind* kind = FindKind(entry.value.Scalar());
    if (kind != nullptr && kind->fields.empty()) return ParameterlessAction(kind->name);
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected an action (a map with one key: " + KindsHelp() + "), got " +
                     Describe(entry.value));
    return std::nullopt;
  }
  MapReader kinds(reader, entry.value, reader.ValueLoc(entry), where, field, KindNames());
  if (!kinds.is_map()) return std::nullopt;
  if (kinds.entries().size() != 1) {
    if (kinds.entries().empty()) {
      // Unknown keys were reported already; only complain about a truly empty map.
      if (entry.value.size() == 0) {
        reader.Error(reader.ValueLoc(entry), where, field,
                     "an action needs exactly one kind: " + KindsHelp());
      }
      return std::nullopt;
    }
    std::string names;
    for (const Entry& k : kinds.entries())
      names += (names.empty() ? "" : ", ") + k.key.Scalar();
    reader.Error(reader.ValueLoc(entry), where, field,
                 "an action has exactly one kind, got " + names);
    return std::nullopt;
  }
  const Entry& chosen = kinds.entries().front();
  const ActionKind* kind = FindKind(chosen.key.Scalar());
  TRI_ASSERT_MSG(kind != nullptr, "ReadMap keeps only known kinds");
  const Where inner = where.Sub(field);
  if (kind->fields.empty()) {
    if (chosen.value.IsNull() || (chosen.value.IsMap() && chosen.value.size() == 0)) {
      return ParameterlessAction(kind->name);
    }
    reader.Error(reader.ValueLoc(chosen), inner, kind->name,
                 std::string(kind->name) + " takes no parameters, got " + Describe(chosen.value));
    return std::nullopt;
  }
  MapReader params(reader, chosen.value, reader.ValueLoc(chosen), inner, kind->name, kind->fields,
                   locations);
  if (!params.is_map()) return std::nullopt;
  Action action = kind->parse(params);
  if (!params.ok()) return std::nullopt;
  return action;
}

}  // namespace tri::saga::dsl
