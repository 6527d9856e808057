#pragma once

// The piggyback queue (docs/membership.md, "Dissemination"), after memberlist's
// TransmitLimitedQueue: one pending update per member name (a newer update about
// a member replaces the older one), sent least-transmitted first and newest first
// among equals, each dropped after `limit` transmissions.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "membership/name_hash.h"
#include "membership/wire.h"

namespace tri::membership {

class BroadcastQueue {
 public:
  // Queues `encoded` (one wire message) as the update about `member`; it is sent
  // `limit_factor` times as often as the others (>= 1).
  void Enqueue(std::string_view member, std::string encoded, int limit_factor = 1);
  // Adds updates that fit to `packet` (at most `max_scan` looked at), counts a
  // transmission for each and drops those that reached `limit` (times their
  // factor). Returns how many were added.
  int Fill(wire::PacketBuilder& packet, int limit, int max_scan = 256);
  // Whether an update about `member` is queued.
  bool Contains(std::string_view member) const;
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  struct Item {
    std::string member;
    std::string encoded;
    int transmits = 0;
    int limit_factor = 1;
  };
  // (transmits, ~id): fewest transmissions first, then newest first.
  using Order = std::pair<int, std::uint64_t>;

  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Item> items_;  // by id; nodes are stable
  // The send order, each entry pointing at its item, so that Fill walks the order
  // without a lookup per update.
  std::map<Order, Item*> order_;
  std::unordered_map<std::string, std::uint64_t, NameHash, std::equal_to<>> by_member_;
  std::vector<std::map<Order, Item*>::iterator> sent_;  // Fill's scratch
};

}  // namespace tri::membership
