#pragma once

// The machinery every part of the DSL reader shares: locating YAML nodes,
// recording located errors, reading maps (unknown and duplicate keys), and
// the one way a field is read into the model ("read it into the target, or
// record why not"): MapReader::Read with a value kind (AsString, AsInt,
// AsDuration, ...).
//
// Private to tri_saga_dsl: it exposes yaml-cpp types, which the library
// links privately. Nothing outside src/saga/dsl/ includes it.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "saga/dsl/diagnostic.h"
#include "saga/spec.h"

namespace tri::saga::dsl {

// Where an error is: inside which step (may be empty) and under which field
// path prefix ("retry.backoff.").
struct Where {
  std::string step;
  std::string prefix;

  Where Sub(std::string_view field) const { return {step, prefix + std::string(field) + "."}; }
};

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

// The keys a map may have; empty = any key.
using FieldNames = std::span<const std::string_view>;

// Locations of string values by DSL path inside a step ("run.exec.argv[0]"),
// so that validation can point at a template it rejects.
using FieldLocations = std::map<std::string, SourceLocation>;

// True for a scalar that was quoted in the source ('x' or "x").
bool IsQuoted(const YAML::Node& node);

// How a value reads in a message: "a map", "the string '500'", "'yes'".
std::string Describe(const YAML::Node& node);

// Error sink and locator for one document.
class NodeReader {
 public:
  NodeReader(std::string file, const SagaLimits& limits, Diagnostics& diagnostics)
      : file_(std::move(file)), limits_(limits), diagnostics_(diagnostics) {}

  const std::string& file() const { return file_; }
  const SagaLimits& limits() const { return limits_; }

  SourceLocation Loc(const YAML::Node& node) const;
  // A value's location; a null value (written as nothing) is pointed at by its key.
  SourceLocation ValueLoc(const Entry& entry) const;

  // Records `message` for field `where.prefix + field` of step `where.step`.
  void Error(const SourceLocation& loc, const Where& where, std::string_view field,
             std::string message);

  // Reads a map's entries into `out`, reporting a non-map (returns false),
  // non-scalar keys, duplicate keys and, when `known` is not empty, unknown
  // keys (with a suggestion when one is close). Bad keys are left out.
  bool ReadMap(const YAML::Node& node, const SourceLocation& loc, const Where& where,
               std::string_view field, FieldNames known, std::vector<Entry>& out);

 private:
  std::string file_;
  const SagaLimits& limits_;
  Diagnostics& diagnostics_;
};

// --- value kinds -------------------------------------------------------------
// A kind reads one value: `operator()(reader, entry, where, field, locations)`
// returns the value, or records a located error and returns nullopt. String
// kinds record where each string is in `locations` (when not null) under
// `where.prefix + field`.

struct AsString {
  using Value = std::string;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

struct AsBool {
  using Value = bool;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// An integer in [min, max]; a quoted number is a type error, as in JSON.
struct AsInt {
  using Value = std::int64_t;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// A finite number in [min, max].
struct AsNumber {
  using Value = double;
  double min = 0;
  double max = 0;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

struct AsDuration {
  using Value = Duration;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// A list of strings; items are located as "field[i]".
struct AsStringList {
  using Value = std::vector<std::string>;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// A map of non-empty keys to strings; values are located as "field.KEY".
struct AsStringMap {
  using Value = std::map<std::string, std::string>;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// A list of integers in [min, max] (status codes, exit codes); `what` names
// the list in a type error ("a list of status codes"). With `sorted_unique`
// the value is sorted and duplicates are dropped.
struct AsIntList {
  using Value = std::vector<int>;
  int min = 0;
  int max = 0;
  std::string_view what = "a list of integers";
  bool sorted_unique = false;
  std::optional<Value> operator()(NodeReader& reader, const Entry& entry, const Where& where,
                                  std::string_view field, FieldLocations* locations) const;
};

// --- maps --------------------------------------------------------------------

// One map of the document: the value of `field` under `where`, with its known
// keys. Fields are read with Read / ReadRequired; ok() says whether every read
// so far succeeded (unknown or duplicate keys are reported but do not count).
class MapReader {
 public:
  MapReader(NodeReader& reader, const YAML::Node& node, const SourceLocation& loc,
            const Where& where, std::string_view field, FieldNames known,
            FieldLocations* locations = nullptr);

  // False when the value is not a map (reported); such a reader has no fields.
  bool is_map() const { return is_map_; }
  bool ok() const { return ok_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(std::string_view key) const;
  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // Where the fields of this map are reported (the map's path as prefix).
  const Where& inner() const { return inner_; }
  NodeReader& reader() { return reader_; }
  FieldLocations* locations() const { return locations_; }

  // THE way a field is read: when `key` is present, reads its value with
  // `kind` and assigns it to `target`; a bad value is reported (located, with
  // the field's path), leaves `target` as it was and makes ok() false. An
  // absent key leaves `target` as it was. Returns false only for a bad value.
  template <typename Kind, typename T>
  bool Read(std::string_view key, T& target, const Kind& kind = Kind{}) {
    const Entry* entry = Find(key);
    if (entry == nullptr) return true;
    std::optional<typename Kind::Value> value = kind(reader_, *entry, inner_, key, locations_);
    if (!value) {
      ok_ = false;
      return false;
    }
    target = static_cast<T>(std::move(*value));
    return true;
  }

  // As Read; an absent key is reported at the map ("missing required field").
  template <typename Kind, typename T>
  bool ReadRequired(std::string_view key, T& target, const Kind& kind = Kind{}) {
    if (!Has(key)) {
      Missing(key);
      return false;
    }
    return Read(key, target, kind);
  }

  // Reports "missing required field 'key'" at the map and makes ok() false.
  void Missing(std::string_view key);
  // Reports `message` at the value of `key` (which is present) and makes ok() false.
  void Invalid(std::string_view key, std::string message);
  // Reports `message` for `field` of this map at `loc` and makes ok() false.
  void InvalidAt(const SourceLocation& loc, std::string_view field, std::string message);
  // Where the value of `key` is (the map itself when `key` is absent).
  SourceLocation ValueLoc(std::string_view key) const;
  // Where each item of the list under `key` is (empty when not a list).
  std::vector<SourceLocation> ItemLocs(std::string_view key) const;

 private:
  NodeReader& reader_;
  SourceLocation loc_;
  Where where_;  // of the map itself
  std::string field_;
  Where inner_;  // of its fields
  FieldLocations* locations_;
  std::vector<Entry> entries_;
  bool is_map_ = false;
  bool ok_ = true;
};

}  // namespace tri::saga::dsl
