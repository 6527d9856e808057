#include "sim/placement_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <utility>

#include "base/rng.h"
#include "routing/bounded_load.h"
#include "routing/hash.h"
#include "routing/rendezvous.h"
#include "routing/ring.h"
#include "routing/shard_table.h"

namespace tri::sim {

namespace {

using routing::Node;

Node RandomNode(SeededRng& rng, std::string name, const PlacementSimOptions& o) {
  Node node;
  node.name = std::move(name);
  node.zone = "zone-" + std::to_string(rng.Uniform(o.zones));
  node.capacity = static_cast<std::uint32_t>(1 + rng.Uniform(o.max_capacity));
  return node;
}

std::vector<std::uint64_t> KeyHashes(std::uint64_t seed, std::size_t count) {
  std::vector<std::uint64_t> hashes;
  hashes.reserve(count);
  const std::string prefix = "key-" + std::to_string(seed) + "-";
  for (std::size_t i = 0; i < count; ++i) {
    hashes.push_back(routing::HashBytes(prefix + std::to_string(i)));
  }
  return hashes;
}

std::uint64_t TotalCapacity(std::span<const Node> nodes) {
  std::uint64_t total = 0;
  for (const Node& n : nodes)
    total += n.capacity;
  return total;
}

// Loads over each node's weighted fair share of `balls`.
LoadBalance Balance(std::span<const std::uint64_t> loads, std::span<const Node> nodes,
                    std::uint64_t balls) {
  const double total = static_cast<double>(TotalCapacity(nodes));
  LoadBalance b;
  if (balls == 0) return b;
  b.min_over_avg = 1e300;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const double fair = static_cast<double>(balls) * nodes[i].capacity / total;
    const double ratio = static_cast<double>(loads[i]) / fair;
    b.max_over_avg = std::max(b.max_over_avg, ratio);
    b.min_over_avg = std::min(b.min_over_avg, ratio);
  }
  return b;
}

// One configuration's placements: the owner of every key on the ring alone
// and with bounded loads, and the replica sets of the rendezvous keys.
struct Placement {
  std::vector<std::uint32_t> ring_owner;
  std::vector<std::uint32_t> bounded_owner;  // caps for the whole key set
  std::vector<std::uint32_t> online_owner;   // caps for the keys placed so far
  std::vector<std::uint64_t> ring_loads;
  std::vector<std::uint64_t> bounded_loads;
  std::vector<std::uint64_t> online_loads;
  std::vector<std::uint32_t> table_owner;  // the shard table's owner of each key
  std::vector<std::uint64_t> table_loads;  // keys per node through the shard table
  std::vector<std::uint64_t> shard_loads;  // shards per node
  std::vector<std::uint32_t> replicas;     // rendezvous: options.replicas per key, flat
  std::vector<std::uint64_t> replica_loads;
  std::size_t points = 0;
};

Placement Place(std::span<const Node> nodes, std::span<const std::uint64_t> keys,
                std::size_t rendezvous_keys, const PlacementSimOptions& o) {
  routing::RingOptions ring_options;
  ring_options.vnodes_per_capacity = o.vnodes_per_capacity;
  auto ring = routing::Ring::Build(nodes, ring_options);
  TRI_ASSERT_MSG(ring.ok(), "placement sim: ring build failed");
  Placement p;
  p.points = ring->points().size();
  p.ring_owner.reserve(keys.size());
  p.ring_loads.assign(nodes.size(), 0);
  for (std::uint64_t h : keys) {
    const std::uint32_t owner = ring->Owner(h);
    p.ring_owner.push_back(owner);
    ++p.ring_loads[owner];
  }
  auto place_bounded = [&](std::uint64_t planned, std::vector<std::uint32_t>& owners,
                           std::vector<std::uint64_t>& loads) {
    if (o.bug_ignore_cap) {
      owners = p.ring_owner;
      loads = p.ring_loads;
      return;
    }
    routing::BoundedLoadPlacer placer(*ring, {.epsilon_permille = o.epsilon_permille}, planned);
    owners.reserve(keys.size());
    for (std::uint64_t h : keys)
      owners.push_back(placer.Place(h));
    loads.assign(placer.loads().begin(), placer.loads().end());
  };
  place_bounded(keys.size(), p.bounded_owner, p.bounded_loads);
  place_bounded(0, p.online_owner, p.online_loads);
  routing::ShardTableOptions table_options;
  table_options.shard_bits = o.shard_bits;
  table_options.bounded_load.epsilon_permille = o.epsilon_permille;
  auto table = routing::ShardTable::Build(*ring, table_options);
  TRI_ASSERT_MSG(table.ok(), "placement sim: shard table build failed");
  p.table_owner.reserve(keys.size());
  p.table_loads.assign(nodes.size(), 0);
  for (std::uint64_t h : keys) {
    const std::uint32_t owner = o.bug_ignore_cap ? ring->Owner(h) : table->Owner(h);
    p.table_owner.push_back(owner);
    ++p.table_loads[owner];
  }
  p.shard_loads.assign(nodes.size(), 0);
  for (std::uint32_t shard = 0; shard < table->shard_count(); ++shard) {
    const std::uint64_t start = static_cast<std::uint64_t>(shard) << (64 - o.shard_bits);
    ++p.shard_loads[o.bug_ignore_cap ? ring->Owner(start) : table->ShardOwner(shard)];
  }
  std::vector<Node> rendezvous_nodes(nodes.begin(), nodes.end());
  if (o.bug_zone_blind_replicas) {
    for (Node& n : rendezvous_nodes)
      n.zone.clear();  // every node its own zone
  }
  auto rendezvous = routing::Rendezvous::Build(rendezvous_nodes);
  TRI_ASSERT_MSG(rendezvous.ok(), "placement sim: rendezvous build failed");
  const std::size_t r = std::min(o.replicas, nodes.size());
  p.replicas.assign(rendezvous_keys * r, 0);
  p.replica_loads.assign(nodes.size(), 0);
  std::vector<double> scratch(nodes.size());
  for (std::size_t k = 0; k < rendezvous_keys; ++k) {
    std::span<std::uint32_t> out(p.replicas.data() + k * r, r);
    rendezvous->Choose(keys[k], out, scratch);
    for (std::uint32_t node : out)
      ++p.replica_loads[node];
  }
  return p;
}

// A key moved when its owner (by name: `map` takes an old index to the new
// one, or to UINT32_MAX for a node that left) differs.
std::size_t MovedOwners(std::span<const std::uint32_t> before, std::span<const std::uint32_t> after,
                        std::span<const std::uint32_t> map) {
  std::size_t moved = 0;
  for (std::size_t k = 0; k < before.size(); ++k)
    moved += map[before[k]] != after[k];
  return moved;
}

// Replicas in the new set of a key that were not in its old set.
std::size_t MovedReplicas(std::span<const std::uint32_t> before,
                          std::span<const std::uint32_t> after, std::size_t r,
                          std::span<const std::uint32_t> map) {
  std::size_t moved = 0;
  for (std::size_t k = 0; k + r <= after.size(); k += r) {
    for (std::size_t j = 0; j < r; ++j) {
      bool found = false;
      for (std::size_t i = 0; i < r; ++i)
        found |= map[before[k + i]] == after[k + j];
      moved += !found;
    }
  }
  return moved;
}

struct MovementSamples {
  std::vector<double> fractions, ratios, times_n;
  void Add(double moved, double total, double ideal_fraction, std::size_t n) {
    const double fraction = total == 0 ? 0 : moved / total;
    fractions.push_back(fraction);
    ratios.push_back(ideal_fraction == 0 ? 0 : fraction / ideal_fraction);
    times_n.push_back(fraction * static_cast<double>(n));
  }
  Movement Summary() const {
    Movement m;
    const double n = static_cast<double>(ratios.size());
    for (std::size_t i = 0; i < ratios.size(); ++i) {
      m.fraction_mean += fractions[i] / n;
      m.times_n_mean += times_n[i] / n;
      m.ratio_mean += ratios[i] / n;
      m.ratio_max = std::max(m.ratio_max, ratios[i]);
    }
    return m;
  }
};

// The checkers, written apart from the code they check.
std::string CheckCap(std::span<const std::uint64_t> loads, std::span<const Node> nodes,
                     std::uint64_t balls, std::uint32_t epsilon_permille) {
  const unsigned __int128 total = TotalCapacity(nodes);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    // load <= ceil(x) <=> load * d < x * d + d, with x = (1000 + e) * m * c / (1000 * C).
    const unsigned __int128 d = total * 1000;
    const unsigned __int128 lhs = static_cast<unsigned __int128>(loads[i]) * d;
    const unsigned __int128 rhs =
        static_cast<unsigned __int128>(1000 + epsilon_permille) * balls * nodes[i].capacity + d;
    if (!(lhs < rhs)) {
      return fmt::format("node '{}' (capacity {}) holds {} of {} keys, over its cap", nodes[i].name,
                         nodes[i].capacity, loads[i], balls);
    }
  }
  return "";
}

