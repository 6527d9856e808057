#pragma once

// The lookup structure of consistent hashing with bounded loads
// (docs/routing.md, "The shard table"): the hash space is cut into
// 2^shard_bits equal shards (a key's shard is the top bits of its hash), each
// shard is placed by the bounded-load rule with static caps (shards are the
// balls, placed in index order at the start of their range on the ring), and
// a lookup is a hash and one read of a 2-byte slot: 512 KiB at the default 18
// bits, small enough to stay in a core's L2 cache at 1,000 nodes, where the
// ring's own arrays (points and index) take megabytes.
//
// The cap is a hard bound on shards per node; keys per node follow the
// shards up to sampling noise (docs/routing.md gives the figures).

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "routing/bounded_load.h"
#include "routing/ring.h"

namespace tri::routing {

struct ShardTableOptions {
  unsigned shard_bits = 18;  // 2^18 shards; in [1, 24]
  BoundedLoadOptions bounded_load;
};

class ShardTable {
 public:
  // Errors: shard_bits out of range, bad bounded-load options, or a ring of
  // more than 65,536 nodes (the slots are 16 bits).
  static Result<ShardTable> Build(const Ring& ring, const ShardTableOptions& options = {});

  std::uint32_t Shard(std::uint64_t hash) const {
    return static_cast<std::uint32_t>(hash >> shift_);
  }
  // The node that holds `hash`'s shard: one table read.
  std::uint32_t Owner(std::uint64_t hash) const { return owners_[hash >> shift_]; }
  std::uint32_t ShardOwner(std::uint32_t shard) const { return owners_[shard]; }

  std::size_t shard_count() const { return owners_.size(); }
  // Shards per node, each within its cap for shard_count() balls.
  std::span<const std::uint64_t> shard_loads() const { return shard_loads_; }

 private:
  ShardTable() = default;

  std::vector<std::uint16_t> owners_;  // node index per shard
  std::vector<std::uint64_t> shard_loads_;
  unsigned shift_ = 46;
};

}  // namespace tri::routing
