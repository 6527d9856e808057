#include "membership/broadcast_queue.h"

#include <vector>

#include "base/assert.h"

namespace tri::membership {

void BroadcastQueue::Enqueue(std::string_view member, std::string encoded) {
  if (auto it = by_member_.find(member); it != by_member_.end()) {
    const std::uint64_t old_id = it->second;
    const Item& old = items_.at(old_id);
    order_.erase({old.transmits, ~old_id});
    items_.erase(old_id);
    by_member_.erase(it);
  }
  const std::uint64_t id = next_id_++;
  items_.emplace(id, Item{std::string(member), std::move(encoded), 0});
  order_.insert({0, ~id});
  by_member_.emplace(std::string(member), id);
  TRI_DASSERT(items_.size() == order_.size() && items_.size() == by_member_.size());
}

int BroadcastQueue::Fill(wire::PacketBuilder& packet, int limit, int max_scan) {
  TRI_ASSERT(limit > 0);
  std::vector<std::uint64_t> sent;
  int scanned = 0;
  for (auto it = order_.begin(); it != order_.end() && scanned < max_scan; ++it, ++scanned) {
    // The smallest message is a few bytes; stop scanning once nothing can fit.
    if (packet.RemainingBytes() < 4) break;
    const std::uint64_t id = ~it->second;
    const Item& item = items_.at(id);
    if (packet.Add(item.encoded)) sent.push_back(id);
  }
  for (const std::uint64_t id : sent) {
    Item& item = items_.at(id);
    order_.erase({item.transmits, ~id});
    ++item.transmits;
    if (item.transmits >= limit) {
      by_member_.erase(item.member);
      items_.erase(id);
    } else {
      order_.insert({item.transmits, ~id});
    }
  }
  TRI_ASSERT(items_.size() == order_.size() && items_.size() == by_member_.size());
  return static_cast<int>(sent.size());
}

bool BroadcastQueue::Contains(std::string_view member) const {
  return by_member_.find(member) != by_member_.end();
}

}  // namespace tri::membership