// "" or what is wrong with the replica sets (`flat`, r per key) of `nodes`.
std::string CheckReplicas(std::span<const std::uint32_t> flat, std::size_t r,
                          std::span<const Node> nodes, std::size_t zones_present, const char* who) {
  for (std::size_t k = 0; k + r <= flat.size(); k += r) {
    for (std::size_t a = 0; a < r; ++a) {
      for (std::size_t b = a + 1; b < r; ++b) {
        const Node& x = nodes[flat[k + a]];
        const Node& y = nodes[flat[k + b]];
        if (flat[k + a] == flat[k + b]) {
          return fmt::format("replica-count: {} key {} holds node '{}' twice", who, k / r, x.name);
        }
        if (zones_present >= r && x.zone == y.zone) {
          return fmt::format("replica-zones: {} key {} puts '{}' and '{}' both in {}", who, k / r,
                             x.name, y.name, x.zone);
        }
      }
    }
  }
  return "";
}

std::size_t DistinctZones(std::span<const Node> nodes) {
  std::vector<std::string_view> zones;
  for (const Node& n : nodes)
    zones.push_back(n.zone);
  std::sort(zones.begin(), zones.end());
  return static_cast<std::size_t>(std::unique(zones.begin(), zones.end()) - zones.begin());
}

std::string Row(const char* what, const LoadBalance& b) {
  return fmt::format("  {:<24} {:>8.3f} {:>8.3f}\n", what, b.max_over_avg, b.min_over_avg);
}

