#include "sim/history_json.h"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace tri::sim {
namespace {

// Reads integer field `name`; `required` fields must be present.
Result<std::int64_t> IntField(const nlohmann::json& object, const char* name, bool required,
                              std::int64_t min, std::int64_t max) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required) return InvalidArgument(fmt::format("missing field '{}'", name));
    return std::int64_t{0};
  }
  if (!it->is_number_integer()) {
    return InvalidArgument(fmt::format("field '{}' must be an integer, got {}", name, it->dump()));
  }
  if (it->is_number_unsigned() &&
      it->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return InvalidArgument(fmt::format("field '{}' is out of range: {}", name, it->dump()));
  }
  const std::int64_t value = it->get<std::int64_t>();
  if (value < min || value > max) {
    return InvalidArgument(
        fmt::format("field '{}' must be in [{}, {}], got {}", name, min, max, value));
  }
  return value;
}

Result<std::string> StringField(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return InvalidArgument(fmt::format("missing field '{}'", name));
  if (!it->is_string()) {
    return InvalidArgument(fmt::format("field '{}' must be a string, got {}", name, it->dump()));
  }
  return it->get<std::string>();
}

Result<KvOperation> ParseOperation(std::string_view line, std::uint64_t id) {
  nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return InvalidArgument("not valid JSON");
  if (!object.is_object()) return InvalidArgument("an operation must be a JSON object");

  constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMinInt = std::numeric_limits<std::int64_t>::min();
  KvOperation op;
  op.id = id;
  TRI_ASSIGN_OR_RETURN(const std::int64_t client,
                       IntField(object, "client", true, 0, std::numeric_limits<KvKey>::max()));
  op.client_id = static_cast<std::uint32_t>(client);
  TRI_ASSIGN_OR_RETURN(const std::int64_t key,
                       IntField(object, "key", true, 0, std::numeric_limits<KvKey>::max()));
  op.key = static_cast<KvKey>(key);

  TRI_ASSIGN_OR_RETURN(const std::string kind, StringField(object, "kind"));
  if (kind == "put") {
    op.kind = OpKind::kPut;
  } else if (kind == "get") {
    op.kind = OpKind::kGet;
  } else if (kind == "cas") {
    op.kind = OpKind::kCas;
  } else {
    return InvalidArgument(fmt::format("field 'kind' must be put, get or cas, got '{}'", kind));
  }

  TRI_ASSIGN_OR_RETURN(const std::string outcome, StringField(object, "outcome"));
  if (outcome == "ok") {
    op.outcome = OpOutcome::kOk;
  } else if (outcome == "cas_failed") {
    op.outcome = OpOutcome::kCasFailed;
  } else if (outcome == "unknown") {
    op.outcome = OpOutcome::kUnknown;
  } else {
    return InvalidArgument(
        fmt::format("field 'outcome' must be ok, cas_failed or unknown, got '{}'", outcome));
  }
  if (op.outcome == OpOutcome::kCasFailed && op.kind != OpKind::kCas) {
    return InvalidArgument(fmt::format("outcome cas_failed is only for cas, not {}", kind));
  }

  if (op.kind != OpKind::kGet) {
    TRI_ASSIGN_OR_RETURN(op.value, IntField(object, "value", true, kMinInt, kMaxInt));
    if (op.value == kAbsent) {
      return InvalidArgument("field 'value' must not be 0 (0 means the key is absent)");
    }
  }
  if (op.kind == OpKind::kCas) {
    TRI_ASSIGN_OR_RETURN(op.expected, IntField(object, "expected", true, kMinInt, kMaxInt));
  }
  if (op.kind == OpKind::kGet && op.outcome == OpOutcome::kOk) {
    TRI_ASSIGN_OR_RETURN(op.read_value, IntField(object, "read_value", true, kMinInt, kMaxInt));
  }

  TRI_ASSIGN_OR_RETURN(op.call_time, IntField(object, "call_time", true, 0, kMaxInt - 1));
  if (op.outcome == OpOutcome::kUnknown) {
    op.return_time = kNeverReturned;
  } else {
    TRI_ASSIGN_OR_RETURN(op.return_time, IntField(object, "return_time", true, 0, kMaxInt - 1));
    if (op.return_time < op.call_time) {
      return InvalidArgument(
          fmt::format("return_time {} is before call_time {}", op.return_time, op.call_time));
    }
  }
  return op;
}

}  // namespace

Result<KvHistory> ParseHistoryJsonLines(std::string_view text, std::string_view source,
                                        const HistoryJsonOptions& options) {
  KvHistory history;
  std::uint64_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (line.size() > options.max_line_bytes) {
      return InvalidArgument(fmt::format("{}:{}: line is {} bytes, more than the bound of {}",
                                         source, line_number, line.size(), options.max_line_bytes));
    }
    if (history.size() >= options.max_operations) {
      return InvalidArgument(fmt::format("{}:{}: more than {} operations", source, line_number,
                                         options.max_operations));
    }
    Result<KvOperation> op = ParseOperation(line, history.size());
    if (!op.ok()) {
      return InvalidArgument(fmt::format("{}:{}: {}", source, line_number, op.status().message()));
    }
    history.push_back(*op);
  }
  return history;
}

}  // namespace tri::sim
