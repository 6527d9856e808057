#include "membership/broadcast_queue.h"

#include <vector>

#include "base/assert.h"

namespace tri::membership {

void BroadcastQueue::Enqueue(std::string_view member, std::string encoded, int limit_factor) {
  TRI_ASSERT(limit_factor >= 1);
  if (auto it = by_member_.find(member); it != by_member_.end()) {
    const std::uint64_t old_id = it->second;
    auto old = items_.find(old_id);
    TRI_ASSERT(old != items_.end());
    order_.erase({old->second.transmits, ~old_id});
    items_.erase(old);
    // Reuse the map node's key: the member is the same.
    it->second = next_id_;
  } else {
    by_member_.emplace(std::string(member), next_id_);
  }
  const std::uint64_t id = next_id_++;
  Item& item = items_.emplace(id, Item{std::string(member), std::move(encoded), 0, limit_factor})
                   .first->second;
  order_.emplace(Order{0, ~id}, &item);
  TRI_DASSERT(items_.size() == order_.size() && items_.size() == by_member_.size());
}

int BroadcastQueue::Fill(wire::PacketBuilder& packet, int limit, int max_scan) {
  TRI_ASSERT(limit > 0);
  // Sent entries are moved to their next place after the scan; kept small and
  // reused across calls.
  sent_.clear();
  int scanned = 0;
  for (auto it = order_.begin(); it != order_.end() && scanned < max_scan; ++it, ++scanned) {
    // The smallest message is a few bytes; stop scanning once nothing can fit.
    if (packet.RemainingBytes() < 4) break;
    const Item& item = *it->second;
    // Fits first: Add takes its message by value, so a copy only for what is sent.
    if (packet.Fits(item.encoded.size()) && packet.Add(item.encoded)) sent_.push_back(it);
  }
  for (const auto& it : sent_) {
    const std::uint64_t id = ~it->first.second;
    Item* item = it->second;
    order_.erase(it);
    ++item->transmits;
    if (item->transmits >= limit * item->limit_factor) {
      by_member_.erase(item->member);
      items_.erase(id);
    } else {
      order_.emplace(Order{item->transmits, ~id}, item);
    }
  }
  TRI_ASSERT(items_.size() == order_.size() && items_.size() == by_member_.size());
  return static_cast<int>(sent_.size());
}

bool BroadcastQueue::Contains(std::string_view member) const {
  return by_member_.find(member) != by_member_.end();
}

}  // namespace tri::membership