std::string MoveRow(const char* what, const Movement& m) {
  return fmt::format("  {:<24} {:>10.5f} {:>10.3f} {:>10.3f} {:>10.3f}\n", what, m.fraction_mean,
                     m.times_n_mean, m.ratio_mean, m.ratio_max);
}

}  // namespace

PlacementSimResult RunPlacementSim(const PlacementSimOptions& o) {
  TRI_ASSERT(o.nodes >= 2 && o.zones >= 1 && o.max_capacity >= 1 && o.replicas >= 1);
  PlacementSimResult result;
  SeededRng rng(o.seed);
  std::vector<Node> nodes;
  nodes.reserve(o.nodes);
  for (std::size_t i = 0; i < o.nodes; ++i) {
    nodes.push_back(RandomNode(rng, fmt::format("node-{}-{}", o.seed, i), o));
  }
  const std::vector<std::uint64_t> keys = KeyHashes(o.seed, o.keys);
  const std::size_t rendezvous_keys = std::min(o.rendezvous_keys, o.keys);
  const std::size_t r = std::min(o.replicas, o.nodes);
  auto fail = [&](std::string violated, std::string detail) {
    if (result.violated.empty()) {
      result.violated = std::move(violated);
      result.detail = std::move(detail);
    }
  };

  const Placement base = Place(nodes, keys, rendezvous_keys, o);
  result.ring_points = base.points;
  result.ring = Balance(base.ring_loads, nodes, keys.size());
  result.bounded = Balance(base.bounded_loads, nodes, keys.size());
  result.online = Balance(base.online_loads, nodes, keys.size());
  result.table = Balance(base.table_loads, nodes, keys.size());
  const std::uint64_t shards = std::uint64_t{1} << o.shard_bits;
  result.shards = Balance(base.shard_loads, nodes, shards);
  result.rendezvous = Balance(base.replica_loads, nodes, rendezvous_keys * r);
  std::size_t displaced = 0;
  for (std::size_t k = 0; k < keys.size(); ++k)
    displaced += base.ring_owner[k] != base.bounded_owner[k];
  result.cap_bound_keys = keys.empty() ? 0 : static_cast<double>(displaced) / keys.size();

  if (std::string bad = CheckCap(base.bounded_loads, nodes, keys.size(), o.epsilon_permille);
      !bad.empty()) {
    fail("bounded-load-cap", bad);
  }
  if (std::string bad = CheckCap(base.shard_loads, nodes, shards, o.epsilon_permille);
      !bad.empty()) {
    fail("bounded-load-cap", "shard table: " + bad);
  }
  if (std::string bad = CheckCap(base.online_loads, nodes, keys.size(), o.epsilon_permille);
      !bad.empty()) {
    fail("bounded-load-cap", "online caps: " + bad);
  }
  const std::size_t zones_present = DistinctZones(nodes);
  if (std::string bad = CheckReplicas(base.replicas, r, nodes, zones_present, "rendezvous");
      !bad.empty()) {
    fail(bad.substr(0, bad.find(':')), bad.substr(bad.find(':') + 2));
  }
  {
    routing::RingOptions ring_options;
    ring_options.vnodes_per_capacity = o.vnodes_per_capacity;
    auto ring = routing::Ring::Build(nodes, ring_options);
    std::vector<std::uint32_t> flat(rendezvous_keys * r);
    for (std::size_t k = 0; k < rendezvous_keys; ++k) {
      ring->Replicas(keys[k], std::span<std::uint32_t>(flat.data() + k * r, r));
    }
    if (std::string bad = CheckReplicas(flat, r, nodes, zones_present, "ring"); !bad.empty()) {
      fail(bad.substr(0, bad.find(':')), bad.substr(bad.find(':') + 2));
    }
  }

  MovementSamples ring_join, ring_leave, bounded_join, bounded_leave, online_join, online_leave,
      table_join, table_leave, rv_join, rv_leave;
  const double total_capacity = static_cast<double>(TotalCapacity(nodes));
  for (std::size_t t = 0; t < o.trials; ++t) {
    // A join: a new node appended, so old indexes map to themselves.
    std::vector<Node> joined = nodes;
    joined.push_back(RandomNode(rng, fmt::format("joined-{}-{}", o.seed, t), o));
    std::vector<std::uint32_t> identity(nodes.size());
    for (std::uint32_t i = 0; i < identity.size(); ++i)
      identity[i] = i;
    const Placement after_join = Place(joined, keys, rendezvous_keys, o);
    const double join_share = joined.back().capacity / (total_capacity + joined.back().capacity);
    ring_join.Add(MovedOwners(base.ring_owner, after_join.ring_owner, identity), keys.size(),
                  join_share, joined.size());
    bounded_join.Add(MovedOwners(base.bounded_owner, after_join.bounded_owner, identity),
                     keys.size(), join_share, joined.size());
    table_join.Add(MovedOwners(base.table_owner, after_join.table_owner, identity), keys.size(),
                   join_share, joined.size());
    online_join.Add(MovedOwners(base.online_owner, after_join.online_owner, identity), keys.size(),
                    join_share, joined.size());
    rv_join.Add(MovedReplicas(base.replicas, after_join.replicas, r, identity),
                static_cast<double>(rendezvous_keys * r), join_share, joined.size());
    if (std::string bad =
            CheckCap(after_join.bounded_loads, joined, keys.size(), o.epsilon_permille);
        !bad.empty()) {
      fail("bounded-load-cap", "after a join: " + bad);
    }

    // A leave: one node removed; later indexes shift down by one.
    const std::size_t gone = rng.Uniform(nodes.size());
    std::vector<Node> left;
    std::vector<std::uint32_t> map(nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i == gone) {
        map[i] = UINT32_MAX;
        continue;
      }
      map[i] = static_cast<std::uint32_t>(left.size());
      left.push_back(nodes[i]);
    }
    const Placement after_leave = Place(left, keys, rendezvous_keys, o);
    const double leave_share = nodes[gone].capacity / total_capacity;
    ring_leave.Add(MovedOwners(base.ring_owner, after_leave.ring_owner, map), keys.size(),
                   leave_share, nodes.size());
    bounded_leave.Add(MovedOwners(base.bounded_owner, after_leave.bounded_owner, map), keys.size(),
                      leave_share, nodes.size());
    table_leave.Add(MovedOwners(base.table_owner, after_leave.table_owner, map), keys.size(),
                    leave_share, nodes.size());
    online_leave.Add(MovedOwners(base.online_owner, after_leave.online_owner, map), keys.size(),
                     leave_share, nodes.size());
    rv_leave.Add(MovedReplicas(base.replicas, after_leave.replicas, r, map),
                 static_cast<double>(rendezvous_keys * r), leave_share, nodes.size());
    if (std::string bad =
            CheckCap(after_leave.bounded_loads, left, keys.size(), o.epsilon_permille);
        !bad.empty()) {
      fail("bounded-load-cap", "after a leave: " + bad);
    }
  }
  result.ring_join = ring_join.Summary();
  result.ring_leave = ring_leave.Summary();
  result.bounded_join = bounded_join.Summary();
  result.bounded_leave = bounded_leave.Summary();
  result.online_join = online_join.Summary();
  result.table_join = table_join.Summary();
  result.table_leave = table_leave.Summary();
  result.online_leave = online_leave.Summary();
  result.rendezvous_join = rv_join.Summary();
  result.rendezvous_leave = rv_leave.Summary();

  // The report.
  std::string& out = result.report;
  out += fmt::format(
      "placement seed={} nodes={} zones={} capacities=1..{} (total {}) keys={} "
      "rendezvous_keys={} replicas={} vnodes/capacity={} ring_points={} epsilon={:.3f} "
      "shards=2^{} trials={}\n",
      o.seed, o.nodes, zones_present, o.max_capacity, TotalCapacity(nodes), o.keys, rendezvous_keys,
      r, o.vnodes_per_capacity, result.ring_points, o.epsilon_permille / 1000.0, o.shard_bits,
      o.trials);
  out += fmt::format("  {:<24} {:>8} {:>8}   (load / weighted fair share)\n", "load balance", "max",
                     "min");
  out += Row("ring alone", result.ring);
  out += Row("ring, bounded loads", result.bounded);
  out += Row("  online caps", result.online);
  out += Row("shard table, keys", result.table);
  out += Row("shard table, shards", result.shards);
  out += Row("rendezvous replicas", result.rendezvous);
  out += fmt::format("  keys the cap moved off their ring owner: {} ({:.6f})\n", displaced,
                     result.cap_bound_keys);
  out += fmt::format("  {:<24} {:>10} {:>10} {:>10} {:>10}   (ideal: the share of the node)\n",
                     "moved on (mean)", "fraction", "x N", "/ideal", "/ideal max");
  out += MoveRow("join, ring alone", result.ring_join);
  out += MoveRow("join, bounded loads", result.bounded_join);
  out += MoveRow("  online caps", result.online_join);
  out += MoveRow("join, shard table", result.table_join);
  out += MoveRow("join, rendezvous", result.rendezvous_join);
  out += MoveRow("leave, ring alone", result.ring_leave);
  out += MoveRow("leave, bounded loads", result.bounded_leave);
  out += MoveRow("  online caps", result.online_leave);
  out += MoveRow("leave, shard table", result.table_leave);
  out += MoveRow("leave, rendezvous", result.rendezvous_leave);

  struct Goal {
    std::string name;
    std::string target;
    double measured;
    bool met;
  };
  const std::string load_target = fmt::format("<= {:.2f}", o.goal_max_over_avg);
  const std::string move_target = fmt::format("<= {:.2f}", o.goal_moved_over_ideal);
  auto load_goal = [&](const char* name, double measured) {
    return Goal{name, load_target, measured, measured <= o.goal_max_over_avg};
  };
  auto move_goal = [&](const char* name, double measured) {
    return Goal{name, move_target, measured, measured <= o.goal_moved_over_ideal};
  };
  const std::vector<Goal> goals = {
      load_goal("max/avg keys, bounded loads", result.bounded.max_over_avg),
      load_goal("max/avg shards, shard table", result.shards.max_over_avg),
      move_goal("moved on a join / ideal, keys", result.bounded_join.ratio_mean),
      move_goal("moved on a leave / ideal, keys", result.bounded_leave.ratio_mean),
      move_goal("moved on a join / ideal, table", result.table_join.ratio_mean),
      move_goal("moved on a leave / ideal, table", result.table_leave.ratio_mean),
  };
  out += fmt::format("  {:<32} {:>8} {:>9} {}   (moved: mean over the trials)\n", "goal", "target",
                     "measured", "");
  for (const Goal& g : goals) {
    out += fmt::format("  {:<32} {:>8} {:>9.3f} {}\n", g.name, g.target, g.measured,
                       g.met ? "met" : "MISSED");
    result.goals_met &= g.met;
  }
  if (o.require_goals && !result.goals_met) fail("goal", "a goal was missed (table above)");
  return result;
}

}  // namespace tri::sim
