#pragma once

// The state below a batch: read-only while the batch runs, and read from
// several threads at once (Get must be safe to call concurrently).

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "txn/types.h"

namespace tri::txn {

class StateView {
 public:
  virtual ~StateView() = default;
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
};

// An ordered in-memory state: the reference state of the tests and benchmarks.
class MapState final : public StateView {
 public:
  MapState() = default;
  explicit MapState(std::map<std::string, std::string, std::less<>> entries)
      : entries_(std::move(entries)) {}

  std::optional<std::string> Get(std::string_view key) const override;
  void Put(std::string key, std::string value) { entries_[std::move(key)] = std::move(value); }
  // Applies every committed transaction's writes in batch order: the state
  // after the batch.
  void Apply(const BatchResult& result);

  const std::map<std::string, std::string, std::less<>>& entries() const { return entries_; }
  friend bool operator==(const MapState& a, const MapState& b) { return a.entries_ == b.entries_; }

 private:
  std::map<std::string, std::string, std::less<>> entries_;
};

}  // namespace tri::txn
