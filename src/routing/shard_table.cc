#include "routing/shard_table.h"

#include <string>

#include "base/assert.h"

namespace tri::routing {

Result<ShardTable> ShardTable::Build(const Ring& ring, const ShardTableOptions& options) {
  if (options.shard_bits < 1 || options.shard_bits > 24) {
    return InvalidArgument("routing shard table: shard_bits " + std::to_string(options.shard_bits) +
                           " is not in [1, 24]");
  }
  TRI_RETURN_IF_ERROR(ValidateBoundedLoadOptions(options.bounded_load));
  if (ring.node_count() > 65'536) {
    return InvalidArgument("routing shard table: " + std::to_string(ring.node_count()) +
                           " nodes exceed the 65,536 a 16-bit slot can name");
  }
  ShardTable table;
  table.shift_ = 64 - options.shard_bits;
  const std::size_t shards = std::size_t{1} << options.shard_bits;
  table.owners_.resize(shards);
  BoundedLoadPlacer placer(ring, options.bounded_load, shards);
  for (std::size_t s = 0; s < shards; ++s) {
    const std::uint32_t node = placer.Place(static_cast<std::uint64_t>(s) << table.shift_);
    table.owners_[s] = static_cast<std::uint16_t>(node);
  }
  table.shard_loads_.assign(placer.loads().begin(), placer.loads().end());
  for (std::uint32_t n = 0; n < ring.node_count(); ++n) {
    TRI_ASSERT(table.shard_loads_[n] <= placer.Cap(n));
  }
  return table;
}

}  // namespace tri::routing
