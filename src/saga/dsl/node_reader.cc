#include "saga/dsl/node_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <system_error>

#include "saga/dsl/duration.h"

namespace tri::saga::dsl {
namespace {

using YAML::Node;
using YAML::NodeType;

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

std::string IndexedField(std::string_view field, std::size_t index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

}  // namespace

bool IsQuoted(const Node& node) {
  return node.Tag() == "!";
}

std::string Describe(const Node& node) {
  switch (node.Type()) {
    case NodeType::Map:
      return "a map";
    case NodeType::Sequence:
      return "a list";
    case NodeType::Null:
      return "nothing (null)";
    case NodeType::Scalar: {
      std::string text = node.Scalar();
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return (IsQuoted(node) ? "the string '" : "'") + text + "'";
    }
    case NodeType::Undefined:
      break;
  }
  return "nothing";
}

// --- NodeReader --------------------------------------------------------------

SourceLocation NodeReader::Loc(const Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return SourceLocation{file_, 0, 0};
  return SourceLocation{file_, mark.line + 1, mark.column + 1};
}

SourceLocation NodeReader::ValueLoc(const Entry& entry) const {
  return entry.value.IsNull() || entry.value.Mark().is_null() ? Loc(entry.key) : Loc(entry.value);
}

void NodeReader::Error(const SourceLocation& loc, const Where& where, std::string_view field,
                       std::string message) {
  std::string path = where.prefix + std::string(field);
  if (!path.empty() && path.back() == '.') path.pop_back();
  diagnostics_.Add(Diagnostic{loc, where.step, std::move(path), std::move(message)});
}

bool NodeReader::ReadMap(const Node& node, const SourceLocation& loc, const Where& where,
                         std::string_view field, FieldNames known, std::vector<Entry>& out) {
  if (!node.IsMap()) {
    Error(loc, where, field, "expected a map, got " + Describe(node));
    return false;
  }
  const Where inner = field.empty() ? where : where.Sub(field);
  auto find = [&out](const std::string& key) -> const Entry* {
    for (const Entry& e : out) {
      if (e.key.Scalar() == key) return &e;
    }
    return nullptr;
  };
  for (auto it = node.begin(); it != node.end(); ++it) {
    Entry e{it->first, it->second};
    if (!e.key.IsScalar()) {
      Error(Loc(e.key), inner, "", "keys must be strings, got " + Describe(e.key));
      continue;
    }
    const std::string& key = e.key.Scalar();
    if (const Entry* first = find(key)) {
      Error(Loc(e.key), inner, "",
            "duplicate key '" + key + "' (first at line " + std::to_string(Loc(first->key).line) +
                ")");
      continue;
    }
    if (!known.empty() && std::find(known.begin(), known.end(), key) == known.end()) {
      std::string message = "unknown field '" + key + "'";
      std::string_view best;
      std::size_t best_distance = 3;
      for (std::string_view k : known) {
        const std::size_t d = EditDistance(std::string_view(key).substr(0, 64), k);
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

// --- value kinds -------------------------------------------------------------

std::optional<std::string> AsString::operator()(NodeReader& reader, const Entry& entry,
                                                const Where& where, std::string_view field,
                                                FieldLocations* locations) const {
  if (!entry.value.IsScalar()) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected a string, got " + Describe(entry.value));
    return std::nullopt;
  }
  if (locations != nullptr)
    (*locations)[where.prefix + std::string(field)] = reader.ValueLoc(entry);
  return entry.value.Scalar();
}

std::optional<bool> AsBool::operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                       std::string_view field, FieldLocations*) const {
  if (entry.value.IsScalar() && !IsQuoted(entry.value)) {
    if (entry.value.Scalar() == "true") return true;
    if (entry.value.Scalar() == "false") return false;
  }
  reader.Error(reader.ValueLoc(entry), where, field,
               "expected true or false, got " + Describe(entry.value));
  return std::nullopt;
}

std::optional<std::int64_t> AsInt::operator()(NodeReader& reader, const Entry& entry,
                                              const Where& where, std::string_view field,
                                              FieldLocations*) const {
  std::int64_t value = 0;
  bool parsed = false;
  if (entry.value.IsScalar() && !IsQuoted(entry.value)) {
    const std::string& text = entry.value.Scalar();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    parsed = ec == std::errc() && ptr == end && !text.empty();
  }
  if (!parsed) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected an integer, got " + Describe(entry.value));
    return std::nullopt;
  }
  if (value < min || value > max) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> AsNumber::operator()(NodeReader& reader, const Entry& entry,
                                           const Where& where, std::string_view field,
                                           FieldLocations*) const {
  double value = 0;
  bool parsed = false;
  if (entry.value.IsScalar() && !IsQuoted(entry.value)) {
    const std::string& text = entry.value.Scalar();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    parsed = ec == std::errc() && ptr == end && !text.empty() && std::isfinite(value);
  }
  if (!parsed) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected a number, got " + Describe(entry.value));
    return std::nullopt;
  }
  if (value < min || value > max) {
    std::ostringstream message;
    message << "must be between " << min << " and " << max << ", got " << entry.value.Scalar();
    reader.Error(reader.ValueLoc(entry), where, field, message.str());
    return std::nullopt;
  }
  return value;
}

std::optional<Duration> AsDuration::operator()(NodeReader& reader, const Entry& entry,
                                               const Where& where, std::string_view field,
                                               FieldLocations*) const {
  if (!entry.value.IsScalar()) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected a duration (e.g. 250ms, 1.5s, 2m), got " + Describe(entry.value));
    return std::nullopt;
  }
  auto duration = ParseDuration(entry.value.Scalar());
  if (!duration.ok()) {
    reader.Error(reader.ValueLoc(entry), where, field, duration.status().message());
    return std::nullopt;
  }
  return *duration;
}

std::optional<std::vector<std::string>> AsStringList::operator()(NodeReader& reader,
                                                                 const Entry& entry,
                                                                 const Where& where,
                                                                 std::string_view field,
                                                                 FieldLocations* locations) const {
  if (!entry.value.IsSequence()) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected a list, got " + Describe(entry.value));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  std::size_t index = 0;
  for (const Node& item : entry.value) {
    const std::string item_field = IndexedField(field, index++);
    if (!item.IsScalar()) {
      reader.Error(item.IsNull() ? reader.Loc(entry.value) : reader.Loc(item), where, item_field,
                   "expected a string, got " + Describe(item));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
    if (locations != nullptr) (*locations)[where.prefix + item_field] = reader.Loc(item);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> AsStringMap::operator()(
    NodeReader& reader, const Entry& entry, const Where& where, std::string_view field,
    FieldLocations* locations) const {
  std::vector<Entry> entries;
  if (!reader.ReadMap(entry.value, reader.ValueLoc(entry), where, field, {}, entries)) {
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  const Where inner = where.Sub(field);
  for (const Entry& item : entries) {
    const std::string& key = item.key.Scalar();
    if (key.empty()) {
      reader.Error(reader.Loc(item.key), inner, "", "empty key");
      ok = false;
      continue;
    }
    auto value = AsString{}(reader, item, inner, key, locations);
    if (!value) {
      ok = false;
      continue;
    }
    out.emplace(key, std::move(*value));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<int>> AsIntList::operator()(NodeReader& reader, const Entry& entry,
                                                      const Where& where, std::string_view field,
                                                      FieldLocations* locations) const {
  if (!entry.value.IsSequence()) {
    reader.Error(reader.ValueLoc(entry), where, field,
                 "expected " + std::string(what) + ", got " + Describe(entry.value));
    return std::nullopt;
  }
  std::vector<int> out;
  bool ok = true;
  std::size_t index = 0;
  const AsInt item_kind{min, max};
  for (const Node& item : entry.value) {
    const std::string item_field = IndexedField(field, index++);
    if (auto v = item_kind(reader, Entry{entry.key, item}, where, item_field, locations)) {
      out.push_back(static_cast<int>(*v));
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  if (sorted_unique) {
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return out;
}

// --- MapReader ---------------------------------------------------------------

MapReader::MapReader(NodeReader& reader, const Node& node, const SourceLocation& loc,
                     const Where& where, std::string_view field, FieldNames known,
                     FieldLocations* locations)
    : reader_(reader),
      loc_(loc),
      where_(where),
      field_(field),
      inner_(field.empty() ? where : where.Sub(field)),
      locations_(locations) {
  is_map_ = reader_.ReadMap(node, loc, where, field, known, entries_);
  ok_ = is_map_;
}

const Entry* MapReader::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key.Scalar() == key) return &e;
  }
  return nullptr;
}

void MapReader::Missing(std::string_view key) {
  reader_.Error(loc_, where_, field_, "missing required field '" + std::string(key) + "'");
  ok_ = false;
}

void MapReader::Invalid(std::string_view key, std::string message) {
  reader_.Error(ValueLoc(key), inner_, key, std::move(message));
  ok_ = false;
}

void MapReader::InvalidAt(const SourceLocation& loc, std::string_view field, std::string message) {
  reader_.Error(loc, inner_, field, std::move(message));
  ok_ = false;
}

SourceLocation MapReader::ValueLoc(std::string_view key) const {
  const Entry* entry = Find(key);
  return entry == nullptr ? loc_ : reader_.ValueLoc(*entry);
}

std::vector<SourceLocation> MapReader::ItemLocs(std::string_view key) const {
  std::vector<SourceLocation> out;
  const Entry* entry = Find(key);
  if (entry == nullptr || !entry->value.IsSequence()) return out;
  for (const Node& item : entry->value)
    out.push_back(reader_.Loc(item));
  return out;
}

}  // namespace tri::saga::dsl
