#include "txn/state_view.h"

namespace tri::txn {

std::optional<std::string> MapState::Get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void MapState::Apply(const BatchResult& result) {
  for (const TxnResult& txn : result.txns) {
    for (const KeyWrite& write : txn.writes) {
      if (write.value) {
        entries_.insert_or_assign(write.key, *write.value);
      } else {
        auto it = entries_.find(write.key);
        if (it != entries_.end()) entries_.erase(it);
      }
    }
  }
}

}  // namespace tri::txn
