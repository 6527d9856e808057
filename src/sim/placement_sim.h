#pragma once

// `tri-sim placement`: measures the routing core's placement (docs/routing.md)
// on one seeded cluster of heterogeneous capacities spread over zones. It
// reports the load balance of the ring alone, of the ring with bounded loads
// and of rendezvous replicas, and the keys moved when a node joins or leaves,
// then checks the hard bounds and prints the goal table.
//
// Checkers (a violation names one of these; the run fails):
//   bounded-load-cap  a node holds more keys than ceil((1 + epsilon) * m * c / C)
//   replica-zones     two replicas of a key share a zone while >= `replicas` zones exist
//   replica-count     a replica set has the wrong size or a node twice
//   goal              a goal missed, only with `require_goals`

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tri::sim {

struct PlacementSimOptions {
  std::uint64_t seed = 1;
  std::size_t nodes = 1'000;
  std::size_t keys = 1'000'000;
  std::size_t zones = 5;
  std::uint32_t max_capacity = 4;           // capacities uniform in [1, max_capacity]
  std::uint32_t vnodes_per_capacity = 160;  // ring points per unit of capacity
  std::uint32_t epsilon_permille = 240;     // the bounded-load cap: 1 + epsilon
  unsigned shard_bits = 18;                 // the shard table: 2^shard_bits shards
  std::size_t replicas = 3;
  std::size_t rendezvous_keys = 20'000;  // keys whose replicas are chosen (O(nodes) each)
  std::size_t trials = 10;               // joins and leaves measured, each
  bool require_goals = false;            // a missed goal fails the run
  // Deliberate bugs, to show the checkers fail: place on the ring owner
  // ignoring the cap; choose replicas ignoring zones.
  bool bug_ignore_cap = false;
  bool bug_zone_blind_replicas = false;
  // The goals (issue 12).
  double goal_max_over_avg = 1.25;
  double goal_moved_over_ideal = 1.1;
};

struct LoadBalance {
  double max_over_avg = 0;  // max over nodes of load / (m * capacity / total capacity)
  double min_over_avg = 0;
};

struct Movement {
  double fraction_mean = 0;  // fraction of keys (or replicas) moved, mean over the trials
  double times_n_mean = 0;   // the same times N (1.0 = 1/N, one node's even share)
  double ratio_mean = 0;     // moved / ideal (the share of the node that came or went), mean:
                             // the goal's measure, the expected movement over the ideal
  double ratio_max = 0;      // the worst trial
};

struct PlacementSimResult {
  std::string violated;  // "" when every check passed
  std::string detail;    // what, where
  LoadBalance ring;
  LoadBalance bounded;     // caps for the whole key set (the placement measured by the goals)
  LoadBalance online;      // the online rule: caps for the keys placed so far
  LoadBalance table;       // keys per node through the shard table
  LoadBalance shards;      // shards per node in the shard table
  LoadBalance rendezvous;  // replicas per node over their weighted share
  Movement ring_join, ring_leave, bounded_join, bounded_leave, online_join, online_leave,
      table_join, table_leave, rendezvous_join, rendezvous_leave;
  std::size_t ring_points = 0;
  double cap_bound_keys = 0;  // keys placed past their ring owner by the cap
  std::string report;         // the tables, printable
  bool goals_met = true;
};

PlacementSimResult RunPlacementSim(const PlacementSimOptions& options);

}  // namespace tri::sim
